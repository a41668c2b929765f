/*
 * xtr-gateway: LISP site gateway. This roles: Map-Server and
 * Map-Resolver (RFC 9301). Context struct and prototypes, grouped by file.
 */
#ifndef XTR_GATEWAY_XTR_H
#define XTR_GATEWAY_XTR_H

#include <stdbool.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <ev.h>
#include <net/if.h>

#include "lib/lisp_addr.h"
#include "lib/lisp_msg.h"
#include "lib/log.h"

#define XTR_SITE_NAME_MAX  64
#define XTR_KEY_MAX	   128
#define XTR_IFNAME_MAX	   64 /* interface names as configured (IOS names may exceed Linux's 15) */
#define XTR_LISTEN_MAX	   8
#define XTR_SOCKET_DEFAULT "/run/vmroam/xtr-gateway.sock"

/* Map-Server timers (spec/lisp-wire.md §6, §10.1) */
#define MS_REG_LIFETIME	  180.0 /* registration expiry without refresh, s */
#define MS_NOTIFY_TRIES	  7	/* first send + 6 retransmissions */
#define MS_NONCE_XTRS_MAX 4096	/* strict-nonce: xTRs (xTR-IDs, addresses) remembered per site */

/* Record TTLs (minutes) are taken up to a week (RFC 9301 sets no limit): seconds, clamped. */
#define XTR_TTL_MAX_MINUTES (7u * 24 * 60)
static inline uint32_t xtr_ttl_seconds(uint32_t ttl_minutes)
{
	return (ttl_minutes < XTR_TTL_MAX_MINUTES ? ttl_minutes : XTR_TTL_MAX_MINUTES) * 60;
}

/* Configuration (parse.c fills it, printconf.c prints it) */

struct xtr_conf_prefix {
	struct lisp_prefix p;
	bool accept_more_specifics;
};

struct xtr_conf_site {
	char name[XTR_SITE_NAME_MAX];
	char *description; /* NULL when none */
	uint8_t key[XTR_KEY_MAX];
	size_t keylen;
	bool has_key;
	bool strict_nonce;
	struct xtr_conf_prefix *prefixes;
	size_t nprefixes;
	struct lisp_addr *allowed; /* allowed-locator; none = any */
	size_t nallowed;
};

/* A locator: an address, or the first address of a family on an interface. */
struct xtr_conf_locator {
	struct lisp_addr addr; /* afi NONE for the interface form */
	char ifname[XTR_IFNAME_MAX];
	uint16_t if_afi; /* the interface form: LISP_AFI_IPV4 or _IPV6 */
	uint8_t priority, weight;
};

struct xtr_conf_locset {
	char name[XTR_SITE_NAME_MAX];
	struct xtr_conf_locator *locs;
	size_t nlocs;
};

/* database-mapping: an EID-prefix of this ETR and its locators. */
struct xtr_conf_dbmap {
	struct lisp_prefix p;
	char locset[XTR_SITE_NAME_MAX]; /* "" for the inline form */
	struct xtr_conf_locator *locs;	/* the inline form */
	size_t nlocs;
	unsigned line;
	int dyn; /* index of the dynamic-eid it belongs to, -1: a plain database-mapping */
};

/*
 * dynamic-eid NAME: hosts seen with a source inside its database-mapping
 * prefixes are registered as /32 or /128 with the mapping's locators.
 */
struct xtr_conf_dyneid {
	char name[XTR_SITE_NAME_MAX];
	uint32_t iid;
	unsigned line;
	/* eid-notify authentication-key: first-hop routers may notify EIDs of this dynamic-eid */
	uint8_t notify_key[XTR_KEY_MAX];
	size_t notify_keylen;
	bool has_notify_key;
	/* learning data-plane: the data plane learns hosts too (so without an eid-notify key) */
	bool learn_data;
	unsigned learn_timeout; /* learning timeout N: a data-learned host silent that long goes */
	unsigned host_limit;	/* host-limit N: hosts learned at once, from any source */
	unsigned notify_peer_limit; /* eid-notify peer-limit N: first-hop routers at most */
};
#define XTR_NOTIFY_PEERS_DEFAULT 64
#define XTR_NOTIFY_PEERS_MAX	 4096

#define XTR_DYN_TIMEOUT_DEFAULT	   300 /* s */
#define XTR_DYN_TIMEOUT_MIN	   10
#define XTR_DYN_TIMEOUT_MAX	   604800
#define XTR_DYN_HOST_LIMIT_DEFAULT 4096

/* interface NAME: lisp mobility DYN, lisp extended-subnet-mode */
struct xtr_conf_iface {
	char name[XTR_IFNAME_MAX];
	char mobility[XTR_SITE_NAME_MAX]; /* "" when none */
	bool extended_subnet;
	unsigned line;
};

/* ipv4|ipv6 use-petr ADDRESS [priority P weight W] */
struct xtr_conf_petr {
	struct lisp_addr addr;
	uint8_t priority, weight;
	unsigned line;
};

#define XTR_PETR_MAX	   8
#define XTR_DP_IFNAME	   "lisp0"
#define XTR_DP_MTU_DEFAULT 1500
#define XTR_DP_WORKERS_MAX 64 /* dataplane workers N */

