/*
 * The ETR's interface (RFC 9301 §8.2): registration of the
 * database-mappings and learned dynamic EIDs with the Map-Servers (etr.c),
 * Map-Replies for them (answer.c), dynamic EIDs (dyn.c), away entries for
 * EIDs that moved to another site (away.c), and the local table the data
 * plane looks up. No OS calls: packets leave through struct etr_io.
 */
#ifndef XTR_GATEWAY_ETR_ETR_H
#define XTR_GATEWAY_ETR_ETR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"
#include "lib/lisp_msg.h"

struct evhist;
struct lpmh;
struct mc_locator;
struct xtr_conf;
struct xtr_conf_dbmap;
struct xtr_conf_dyneid;
struct xtr_conf_locator;

/* What the ETR tells the daemon's glue (to add and remove kernel routes). */
enum etr_event {
	ETR_EV_DYN_UP,	   /* a dynamic EID was learned; ifname set in across-subnet mode */
	ETR_EV_DYN_DOWN,   /* it left (moved, cleared or its dynamic-eid was removed) */
	ETR_EV_AWAY_UP,	   /* an EID of ours now lives elsewhere: route it to the data plane */
	ETR_EV_AWAY_DOWN,  /* the away entry expired or the EID came back */
	ETR_EV_HOLD_START, /* a host's VM is leaving: its packets are held (etr_dyn_hold_next()) */
	ETR_EV_HOLD_END,   /* a leaving host is no longer held (stays, expired, gone, moved) */
};

struct etr_io {
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	/* The first address of family afi on interface ifname; 0 or -ENOENT. */
	int (*if_addr)(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *out);
	/* May be NULL. ifname: the mobility interface of an across-subnet dynamic EID, else NULL. */
	void (*event)(void *arg, enum etr_event ev, const struct lisp_prefix *p,
		      const char *ifname);
	void *arg;
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
};

struct etr_counters {
	uint64_t registers_sent, register_timeouts, notifies, notify_auth_failures;
	uint64_t notifies_unmatched, requests_answered, requests_not_ours, malformed, unsupported;
	uint64_t moved_notifies, notify_acks_sent;
	uint64_t dyn_learned, dyn_refused, dyn_overflows, dyn_moved, dyn_cleared, away_overflows;
	uint64_t dyn_refused_data; /* a dynamic-eid that does not learn from data: packets */
	uint64_t dyn_aged;	   /* data-learned hosts withdrawn after their learning timeout */
	uint64_t replies_rate_limited;	  /* Map-Replies not sent: map-reply rate-limit */
	uint64_t request_records_ignored; /* EID-records after a Map-Request's first */
	uint64_t notifies_repeated; /* unsolicited Map-Notifies taken before: acked, not applied */
	uint64_t notifies_stale;    /* refused: nonce below the replay window or too old */
	uint64_t withdrawals_unacked; /* withdrawals no Map-Server acknowledged (after retries) */
	uint64_t leaving, leaving_stayed, leaving_expired, leaving_moved; /* migration holds */
	uint64_t
		leaving_refused; /* a leaving notice for no host of ours or without migration-hold */
};

/*
 * The ETR's local table, read by the data plane (one longest-prefix
 * lookup gives what an address is to this site): the value of every entry
 * starts with struct etr_local.
 */
enum etr_local_kind {
	LOCAL_DB = 1,	  /* inside a database-mapping */
	LOCAL_DYN_POLICY, /* inside a dynamic-eid prefix, host not (yet) known */
	LOCAL_DYN_HOST,	  /* a learned dynamic EID */
	LOCAL_AWAY,	  /* an EID that moved away: forward to its new locators */
};

#define ETR_AWAY_LOCS 8
#define ETR_DYN_MAX   65536 /* learned dynamic EIDs (fixed capacity) */
#define ETR_AWAY_MAX  65536 /* away entries */
#define ETR_DB_MAX    4096  /* database-mapping and dynamic-eid prefixes */

