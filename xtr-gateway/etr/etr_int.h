/*
 * The ETR's internals, shared by its files and by no one else: etr.c
 * (registration, Map-Notifies, the local table), answer.c (Map-Requests),
 * dyn.c (dynamic EIDs), away.c (EIDs that moved away), locset.c (the
 * locators a database-mapping announces).
 */
#ifndef XTR_GATEWAY_ETR_ETR_INT_H
#define XTR_GATEWAY_ETR_ETR_INT_H

#include "lib/lisp_auth.h"
#include "lib/ratelim.h"
#include "lib/replay.h"
#include "xtr-gateway/xtr.h"

#define REFRESH	    60.0 /* s between registrations */
#define BACKOFF_MAX 60.0
#define EXPIRE	    180.0 /* the Map-Server forgets an unrefreshed registration */
#define MAX_LOCS    32
#define RECORD_TTL  1440

/* One database-mapping registered with one Map-Server. */
struct etr_reg {
	struct lisp_prefix p;
	size_t dbmap, ms; /* indices in the configuration */
	uint64_t nonce;	  /* of the Map-Register awaiting its Map-Notify, 0: none */
	double last_sent, last_ack, next_at, backoff;
	uint64_t attempts;
};

/*
 * A withdrawal (Map-Register, TTL 0) waiting for its Map-Notify: sent again,
 * backing off, until the Map-Server acknowledges it (a lost one would leave
 * the registration there until it expires, 3 minutes), or a registration of
 * the same prefix to that Map-Server supersedes it.
 */
#define ETR_WITHDRAW_MAX   4096 /* pending at most; beyond, sent once */
#define ETR_WITHDRAW_TRIES 6	/* sends: 1, 2, 4, 8, 16 s apart (31 s) */
struct withdrawal {
	struct withdrawal *next;
	struct lisp_prefix p;
	struct lisp_addr ms;
	uint8_t alg;
	struct lisp_auth_key *key; /* a copy: the configuration's go at a reload */
	uint64_t nonce;
	double next_at, backoff;
	unsigned tries;
	uint8_t nloc;
	struct lisp_locator locs[];
};

/* An EID the Map-Server said now lives elsewhere (Cisco shows it as a Null0 host route). */
struct away {
	struct etr_local l; /* first: the local table's view */
	struct lisp_prefix p;
	struct lisp_addr told_by;
	double since, expires;
	uint64_t smrs;
	struct mc_locator locs[ETR_AWAY_LOCS];
};

/* A learned dynamic EID and its registrations (one per map-server). */
struct dyn {
	struct etr_local l;
	struct lisp_prefix p;
	size_t dbmap; /* its dynamic-eid's database-mapping in the configuration */
	enum etr_source source;
	char who[64]; /* the first-hop router that notified it */
	double since, last_seen;
	double leaving_since, leaving_until; /* LOCAL_F_LEAVING: see etr_dyn_leaving() */
	struct etr_reg *regs;
	size_t nregs;
};

/* A dynamic-eid of the configuration: its hosts now, its counters (kept across reloads by name). */
struct etr_policy {
	char name[XTR_SITE_NAME_MAX];
	uint32_t iid;
	size_t hosts;
	uint64_t learned, aged, refused_data, refused_limit;
};

struct etr {
	struct etr_io io;
	struct ptable *local; /* database-mappings, dynamic-eid prefixes and hosts, away EIDs */
	struct lpmh *idx;     /* the same, hashed by length, for the data plane */
	size_t ndyn, naway;
	size_t nleaving; /* hosts with LOCAL_F_LEAVING */
	const struct xtr_conf *conf;
	struct lisp_auth_key **keys; /* per map-server */
	struct replay *replay;	     /* per map-server: its unsolicited Map-Notifies */
	uint64_t started_ns;	     /* realtime clock at etr_new() */
	struct ratelim *replies;     /* map-reply rate-limit, per ITR-RLOC */
	struct log_rate rl_replies;
	struct etr_reg *regs; /* of the plain database-mappings */
	size_t nregs;
	struct etr_policy *pol; /* per dynamic-eid of conf */
	size_t npol;
	uint64_t nonce; /* the last Map-Register's: follows the realtime clock (register_nonce) */
	struct withdrawal *withdrawals; /* waiting for their Map-Notify */
	size_t nwithdrawals;
	struct etr_counters c;
	struct log_rate rl;
	struct lisp_locator locs[MAX_LOCS];
	uint8_t out[4096];
};

/* etr.c */
/* Adds p -> v to the local table and its index; 0 or -errno (v not taken). */
int etr_local_put(struct etr *e, const struct lisp_prefix *p, void *v);
/* Removes (and frees) the local table's entry for exactly p. */
void etr_local_remove(struct etr *e, const struct lisp_prefix *p);
/* Tells the daemon's glue ev about p (io.event, if set). */
void etr_event(struct etr *e, enum etr_event ev, const struct lisp_prefix *p, const char *ifname);
/* Sends r's Map-Register (TTL 0: a withdrawal) under conf and its keys. */
void etr_send_register(struct etr *e, const struct xtr_conf *conf, struct lisp_auth_key **keys,
		       struct etr_reg *r, uint32_t ttl, double now);
/* Sends r's Map-Register if it is due (a retransmission backs off). */
void etr_reg_due(struct etr *e, struct etr_reg *r, double now);

/* Prefixes gathered from the local table; free() .v after. */
struct etr_collect {
	struct lisp_prefix *v;
	size_t n;
};
/* The prefixes of the entries of kind (0: all) inside under (NULL: all); LOCAL_AWAY ones only
 * if expired at expired_at (> 0). */
struct etr_collect etr_collect(const struct etr *e, const struct lisp_prefix *under, int kind,
			       double expired_at);

/* answer.c */
/* Answers Map-Request q from src (its source port dport) with one Map-Reply, rate-limited. */
void etr_answer(struct etr *e, const struct lisp_addr *src, const struct lisp_map_request *q,
		uint16_t dport, double now);

/* dyn.c */
/* True if dynamic-eid dyn of c learns: on a lisp mobility interface or with an eid-notify key. */
bool etr_dyn_active(const struct xtr_conf *c, int dyn);
/* Deregisters (withdraw: TTL 0 under conf and keys) and forgets dynamic EID p. */
void etr_dyn_remove(struct etr *e, const struct xtr_conf *conf, struct lisp_auth_key **keys,
		    const struct lisp_prefix *p, bool withdraw, double now);
/* Counts what the data plane refused in dynamic-eid prefixes since the last call. */
void etr_dyn_fold(struct etr *e);
/* After e->conf changed: learned EIDs kept or withdrawn (with oldconf and oldkeys), policies. */
void etr_dyn_configure(struct etr *e, const struct xtr_conf *oldconf,
		       struct lisp_auth_key **oldkeys, double now);
/* Due registrations of learned EIDs; silent data-learned hosts withdrawn; refusals counted. */
void etr_dyn_tick(struct etr *e, double now);

/* away.c */
/* Record r of an unsolicited Map-Notify from map-server ms: an away entry (TTL 0: none). */
void etr_away_install(struct etr *e, const struct lisp_addr *ms, const struct lisp_eid_record *r,
		      double now);
/* Removes the away entries expired at now. */
void etr_away_expire(struct etr *e, double now);

/* locset.c */
/* The locators of database-mapping m of conf, interface addresses resolved now (MAX_LOCS). */
uint8_t etr_dbmap_locs(struct etr *e, const struct xtr_conf *conf, const struct xtr_conf_dbmap *m,
		       struct lisp_locator *out);

#endif