/* map-cache PREFIX map-request|drop|native-forward */
struct xtr_conf_mapcache {
	struct lisp_prefix p;
	uint8_t act; /* enum lisp_act */
};

/* eid-table default|vrf NAME instance-id N */
struct xtr_conf_eidtable {
	uint32_t iid;
	char vrf[XTR_SITE_NAME_MAX]; /* "" for default */
};

/*
 * ipv4|ipv6 etr map-server ADDRESS key [0|hex] KEY [hash-function sha1|sha2]
 * [notify-nonce random]
 */
struct xtr_conf_ms {
	struct lisp_addr addr;
	uint8_t key[XTR_KEY_MAX];
	size_t keylen;
	uint8_t alg;	    /* LISP_ALG_HMAC_SHA256_128 (sha2, default) or _SHA1_96 (sha1) */
	bool random_nonces; /* its unsolicited Map-Notify nonces are random (a third party's) */
	unsigned line;
};

struct xtr_conf {
	struct xtr_conf_site **sites;
	size_t nsites;
	bool ms_v4, ms_v6, mr_v4, mr_v6;
	struct lisp_addr listen[XTR_LISTEN_MAX]; /* map-server address; none = wildcard */
	size_t nlisten;
	/* ETR */
	bool etr_v4, etr_v6;
	struct xtr_conf_locset *locsets;
	size_t nlocsets;
	struct xtr_conf_dbmap *dbmaps;
	size_t ndbmaps;
	struct xtr_conf_eidtable *eidtables;
	size_t neidtables;
	struct xtr_conf_ms *map_servers;
	size_t nmap_servers;
	/* ITR */
	bool itr_v4, itr_v6;
	struct lisp_addr *map_resolvers;
	unsigned *map_resolver_lines;
	size_t nmap_resolvers;
	struct xtr_conf_mapcache *mapcache;
	size_t nmapcache;
	size_t map_cache_limit; /* dataplane map-cache-limit */
	/* dynamic EIDs and the interfaces that learn them */
	struct xtr_conf_dyneid *dyneids;
	size_t ndyneids;
	struct xtr_conf_iface *ifaces;
	size_t nifaces;
	/* proxy xTR */
	struct xtr_conf_petr petrs[XTR_PETR_MAX];
	size_t npetrs;
	struct lisp_addr proxy_itr4, proxy_itr6; /* afi NONE when not a PITR */
	bool proxy_etr_v4, proxy_etr_v6;
	/* data plane */
	char dp_ifname[IF_NAMESIZE]; /* dataplane interface NAME: the EID-side TUN */
	unsigned dp_mtu;	     /* dataplane mtu N: the RLOC-side MTU */
	unsigned dp_workers;	     /* dataplane workers N (0: one per online CPU) */
	/* dataplane hold-queue-limit [per-instance-id] N: packets held for a Map-Reply */
	size_t hold_limit, hold_limit_iid;
	/* dataplane map-request-limit [per-instance-id] N: resolutions outstanding */
	size_t mr_limit, mr_limit_iid;
	/* map-reply rate-limit PPS [burst N] [total PPS]: answers per destination, all together */
	double reply_rate, reply_burst, reply_total;
	/* metrics listen ADDRESS port N (port 0: off) */
	struct lisp_addr metrics_addr;
	uint16_t metrics_port;
};

/* True if the configuration has a data-plane role (ITR, ETR, PITR or PETR). */
bool xtr_conf_dataplane(const struct xtr_conf *c);
/* True if dynamic-eid d learns hosts from the data plane (no eid-notify key, or said so). */
bool xtr_conf_learns_data(const struct xtr_conf_dyneid *d);

#define XTR_MAP_CACHE_LIMIT_DEFAULT 100000
#define XTR_HOLD_LIMIT_DEFAULT	    256
#define XTR_HOLD_LIMIT_IID_DEFAULT  64
#define XTR_HOLD_LIMIT_MAX	    4096
#define XTR_MR_LIMIT_DEFAULT	    1024
#define XTR_MR_LIMIT_IID_DEFAULT    256
#define XTR_MR_LIMIT_MAX	    16384
#define XTR_REPLY_RATE_DEFAULT	    100
#define XTR_REPLY_BURST_DEFAULT	    200
#define XTR_REPLY_TOTAL_DEFAULT	    10000
#define XTR_REPLY_RATE_MAX	    1000000
#define XTR_REPLY_TOTAL_MAX	    10000000
#define XTR_REPLY_DESTINATIONS	    4096 /* destinations each engine's limiter remembers */

/* Global counters (packets that belong to no site). */
struct xtr_counters {
	uint64_t malformed;
	uint64_t unsupported;	    /* message types or features we do not serve */
	uint64_t unknown_eid;	    /* Map-Register records in no configured site */
	uint64_t map_requests;	    /* Map-Requests received through ECM */
	uint64_t negative_not_lisp; /* answered: not a LISP EID */
	uint64_t acks_unmatched;    /* Map-Notify-Acks for no pending notify */
	/* the Map-Server/Map-Resolver's answers (map-reply rate-limit) */
	uint64_t map_request_records_ignored;	    /* records after the first of a request */
	uint64_t map_replies_rate_limited;	    /* Map-Replies not sent */
	uint64_t map_requests_forward_rate_limited; /* requests not forwarded to an ETR */
};