/* LOCAL_DYN_POLICY: its data plane learns nothing (off, or host-limit reached): packets counts */
#define LOCAL_F_NO_LEARN 0x01
/* LOCAL_DYN_HOST: its VM paused to leave (a live migration's switchover): hold its packets */
#define LOCAL_F_LEAVING	 0x02

struct etr_local {
	uint8_t kind;
	uint8_t nloc;		 /* LOCAL_AWAY: the new locators */
	uint8_t flags;		 /* LOCAL_F_* (the control plane's, read by the data plane) */
	struct mc_locator *locs; /* LOCAL_AWAY */
	double last_packet;	 /* LOCAL_DYN_HOST and _AWAY: written by the data plane */
	double last_from;	 /* LOCAL_DYN_HOST: its last packet (sent by it), likewise */
	uint64_t packets;	 /* LOCAL_DYN_POLICY: refused packets, counted once a second */
};

enum etr_source {
	ETR_SRC_DATA,	 /* the data plane's source check */
	ETR_SRC_FHR,	 /* a first-hop router's notification */
	ETR_SRC_CONTROL, /* an operator */
};

struct etr;
/* A new ETR sending through io (copied); configure it before use. Caller frees: etr_free(). */
struct etr *etr_new(const struct etr_io *io);
/* Deregisters nothing: forgets everything; etr_free(NULL) is a no-op. */
void etr_free(struct etr *e);
/*
 * Applies conf (borrowed until the next call): registers at once; withdraws dropped mappings.
 * The whole config, unlike the other engines: the ETR reads most of it (database-mappings,
 * locator-sets, map-servers, dynamic-eids, eid-tables, interfaces, map-reply rate-limit).
 */
void etr_configure(struct etr *e, const struct xtr_conf *conf, double now);
/* Handles one UDP payload received on port 4342 from src:sport (Map-Notify, Map-Request, ECM). */
void etr_input(struct etr *e, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	       size_t len, double now);
/* Sends due registrations and retransmissions. */
void etr_tick(struct etr *e, double now);

/* The counters (borrowed, live). */
const struct etr_counters *etr_counters(const struct etr *e);
struct etr_reg_info {
	struct lisp_prefix p;
	const struct xtr_conf_dbmap *dbmap;
	struct lisp_addr map_server;
	double last_sent, last_ack;
	uint64_t attempts;
	bool registered; /* acknowledged within the Map-Server's 3-minute lifetime */
};
/* Registrations: one per (database-mapping, map-server). */
size_t etr_reg_count(const struct etr *e);
/* Fills out with registration i (< etr_reg_count()); its pointers borrow the configuration. */
void etr_reg_info(const struct etr *e, size_t i, struct etr_reg_info *out);
/* Away entries: EIDs the Map-Server told us now live at other locators. */
struct etr_away_info {
	struct lisp_prefix p;
	struct lisp_addr told_by;
	double since, expires, last_packet;
	uint64_t packets, smrs;
	uint8_t nloc;
	const struct mc_locator *locs;
};
typedef int (*etr_away_fn)(const struct etr_away_info *a, void *arg);
/* Calls fn for each away entry in prefix order until it returns non-zero (returned). */
int etr_away_walk(const struct etr *e, etr_away_fn fn, void *arg);
/* The away entry for exactly p: 0, or -ENOENT. */
int etr_away_get(const struct etr *e, const struct lisp_prefix *p, struct etr_away_info *out);

/*
 * Dynamic EIDs. Every detection source calls etr_dyn_learn(): address a of
 * table iid was seen at this site. Returns 1 (new: registered at once), 0
 * (known: its liveness refreshed; only a first-hop router or an operator
 * changes who owns it, never the data plane), -ENOENT (in no dynamic-eid
 * that is on a lisp mobility interface or has an eid-notify key), -EPERM
 * (ETR_SRC_DATA in a dynamic-eid that does not learn from data) or -ENOSPC
 * (its host-limit or ETR_DYN_MAX reached). Hosts learned from data are
 * withdrawn by etr_tick() when silent for the dynamic-eid's learning timeout.
 */
int etr_dyn_learn(struct etr *e, uint32_t iid, const struct lisp_addr *a, enum etr_source src,
		  const char *who, double now);
