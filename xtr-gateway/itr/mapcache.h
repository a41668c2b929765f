/*
 * The ITR's map-cache and its resolution through the Map-Resolver
 * (itr/mapcache.c): what the daemon, the data plane and the control socket
 * use of it.
 */
#ifndef XTR_GATEWAY_ITR_MAPCACHE_H
#define XTR_GATEWAY_ITR_MAPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

struct evhist;
struct xtr_conf;
struct xtr_conf_itr;

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
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
};

struct mc_counters {
	uint64_t requests_sent, requests_unsendable, replies, replies_unsolicited, smrs;
	uint64_t expirations, overflows, malformed;
	uint64_t requests_limited; /* not asked: map-request-limit (total or per instance-id) */
	uint64_t records_refused;  /* Map-Reply records that answer no question we asked */
	/* publish/subscribe (RFC 9437) */
	uint64_t subs_requested;       /* Map-Requests that subscribed */
	uint64_t subs_confirmed;       /* confirmations taken */
	uint64_t subs_unconfirmed;     /* requests never confirmed (a Map-Server without it) */
	uint64_t subs_refused;	       /* refusals (ACT 4 or 5) */
	uint64_t publications;	       /* publications taken */
	uint64_t publications_refused; /* Map-Notifies refused (auth, nonce, sender, record) */
	uint64_t notify_acks_sent;
	uint64_t unsubscribes;
	/* RLOC-probing */
	uint64_t probes_sent, probe_replies;
	uint64_t rlocs_down, rlocs_up; /* locators the probes took down, brought back */
	uint64_t probe_overflows;      /* locator addresses not probed: PROBE_RLOCS watched */
};

struct mapcache;
/* A new, empty cache; io is copied (its arg borrowed). Caller frees: mc_free(). */
struct mapcache *mc_new(const struct mc_io *io);
/* Frees mc and its entries; NULL is a no-op. */
void mc_free(struct mapcache *mc);
/*
 * Applies conf, the ITR part of the configuration: capacity, map-resolvers,
 * static entries (added, kept or removed). mc_local_rloc() finds our RLOCs
 * in local (proxy-itr, database-mappings, locator-sets). Both borrowed.
 */
void mc_configure(struct mapcache *mc, const struct xtr_conf_itr *conf,
		  const struct xtr_conf *local, double now);
/*
 * Whether a Map-Notify received from src is the ITR's: it confirms one of
 * our subscribing requests or publishes for one of our subscriptions
 * (else it is the ETR's, about its registrations).
 */
bool mc_takes_notify(struct mapcache *mc, const struct lisp_addr *src, const uint8_t *buf,
		     size_t len);
/* Map-Replies, Solicit-Map-Requests and our subscriptions' Map-Notifies received on port 4342. */
void mc_input(struct mapcache *mc, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	      size_t len, double now);
/* Retransmissions and expiry (RLOC-probing too). */
void mc_tick(struct mapcache *mc, double now);
/* RLOC-probing alone (what is due now): the daemon calls it more often than mc_tick(). */
void mc_probe_tick(struct mapcache *mc, double now);
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
/* n longest-prefix lookups at once (interleaved trie walks). */
void mc_lookup_batch(const struct mapcache *mc, size_t n, const uint32_t *iid,
		     const struct lisp_addr *a, struct mc_fwd *out);

/* Our RLOC of family afi: proxy-itr, else the first locator of our database-mappings. */
bool mc_local_rloc(struct mapcache *mc, uint16_t afi, struct lisp_addr *out);
/* Removes the learned entries inside under (NULL: all); returns how many. */
int mc_clear(struct mapcache *mc, const struct lisp_prefix *under);
/* Entries in the cache (learned, pending and static). */
size_t mc_count(const struct mapcache *mc);
/* Resolutions outstanding (pending entries and SMR-invoked requests): all, or of table iid. */
size_t mc_outstanding(const struct mapcache *mc);
size_t mc_outstanding_iid(const struct mapcache *mc, uint32_t iid);
/* Its counters (borrowed). */
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
/* Called by mc_walk() for each entry (e borrowed); non-zero stops the walk. */
typedef int (*mc_walk_fn)(const struct mc_info *e, void *arg);
/* Calls fn for each entry of family afi inside under (NULL: all), in prefix order. */
int mc_walk(const struct mapcache *mc, uint16_t afi, const struct lisp_prefix *under, mc_walk_fn fn,
	    void *arg);

/* Our subscriptions (RFC 9437). */
size_t mc_sub_count(const struct mapcache *mc);
struct mc_sub_info {
	struct lisp_prefix p;
	struct lisp_addr ms;
	uint64_t last, publications;
	double since;
};
typedef int (*mc_sub_fn)(const struct mc_sub_info *s, void *arg);
int mc_sub_walk(const struct mapcache *mc, mc_sub_fn fn, void *arg);

#endif /* XTR_GATEWAY_ITR_MAPCACHE_H */