struct ms;

/* The daemon. */
struct xtr_daemon {
	struct ev_loop *loop;
	const char *conf_path;
	const char *ctl_path;
	const char *state_path; /* -S: the Map-Server's registrations across restarts, or NULL */
	double state_saved;	/* when it was last written */
	struct state_writer *state_writer; /* main.c: the thread that writes it */
	struct xtr_conf *conf;
	struct ms *ms;
	struct etr *etr;
	struct mapcache *mc;
	struct xtr_counters counters;
	struct xtr_net *net;
	struct xtr_dp *dpx; /* the data plane's I/O; NULL without a data-plane role */
	struct xtr_notify *notify;
	struct xtr_notify_io_state *notify_io; /* NULL when no dynamic-eid takes notifications */
	struct control *ctl;
	struct metrics *metrics;
	ev_timer tick;
	ev_signal sigterm, sigint, sighup;
};

/* metrics.c: the Prometheus listener (metrics listen ADDRESS port N) */
struct metrics;
struct metrics *metrics_new(struct xtr_daemon *d);
/* Opens, moves or closes the listener as c says; -errno if it cannot listen. */
int metrics_configure(struct metrics *m, const struct xtr_conf *c);
void metrics_free(struct metrics *m);
/* The counters in Prometheus' text format: a heap buffer (caller frees), its length in *len. */
char *metrics_render(struct xtr_daemon *d, size_t *len);
/* http.c */
#define METRICS_REQ_MAX 4096
/*
 * An HTTP request in buf (len bytes so far): 1 and its path in path (cap
 * bytes) for a complete GET; 0 if incomplete; -EOPNOTSUPP for another
 * method, -E2BIG if too long, -EINVAL if malformed.
 */
int metrics_request(const char *buf, size_t len, char *path, size_t cap);

/* conf/parse.c */
/* Reads path into a new config; on error NULL and the message ("FILE:LINE: ...") in err. */
struct xtr_conf *xtr_conf_load(const char *path, char *err, size_t errlen);
/* The same from a string (tests, fuzzing). */
struct xtr_conf *xtr_conf_parse_string(const char *name, const char *text, char *err,
				       size_t errlen);
void xtr_conf_free(struct xtr_conf *c);

/* conf/printconf.c */
/* Prints the canonical form of c (it parses back to the same config). */
void xtr_conf_print(const struct xtr_conf *c, FILE *f);

/* ms/ms.c: the Map-Server / Map-Resolver engine. No OS calls: packets leave through io. */
struct ms_io {
	/* Sends buf to dst:dport from port 4342. Returns 0 or -errno (e.g. no socket of that family). */
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	void *arg;
};

/* A new engine; counters points at the daemon's global counters (borrowed). */
struct ms *ms_new(const struct ms_io *io, struct xtr_counters *counters);
void ms_free(struct ms *ms);
/*
 * Applies a configuration (at start and on reload). Sites are matched by
 * name and keep their registrations and counters; registrations the new
 * configuration no longer allows are dropped. conf is borrowed and must
 * outlive the engine's use of it (until the next ms_configure()).
 */
void ms_configure(struct ms *ms, const struct xtr_conf *conf, double now);

/*
 * The registrations and the strict-nonce state across a restart.
 * ms_snapshot_take() copies the live registrations and each site's last
 * Map-Register nonce per xTR (a flat copy: quick, in the loop) and clears
 * the dirty mark: the copy holds the changes. ms_snapshot_write() formats
 * a snapshot and writes it to path atomically (path.tmp, fsync, rename);
 * it touches no engine state, so a writer thread may run it (0 or -errno).
 * ms_save() does both at once (and marks dirty again if the write fails);
 * ms_state_text() formats into *buf instead (caller frees; *len bytes).
 * ms_load() takes back the registrations of a saved file that are still
 * alive, whose site still exists and may still register the prefix, as if
 * their last Map-Register had just been received at its time (no
 * Map-Notify is sent), and the nonces of the sites whose key did not
 * change. A missing file is no error. ms_load returns the number of
 * registrations taken, or -errno with the reason (file and line) in err;
 * the others 0 or -errno. ms_dirty(): changed since the last snapshot
 * (new, moved, withdrawn or expired registrations, a new nonce);
 * ms_mark_dirty() sets it again after a failed write.
 */
