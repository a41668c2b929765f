/*
 * The Map-Server and Map-Resolver engine (ms/ms.c registrations, moves and
 * Map-Notify; ms/mr.c the Map-Resolver; ms/state.c the state file). No OS
 * calls: packets leave through struct ms_io, time comes from the caller.
 */
#ifndef XTR_GATEWAY_MS_MS_H
#define XTR_GATEWAY_MS_MS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"
#include "lib/lisp_msg.h"

struct evhist;
struct ms;
struct xtr_conf_msmr;
struct xtr_conf_ratelimit;
struct xtr_conf_site;
struct xtr_counters;

/* Map-Server timers (spec/lisp-wire.md §6, §10.1) */
#define MS_REG_LIFETIME	  180.0 /* registration expiry without refresh, s */
#define MS_NOTIFY_TRIES	  7	/* first send + 6 retransmissions */
#define MS_NONCE_XTRS_MAX 4096	/* strict-nonce: xTRs (xTR-IDs, addresses) remembered per site */
#define MS_NONCE_RECENT	  32	/* strict-nonce: an xTR's nonces taken out of order within */

struct ms_io {
	/* Sends buf to dst:dport from port 4342. Returns 0 or -errno (e.g. no socket of that family). */
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	void *arg;
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
};

/* A new engine; counters points at the daemon's global counters (borrowed). */
struct ms *ms_new(const struct ms_io *io, struct xtr_counters *counters);
/* Frees ms with its registrations and pending Map-Notifies; ms_free(NULL) is a no-op. */
void ms_free(struct ms *ms);
/*
 * Applies a configuration (at start and on reload). Sites are matched by
 * name and keep their registrations and counters; registrations the new
 * configuration no longer allows are dropped; reply limits the Map-Replies.
 * conf (the msmr part of struct xtr_conf) is borrowed and must outlive the
 * engine's use of it (until the next ms_configure()); reply is read now.
 */
void ms_configure(struct ms *ms, const struct xtr_conf_msmr *conf,
		  const struct xtr_conf_ratelimit *reply, double now);

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
/*
 * A registration went since the last snapshot (withdrawn, moved, expired):
 * write it soon. A Map-Server that crashed before would take it back from
 * the older file and answer for a VM that left, until it expired (3 min).
 */
bool ms_dirty_urgent(const struct ms *ms);
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
/* The configured sites. */
size_t ms_site_count(const struct ms *ms);
/* Registered prefixes, and unsolicited Map-Notifies waiting for their ack. */
size_t ms_reg_count(const struct ms *ms);
size_t ms_pending_notifies(const struct ms *ms);
/* The i-th site (i < ms_site_count()), or NULL; borrowed until the next ms_configure(). */
const struct ms_site *ms_site_at(const struct ms *ms, size_t i);
/* The site called name, or NULL. */
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

/* The configuration of site s (borrowed from the struct xtr_conf of ms_configure()). */
const struct xtr_conf_site *ms_site_conf(const struct ms_site *s);
/* The counters of site s (kept across reloads while the site exists). */
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
/* Fills out with registration r: first seen, last Map-Register and by whom, its flags. */
void ms_reg_info(const struct ms_reg *r, struct ms_reg_info *out);
/* The first registrant of r (walk them with ms_registrant_info()). */
const struct ms_registrant *ms_reg_registrants(const struct ms_reg *r);

struct ms_registrant_info {
	struct lisp_addr addr;
	uint16_t port;
	bool has_xtr_id;
	uint8_t xtr_id[16];
	uint64_t site_id;
	double last, expires;
	double since; /* its locators as they are: registered since (a move's time) */
	uint8_t nloc;
};
/* Fills out with r's registration and returns the next registrant of the prefix (or NULL). */
const struct ms_registrant *ms_registrant_info(const struct ms_registrant *r,
					       struct ms_registrant_info *out);
/* Locator i (< nloc) of registrant r. */
void ms_registrant_locator(const struct ms_registrant *r, uint8_t i, struct lisp_locator *out);

/* Publish/subscribe (RFC 9437): counters and read access for the control socket. */
struct ms_subscriber_counters {
	uint64_t requests;	  /* subscription requests (and renewals) taken */
	uint64_t confirmed;	  /* subscriptions confirmed (their Map-Notify acknowledged) */
	uint64_t renewed;	  /* renewals confirmed */
	uint64_t refused_auth;	  /* refused: Site-ID or ITR-RLOC not the subscriber's (ACT 5) */
	uint64_t limit_refusals;  /* refused: subscription-limit reached (ACT 4) */
	uint64_t publications;	  /* Map-Notifies of a change */
	uint64_t retransmissions; /* Map-Notifies sent again */
	uint64_t acks;		  /* Map-Notify-Acks taken */
	uint64_t ack_auth_failures;
	uint64_t giveups;      /* dropped: no Map-Notify-Ack after the tries */
	uint64_t unsubscribed; /* dropped: unsubscribed (the mapping sent, not acknowledged) */
	uint64_t expirations;  /* dropped: not renewed */
};
struct ms_pub_counters {
	uint64_t unknown_xtr_id; /* subscriptions from an xTR-ID no subscriber has (ACT 5) */
	uint64_t no_xtr_id;	 /* the N bit without an xTR-ID: answered, nothing subscribed */
	uint64_t not_lisp;	 /* subscriptions to an EID in no site: answered, none taken */
	uint64_t unsubscribes;	 /* unsubscription requests */
};
/* A subscription's nonces go on this far above those in the state file after a restart. */
#define MS_SUB_NONCE_GAP 4096
struct ms_subscriber;
size_t ms_sub_count(const struct ms *ms);
size_t ms_subscriber_count(const struct ms *ms);
/* The i-th subscriber, its counters and subscriptions held; NULL past the last. */
const struct ms_subscriber *ms_subscriber_at(const struct ms *ms, size_t i,
					     const struct ms_subscriber_counters **c,
					     size_t *nsubs);
const char *ms_subscriber_name(const struct ms_subscriber *w);
unsigned ms_subscriber_limit(const struct ms_subscriber *w);
const struct ms_pub_counters *ms_pub_counters(const struct ms *ms);
struct ms_sub_info {
	struct lisp_prefix p;
	const char *subscriber;
	uint8_t xtr_id[16];
	bool has_site_id, active;
	uint64_t site_id, nonce, publications;
	struct lisp_addr itr;
	uint16_t port;
	double created, expires;
	const char
		*outstanding; /* what waits for its ack: NULL, confirm, publication, unsubscribe */
	int tries;
};
typedef int (*ms_sub_fn)(const struct ms_sub_info *s, void *arg);
/* Calls fn for every subscription, in prefix order; non-zero stops. */
int ms_sub_walk(const struct ms *ms, ms_sub_fn fn, void *arg);

#endif