/*
 * A first-hop router says host departed, and we do not hold it: an earlier
 * life of ours (we restarted since) may have registered it, so it is
 * withdrawn at the map-servers anyway (they honour a withdrawal only from
 * the xTR that registered it). 1 if withdrawn, 0 if held, away or outside
 * our dynamic-eids.
 */
int etr_dyn_withdraw(struct etr *e, const struct lisp_prefix *host, double now);
/* Forgets the dynamic EIDs inside under (NULL: all), deregistering them; returns how many. */
int etr_dyn_clear(struct etr *e, const struct lisp_prefix *under, double now);
struct etr_dyn_info {
	struct lisp_prefix p;
	const char *policy; /* the dynamic-eid's name */
	const struct xtr_conf_dbmap *dbmap;
	const char *ifname; /* its lisp mobility interface */
	enum etr_source source;
	const char *who; /* the first-hop router that notified it, "" for none */
	double since, last_seen, last_packet;
	double leaving_since; /* its first-hop router said its VM is leaving (0: not) */
	double leaving_until; /* and until when its packets are held */
	bool registered;      /* acknowledged by every map-server within their lifetime */
};
typedef int (*etr_dyn_fn)(const struct etr_dyn_info *d, void *arg);
/* Calls fn for each learned dynamic EID in prefix order. */
int etr_dyn_walk(const struct etr *e, etr_dyn_fn fn, void *arg);
/* How many dynamic EIDs are learned now. */
size_t etr_dyn_count(const struct etr *e);
/* A dynamic-eid of the configuration: its hosts now and its counters (kept across reloads). */
struct etr_policy_info {
	const struct xtr_conf_dyneid *conf;
	bool active; /* on a lisp mobility interface, or with an eid-notify key */
	size_t hosts;
	uint64_t learned, aged, refused_data, refused_limit;
};
/* The dynamic-eids of the configuration: how many, and i (< etr_policy_count()) of them. */
size_t etr_policy_count(const struct etr *e);
void etr_policy_info(const struct etr *e, size_t i, struct etr_policy_info *out);
/*
 * A first-hop router says host's VM paused to leave (leaving: a live
 * migration's switchover), or that it runs here again (!leaving). While it
 * is leaving the data plane holds its packets, until the Map-Server says
 * where it went (a Map-Notify: an away entry), it stays, or the dynamic-eid's
 * migration-hold time ends (etr_tick()). Returns 1 if changed, 0 if it was so
 * already, -ENOENT (not a learned host) or -EPERM (its dynamic-eid has no
 * migration-hold).
 */
int etr_dyn_leaving(struct etr *e, const struct lisp_prefix *host, bool leaving, double now);
/* When the first hold of a leaving host ends (unix time), 0 if none is held. */
double etr_dyn_hold_next(const struct etr *e);
/* Ends the holds whose time is over at now (etr_tick() does it too, each second). */
void etr_dyn_hold_expire(struct etr *e, double now);
/* A learned host's quota of held packets and bytes (its dynamic-eid's): 0, or -ENOENT. */
int etr_dyn_hold_quota(const struct etr *e, const struct lisp_prefix *host, size_t *packets,
		       size_t *bytes);
/* The first-hop router a learned dynamic EID host came from ("" for none), or NULL if unknown. */
const char *etr_dyn_owner(const struct etr *e, const struct lisp_prefix *host);
/* The local table (see struct etr_local) for the data plane; it changes only in etr_*() calls. */
const struct lpmh *etr_local_table(const struct etr *e);
/* The data plane sent an SMR for away entry p. */
void etr_away_smr_sent(struct etr *e, const struct lisp_prefix *p);

/*
 * The configured locators database-mapping m of c announces: those of its
 * locator-set if it names one, else its own; *n of them, borrowed from c.
 * Interface locators (addr.afi LISP_AFI_NONE) are left to the caller.
 */
const struct xtr_conf_locator *etr_locset_of(const struct xtr_conf *c,
					     const struct xtr_conf_dbmap *m, size_t *n);

#endif