struct ms_snapshot;
struct ms_snapshot *ms_snapshot_take(struct ms *ms, double now);
int ms_snapshot_write(const struct ms_snapshot *s, const char *path);
void ms_snapshot_free(struct ms_snapshot *s);
int ms_state_text(struct ms *ms, double now, char **buf, size_t *len);
int ms_save(struct ms *ms, const char *path, double now);
int ms_load(struct ms *ms, const char *path, double now, char *err, size_t errlen);
bool ms_dirty(const struct ms *ms);
void ms_mark_dirty(struct ms *ms);
/* Handles one UDP payload received on port 4342 from src:sport. */
void ms_input(struct ms *ms, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	      size_t len, double now);
/* Datagrams received together; ms_input_batch() handles up to MS_BATCH of them. */
#define MS_BATCH 64
struct ms_pkt {
	struct lisp_addr src;
	uint16_t sport;
	const uint8_t *buf;
	size_t len;
};
void ms_input_batch(struct ms *ms, const struct ms_pkt *pk, size_t n, double now);
/* Expires registrations and retransmits unacknowledged Map-Notifies. */
void ms_tick(struct ms *ms, double now);

/* Read access for the control socket. */
struct ms_site;
struct ms_reg;
struct ms_registrant;
size_t ms_site_count(const struct ms *ms);
/* Registered prefixes, and unsolicited Map-Notifies waiting for their ack. */
size_t ms_reg_count(const struct ms *ms);
size_t ms_pending_notifies(const struct ms *ms);
const struct ms_site *ms_site_at(const struct ms *ms, size_t i);
const struct ms_site *ms_site_by_name(const struct ms *ms, const char *name);
/* The site whose configured or registered prefixes hold p. */
const struct ms_site *ms_site_by_prefix(const struct ms *ms, const struct lisp_prefix *p);

struct ms_site_counters {
	uint64_t registrations, deregistrations, map_notifies_sent, map_notify_acks;
	uint64_t map_notify_giveups, auth_failures, allowed_locator_mismatches, prefix_rejects;
	uint64_t nonce_replays, expirations, moves, map_requests_forwarded;
	uint64_t map_requests_proxied, map_requests_negative, map_requests_unforwardable;
	uint64_t nonce_overflows; /* strict-nonce: a new xTR, MS_NONCE_XTRS_MAX known already */
};

const struct xtr_conf_site *ms_site_conf(const struct ms_site *s);
const struct ms_site_counters *ms_site_counters(const struct ms_site *s);

/* A row of "show lisp site": a configured prefix or a registered more-specific. */
struct ms_row {
	struct lisp_prefix p;
	bool configured, accept_more_specifics;
	unsigned more_specifics;
	const struct ms_reg *reg; /* NULL: not registered */
};
typedef int (*ms_row_fn)(const struct ms_row *row, void *arg);
/* Calls fn for each row of site s in prefix order. */
int ms_site_rows(const struct ms *ms, const struct ms_site *s, ms_row_fn fn, void *arg);

struct ms_reg_info {
	double first, last;
	struct lisp_addr last_by;
	bool proxy_reply, want_map_notify;
	uint32_t ttl;
};
void ms_reg_info(const struct ms_reg *r, struct ms_reg_info *out);
const struct ms_registrant *ms_reg_registrants(const struct ms_reg *r);

struct ms_registrant_info {
	struct lisp_addr addr;
	uint16_t port;
	bool has_xtr_id;
	uint8_t xtr_id[16];
	double last, expires;
	uint8_t nloc;
};
/* Fills out with r's registration and returns the next registrant of the prefix (or NULL). */
const struct ms_registrant *ms_registrant_info(const struct ms_registrant *r,
					       struct ms_registrant_info *out);
/* Locator i (< nloc) of registrant r. */
void ms_registrant_locator(const struct ms_registrant *r, uint8_t i, struct lisp_locator *out);

/* A locator of a map-cache entry (and of an away entry). */
struct mc_locator {
	/* what encapsulation reads and counts first */
	struct lisp_addr addr;
	uint8_t priority, weight;
	bool up;		 /* R bit */
	uint64_t packets, bytes; /* encapsulated to it (the data plane counts) */
	double since;
	uint64_t packets_in, bytes_in; /* decapsulated from it, for this entry's EIDs */
	uint64_t control_in;	       /* Map-Replies and SMRs it sent us */
};

/* etr/etr.c: the ETR: registration of the database-mappings, Map-Replies for them */

/* What the ETR tells the daemon's glue (to add and remove kernel routes). */
enum etr_event {
	ETR_EV_DYN_UP,	  /* a dynamic EID was learned; ifname set in across-subnet mode */
	ETR_EV_DYN_DOWN,  /* it left (moved, cleared or its dynamic-eid was removed) */
	ETR_EV_AWAY_UP,	  /* an EID of ours now lives elsewhere: route it to the data plane */
	ETR_EV_AWAY_DOWN, /* the away entry expired or the EID came back */
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
struct etr *etr_new(const struct etr_io *io);
void etr_free(struct etr *e);
/* Applies conf (borrowed until the next call): registers at once; withdraws dropped mappings. */
void etr_configure(struct etr *e, const struct xtr_conf *conf, double now);
void etr_input(struct etr *e, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	       size_t len, double now);
/* Sends due registrations and retransmissions. */
void etr_tick(struct etr *e, double now);

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
	bool registered; /* acknowledged by every map-server within their lifetime */
};
typedef int (*etr_dyn_fn)(const struct etr_dyn_info *d, void *arg);
/* Calls fn for each learned dynamic EID in prefix order. */
int etr_dyn_walk(const struct etr *e, etr_dyn_fn fn, void *arg);
size_t etr_dyn_count(const struct etr *e);
/* A dynamic-eid of the configuration: its hosts now and its counters (kept across reloads). */
struct etr_policy_info {
	const struct xtr_conf_dyneid *conf;
	bool active; /* on a lisp mobility interface, or with an eid-notify key */
	size_t hosts;
	uint64_t learned, aged, refused_data, refused_limit;
};
size_t etr_policy_count(const struct etr *e);
void etr_policy_info(const struct etr *e, size_t i, struct etr_policy_info *out);
/* The first-hop router a learned dynamic EID host came from ("" for none), or NULL if unknown. */
const char *etr_dyn_owner(const struct etr *e, const struct lisp_prefix *host);
/* The local table (see struct etr_local) for the data plane; it changes only in etr_*() calls. */
struct lpmh;
const struct lpmh *etr_local_table(const struct etr *e);
/* The data plane sent an SMR for away entry p. */
void etr_away_smr_sent(struct etr *e, const struct lisp_prefix *p);

/* The locators database-mapping m announces now (interface addresses resolved). */
uint8_t etr_dbmap_locators(struct etr *e, const struct xtr_conf_dbmap *m, struct lisp_locator *out,
			   size_t max);

/* itr/mapcache.c: the ITR's map-cache and its resolution through the Map-Resolver */
enum mc_state {
	MC_PENDING,  /* a Map-Request is out */
	MC_COMPLETE, /* locators known */
	MC_NEGATIVE, /* no locators: act says what to do */
	MC_MISS,     /* (lookups only) no entry */
};

struct mc_io {
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	int (*if_addr)(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *out);
	void (*installed)(void *arg); /* may be NULL: a Map-Reply changed the cache */
	void *arg;
};

struct mc_counters {
	uint64_t requests_sent, requests_unsendable, replies, replies_unsolicited, smrs;
	uint64_t expirations, overflows, malformed;
	uint64_t requests_limited; /* not asked: map-request-limit (total or per instance-id) */
	uint64_t records_refused;  /* Map-Reply records that answer no question we asked */
};

struct mapcache;
struct mapcache *mc_new(const struct mc_io *io);
void mc_free(struct mapcache *mc);
/* Applies conf (borrowed): capacity, static entries (added, kept or removed). */
void mc_configure(struct mapcache *mc, const struct xtr_conf *conf, double now);
/* Map-Replies and Solicit-Map-Requests received on port 4342. */
void mc_input(struct mapcache *mc, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	      size_t len, double now);
/* Retransmissions and expiry. */
void mc_tick(struct mapcache *mc, double now);
/*
 * A miss for address a of table iid (or `lig`): a pending entry and a
 * Map-Request. Returns 0, -EEXIST (already mapped), -EINPROGRESS (asked
 * less than a second ago), -ENOSPC (the cache is full) or -EBUSY (as many
 * resolutions outstanding as map-request-limit allows, in total or for iid).
 */
int mc_resolve(struct mapcache *mc, uint32_t iid, const struct lisp_addr *a, double now);
/*
 * The same for a packet from src (borrowed; NULL: none) that missed: the
 * Map-Request carries it as its Source-EID (RFC 9301 §5.3). Below a
 * learned send-map-request entry at most one a second for all it covers.
 */
int mc_resolve_from(struct mapcache *mc, uint32_t iid, const struct lisp_addr *a,
		    const struct lisp_addr *src, double now);
/* What the data plane needs of an entry; locs borrowed until the entry changes. */
struct mc_fwd {
	uint8_t state; /* enum mc_state */
	uint8_t act;
	uint8_t nloc;
	struct mc_locator *locs; /* the pipeline counts on them */
};
#define MC_BATCH 64
/* n longest-prefix lookups at once (interleaved trie walks). */
void mc_lookup_batch(const struct mapcache *mc, size_t n, const uint32_t *iid,
		     const struct lisp_addr *a, struct mc_fwd *out);

/* Our RLOC of family afi: proxy-itr, else the first locator of our database-mappings. */
bool mc_local_rloc(struct mapcache *mc, uint16_t afi, struct lisp_addr *out);
/* Removes the learned entries inside under (NULL: all); returns how many. */
int mc_clear(struct mapcache *mc, const struct lisp_prefix *under);
size_t mc_count(const struct mapcache *mc);
/* Resolutions outstanding (pending entries and SMR-invoked requests): all, or of table iid. */
size_t mc_outstanding(const struct mapcache *mc);
size_t mc_outstanding_iid(const struct mapcache *mc, uint32_t iid);
const struct mc_counters *mc_counters(const struct mapcache *mc);

struct mc_info {
	struct lisp_prefix p;
	enum mc_state state;
	uint8_t act;
	bool is_static;
	double created, expires;
	uint8_t nloc;
	const struct mc_locator *locs;
};
typedef int (*mc_walk_fn)(const struct mc_info *e, void *arg);
/* Calls fn for each entry of family afi inside under (NULL: all), in prefix order. */
int mc_walk(const struct mapcache *mc, uint16_t afi, const struct lisp_prefix *under, mc_walk_fn fn,
	    void *arg);

/* dataplane/pipeline.c: the data-plane pipeline, pure (no I/O) */
enum dp_verdict {
	DP_FORWARD, /* send: encapsulated toward next_hop, or decapsulated toward the EID side */
	DP_NATIVE,  /* forward as it is (negative entry, natively-forward) */
	DP_PUNT,    /* to the control plane: resolve the destination */
	DP_DROP,
};

enum dp_reason {
	DP_R_ENCAP,
	DP_R_DECAP,
	DP_R_NATIVE,
	DP_R_MISS,
	DP_R_PENDING,
	DP_R_NEGATIVE_DROP,
	DP_R_NO_LOCATOR,
	DP_R_NO_RLOC,
	DP_R_TOO_BIG,
	DP_R_NO_HEADROOM,
	DP_R_MALFORMED,
	DP_R_NOT_LISP,
	DP_R_AWAY,	   /* for an EID that moved away: encapsulated to its new site */
	DP_R_PETR,	   /* negative entry: encapsulated to the proxy-ETR */
	DP_R_NOT_LOCAL,	   /* decapsulated packet for no EID of ours (and not a proxy-ETR) */
	DP_R_LINK_LOCAL,   /* toward a link-local, multicast or broadcast address: never an EID */
	DP_R_TTL_EXCEEDED, /* for an away EID, but its inner TTL / hop limit ran out */
	DP_R_MAX,
};

/* Flags the pipeline sets for the control plane (the packet's verdict stands). */
#define DP_F_LEARN 0x01 /* source: an unknown host where the data plane learns: aux = source */
#define DP_F_SMR   0x02 /* decapsulated for an away EID: SMR aux (the outer source RLOC) */

#define DP_BATCH    64
#define DP_HEADROOM 64 /* room for the largest outer header (IPv6: 56 bytes) */

/* A packet buffer: the packet is buf[off .. off+len); encap grows it into the headroom. */
struct dp_pkt {
	uint8_t *buf;
	size_t off, len;
	uint32_t iid; /* in: the instance-id of the ingress (encap); out: of the packet (decap) */
	struct lisp_addr next_hop; /* out (encap): the RLOC */
	struct lisp_addr aux;	   /* see DP_F_*; in (dp_decap_payload_batch): the outer source */
	size_t inner;		   /* out: offset in buf of the inner packet */
	uint8_t ttl;		   /* in (dp_decap_payload_batch): the outer TTL / hop limit */
	uint8_t verdict;	   /* out: enum dp_verdict */
	uint8_t reason;		   /* out: enum dp_reason */
	uint8_t flags;		   /* out: DP_F_* */
};

struct dp_counters {
	uint64_t packets[DP_R_MAX], bytes[DP_R_MAX];
};

struct dp {
	const struct mapcache *mc;
	const struct lpmh *local;      /* the ETR's (etr_local_table()); NULL: no local checks */
	struct lisp_addr rloc4, rloc6; /* outer source addresses */
	unsigned mtu;		       /* largest outer packet */
	uint16_t sport_mask; /* flow-hash bits in the UDP source port (0x3fff; 0 = all of them) */
	uint32_t nonce;
	bool proxy_etr;	    /* decapsulate for any destination */
	struct mc_fwd petr; /* use-petr locators (nloc 0: none) */
	struct mc_locator petr_locs[XTR_PETR_MAX];
	double now; /* set by the caller before a batch: liveness of local EIDs */
	struct dp_counters c;
};

void dp_init(struct dp *dp, const struct mapcache *mc, const struct lisp_addr *rloc4,
	     const struct lisp_addr *rloc6, unsigned mtu);
/* Inner packets from the EID side (iid set): each gets a verdict; DP_FORWARD ones are encapsulated. */
void dp_encap_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/* Packets from the RLOC side: LISP data packets are checked and decapsulated. */
void dp_decap_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/* The same for UDP payloads (from the LISP header on) with aux and ttl from the outer header. */
void dp_decap_payload_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/* The use-petr locators of conf. */
void dp_set_petrs(struct dp *dp, const struct xtr_conf *conf);
const char *dp_reason_name(enum dp_reason r);

/* dataplane/hold.c: packets held while their destination resolves, bounded in total and per table */
struct hold_pkt {
	uint8_t *buf; /* the packet is at buf + DP_HEADROOM */
	size_t len;
	uint32_t iid;
	double at;
	bool done; /* set by the caller: sent or given up; hold_compact() removes it */
};
struct hold;
/* A queue whose buffers are slot bytes each (DP_HEADROOM of them before the packet). */
struct hold *hold_new(size_t slot);
void hold_free(struct hold *h);
/* Its limits: packets in total and per instance-id; the newest beyond a lower total go. */
void hold_configure(struct hold *h, size_t limit, size_t per_iid);
/*
 * Copies the packet pkt (len bytes, table iid). Returns 0, -ENOSPC (the
 * queue is full), -EDQUOT (iid holds its share) or -EMSGSIZE.
 */
int hold_add(struct hold *h, uint32_t iid, const uint8_t *pkt, size_t len, double now);
/* The held packets, oldest first (*n of them): borrowed until the next hold_*() call. */
struct hold_pkt *hold_pkts(struct hold *h, size_t *n);
/* Removes the packets marked done, and those held max_age or longer; returns how many aged. */
size_t hold_compact(struct hold *h, double now, double max_age);
size_t hold_count(const struct hold *h);
size_t hold_count_iid(const struct hold *h, uint32_t iid);

/* dataplane/gso.c: TCP segmentation offload between the TUN (IFF_VNET_HDR) and the pipeline */
struct gso_out {
	uint8_t **bufs;	 /* where the segments go, cap bytes each */
	size_t *lens;	 /* out: their lengths */
	size_t cap, max; /* bytes per buffer, buffers */
	size_t n;	 /* out: segments written */
};
/*
 * Cuts the packet pkt (len bytes, as read after its virtio-net header vh)
 * into ordinary packets: a TSO segment (TCPV4/TCPV6) into MSS-sized TCP
 * packets with their own headers and full checksums, a UDP segment (USO)
 * into its datagrams likewise; a plain packet whose
 * checksum the kernel left to us (NEEDS_CSUM) completed. Returns how many,
 * or -EINVAL (malformed), -EPROTONOSUPPORT (a GSO type we did not ask for),
 * -EMSGSIZE (does not fit out).
 */
int gso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, struct gso_out *out);

/* One write to the TUN: buf == NULL means pkts[0] as it is (a zero virtio-net header). */
struct gro_unit {
	struct virtio_net_hdr vh;
	const uint8_t *buf;
	size_t len;
};
/*
 * Gathers pkts[0] and the packets after it that continue its TCP flow in
 * order (same addresses, ports, ack, window, options, TOS/TTL; ACK or
 * PSH only; equal payloads but the last) into one TSO segment in buf (cap
 * bytes) with its virtio-net header in u; with udp (the TUN takes USO),
 * UDP datagrams of one flow, equal in size but the last, likewise into one
 * UDP segment. Returns how many packets u carries (1: pkts[0] alone,
 * u->buf NULL).
 */
size_t gro_build(const uint8_t *const *pkts, const size_t *lens, size_t n, struct gro_unit *u,
		 uint8_t *buf, size_t cap, bool udp);

/* net.c: UDP 4342 sockets on the libev loop */
struct xtr_net;
/* Opens the sockets the configuration asks for; fatal() when it cannot. */
struct xtr_net *xtr_net_open(struct xtr_daemon *d);
void xtr_net_close(struct xtr_net *n);
int xtr_net_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		 size_t len);
/* The first address of a family on an interface (getifaddrs). */
int xtr_net_if_addr(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *out);

/* dataplane/io.c: TUN devices, UDP 4341 and raw sockets around the pipeline */
struct xtr_dp;
struct xtr_dp_counters {
	uint64_t tun_rx, tun_tx, tun_errors, rloc_rx, rloc_tx, send_errors;
	uint64_t held, held_sent, hold_drops, native_drops, unknown_iid;
	uint64_t learn_punts, smr_sent, smr_ratelimited, route_errors;
	uint64_t hold_refused_iid; /* not held: its instance-id's share of the queue is full */
	uint64_t tun_reads, tun_tso, tun_writes, tun_gro; /* syscalls; TSO segments in, GRO out */
	uint64_t rloc_reads, rloc_gro, gso_errors;	  /* recvmmsg calls; coalesced datagrams */
	uint64_t gso_sends;				  /* UDP GSO sends (many datagrams each) */
	uint64_t oversize; /* datagrams larger than a packet buffer, dropped */
};
struct xtr_dp_tun_info {
	char name[IF_NAMESIZE];
	uint32_t iid;
	unsigned mtu;
	size_t held; /* packets of its instance-id waiting for a Map-Reply */
};
/* Opens the data plane if the configuration has a data-plane role; fatal() when it cannot. */
void xtr_dp_open(struct xtr_daemon *d);
void xtr_dp_close(struct xtr_daemon *d);
/* After a reload (old: the previous configuration): routes, PETRs, proxy-ETR. */
void xtr_dp_reconfigure(struct xtr_daemon *d, const struct xtr_conf *old);
/* Each second: outer source addresses, held packets aged. */
void xtr_dp_tick(struct xtr_daemon *d);
/* A host EID behind a first-hop router: a route toward it (the kernel's next hop to fhr). */
void xtr_dp_host_route(void *arg, const struct lisp_prefix *p, const struct lisp_addr *fhr,
		       bool add);
/* etr_io.event and mc_io.installed (arg: the daemon). */
void xtr_dp_event(void *arg, enum etr_event ev, const struct lisp_prefix *p, const char *ifname);
void xtr_dp_installed(void *arg);
/* Every worker's counters summed; false if there is no data plane. */
bool xtr_dp_stats(const struct xtr_daemon *d, struct dp_counters *pc, struct xtr_dp_counters *io);
/* The I/O counters as `show lisp dataplane` and the metrics name them. */
struct xtr_dp_named {
	const char *name;
	uint64_t v;
};
#define XTR_DP_IO_MAX 32
size_t xtr_dp_io_list(const struct xtr_dp_counters *io, struct xtr_dp_named *out, size_t max);
struct xtr_dp_worker_info {
	uint64_t eid_rx, eid_tx, rloc_rx, rloc_tx;
};
size_t xtr_dp_workers(const struct xtr_daemon *d, struct xtr_dp_worker_info *out, size_t max);
size_t xtr_dp_tuns(const struct xtr_daemon *d, struct xtr_dp_tun_info *out, size_t max);
size_t xtr_dp_held(const struct xtr_daemon *d);

/* dataplane/route.c: rtnetlink */
#define XTR_RTPROT 145 /* the protocol of our routes: ip route show proto 145 */
struct nl;
/* An rtnetlink socket in *rt (caller frees: nl_close()); 0 or -errno. */
int xtr_rt_open(struct nl **rt);
/* Adds (replacing) or deletes p via interface ifindex in table; 0 or -errno. */
int xtr_rt_route(struct nl *rt, bool add, const struct lisp_prefix *p, uint32_t table, int ifindex);
/* Deletes all routes of protocol XTR_RTPROT; how many, or -errno. */
int xtr_rt_flush(struct nl *rt);

/* notify/notify.c: the gateway's end of the eid-notify channel with first-hop routers */
struct xtr_notify_io {
	/* from: our address the FHR sends to (afi NONE: any) */
	int (*send)(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len);
	/* May be NULL: host EID p is behind first-hop router fhr (add), or not any more. */
	void (*route)(void *arg, const struct lisp_prefix *p, const struct lisp_addr *fhr,
		      bool add);
	void *arg;
};
struct xtr_notify_counters {
	uint64_t received, auth_failures, malformed, replays, refused_prefix, refused_policy;
	uint64_t misdirected;	  /* another direction or receiver: captured elsewhere */
	uint64_t stale_session;	  /* for an earlier life of ours */
	uint64_t peer_limit;	  /* refused: the dynamic-eid's eid-notify peer-limit */
	uint64_t hellos;	  /* answered */
	uint64_t answers_limited; /* Hellos and stale datagrams not answered (rate) */
};
struct xtr_notify_peer_counters {
	uint64_t received, sent, arrivals, departures, resyncs, moved_away, replays, malformed;
	uint64_t refused_prefix, refused_policy, deaths;
	uint64_t older; /* events older than what was applied, ignored */
};
struct xtr_notify_peer_info {
	const char *id, *dynamic_eid;
	uint32_t iid;
	struct lisp_addr addr;
	uint16_t port;
	bool alive;
	double last_heard;
	uint64_t session;
	size_t eids, pending;
	bool in_sync; /* the digest of its last Keepalive matches what we hold (when both quiet) */
	struct xtr_notify_peer_counters c;
};
struct xtr_notify;
/* name: ours, the sender of what we send (the host name). */
struct xtr_notify *xtr_notify_new(const struct xtr_notify_io *io, struct etr *etr,
				  const char *name);
void xtr_notify_free(struct xtr_notify *n);
/* Applies conf (borrowed until the next call): the dynamic-eids' eid-notify keys. */
void xtr_notify_configure(struct xtr_notify *n, const struct xtr_conf *conf);
/* True if some dynamic-eid has an eid-notify authentication-key: then we listen. */
bool xtr_notify_enabled(const struct xtr_conf *conf);
/* A datagram from src:sport sent to our address dst (afi NONE when not known). */
void xtr_notify_input(struct xtr_notify *n, const struct lisp_addr *src, uint16_t sport,
		      const struct lisp_addr *dst, const uint8_t *buf, size_t len, double now);
/* Keepalives, retransmissions, dead peers. Every second. */
void xtr_notify_tick(struct xtr_notify *n, double now);
/* The ETR's events: an EID that moved away is told to the FHR that reported it. */
void xtr_notify_event(struct xtr_notify *n, enum etr_event ev, const struct lisp_prefix *e,
		      double now);
const struct xtr_notify_counters *xtr_notify_counters(const struct xtr_notify *n);
/* Our session on the channel: the FHRs name it in what they send (tests use it too). */
uint64_t xtr_notify_session(const struct xtr_notify *n);
size_t xtr_notify_peer_count(const struct xtr_notify *n);
void xtr_notify_peer_info(const struct xtr_notify *n, size_t i, struct xtr_notify_peer_info *out);

/* notify/notify_io.c: its UDP sockets */
struct xtr_notify_io_state;
void xtr_notify_io_open(struct xtr_daemon *d);
void xtr_notify_io_close(struct xtr_daemon *d);
int xtr_notify_send(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len);

/* control.c */
struct control;
struct control *control_open(struct xtr_daemon *d, const char *path);
void control_close(struct control *c);

/* main.c */
/* Re-reads the configuration; 0, or -EINVAL with the reason in err (the old one stays). */
int xtr_reload(struct xtr_daemon *d, char *err, size_t errlen);

#endif /* XTR_GATEWAY_XTR_H */
