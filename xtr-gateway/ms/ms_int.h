/*
 * The Map-Server's internals, shared by ms/ms.c (registrations, moves,
 * Map-Notify), ms/mr.c (the Map-Resolver) and ms/state.c (the state
 * file). Included only inside ms/; the interface is ms/ms.h.
 */
#ifndef XTR_GATEWAY_MS_MS_INT_H
#define XTR_GATEWAY_MS_MS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "xtr-gateway/xtr.h"

#define MS_LOCS_MAX 255
#define MS_MSG_MAX  65536

/* A registered locator, kept compact: a million registrations are the design point. */
struct ms_loc {
	struct lisp_addr addr;
	uint8_t priority, weight, mpriority, mweight;
	bool reachable;
};

/* One ETR's registration of a prefix (several for a multihomed site). */
struct ms_registrant {
	struct ms_registrant *next;
	struct ms_reg *reg;
	double last;
	double since;	     /* its locators as they are: registered since (a move's time) */
	struct ms_loc *more; /* locators after the first: nloc - 1 of them */
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint16_t port;
	uint32_t heap_idx;
	uint32_t life; /* seconds: expires at last + life */
	uint8_t nloc;
	uint8_t alg; /* the algorithm its Map-Registers are signed with: its Map-Notifies use it */
	bool has_xtr_id;
	uint64_t site_id; /* of its Map-Registers (with its xTR-ID); 0: none */
	struct ms_loc loc1;
};

struct ms_reg {
	struct lisp_prefix p;
	struct ms_site *site;
	double first;
	struct ms_registrant *regs;
	uint32_t ttl;
	bool proxy_reply, want_map_notify;
};

/* strict-nonce: the last Map-Register nonce of one xTR (by xTR-ID, else by address). */
/*
 * strict-nonce: what one xTR sent. Its nonces grow, but Map-Registers sent
 * together (one per EID) may arrive out of order: the last MS_NONCE_RECENT
 * taken are remembered, and one above the floor and not among them is new.
 */
struct nonce_seen {
	struct nonce_seen *next; /* in its hash chain */
	bool by_xtr_id;
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint64_t nonce; /* the highest taken (the state file keeps it: the floor after a restart) */
	uint64_t floor; /* at or below: refused */
	uint64_t recent[MS_NONCE_RECENT];
	uint8_t nrecent;
};

#define MS_NONCE_BUCKETS 256

struct ms_site {
	char name[XTR_SITE_NAME_MAX];
	const struct xtr_conf_site *conf;
	struct lisp_auth_key *key;
	struct ms_site_counters c;
	struct nonce_seen **nonces;	/* MS_NONCE_BUCKETS chains, NULL until the first one */
	size_t nnonces;			/* at most MS_NONCE_XTRS_MAX */
	uint8_t nonce_key[XTR_KEY_MAX]; /* the key they came with: a new key starts afresh */
	size_t nonce_keylen;
	bool alive;
};

/* A configured eid-prefix, the value of ms->cfg. */
struct ms_cfg {
	struct lisp_prefix p;
	struct ms_site *site;
	bool ams;
};

/* A Map-Request of a receive batch, decoded ahead (ms_input_batch). */
struct ms_pre {
	struct lisp_ecm e;
	struct lisp_map_request req;
	size_t slot; /* of its first EID in the batched lookup */
	bool ok;
};

/* An unsolicited Map-Notify waiting for its Map-Notify-Ack. */
struct ms_notify {
	struct ms_notify *next;
	struct ms_site *site;
	uint64_t nonce;
	struct lisp_addr dst;
	struct lisp_prefix eid; /* of its record: a newer notify of it to dst replaces this one */
	int sent;
	double next_at;
	size_t len;
	uint8_t msg[];
};

/* Publish/subscribe (ms/pubsub.c) */
#define MS_PUB_TRIES	   4	   /* sends of a Map-Notify to a subscriber, then it is dropped */
#define MS_SUB_MAX	   1000000 /* subscriptions in all */
#define MS_SUB_GRACE	   60	   /* s a subscription outlives the TTL it was answered with */
#define MS_SUB_PENDING_MAX 256	   /* a subscriber's subscriptions not confirmed yet */

/* A configured subscriber (subscriber NAME), kept by name across reloads. */
struct ms_subscriber {
	char name[XTR_SITE_NAME_MAX];
	const struct xtr_conf_subscriber *conf;
	struct lisp_auth_key *key;
	struct ms_subscriber_counters c;
	size_t nsubs;
	size_t npending; /* of them, not confirmed yet (at most MS_SUB_PENDING_MAX) */
	bool alive;
};

enum {
	SUB_OUT_NONE,
	SUB_OUT_CONFIRM, /* confirms a (new or renewed) subscription: the request's nonce */
	SUB_OUT_PUBLISH, /* a change */
	SUB_OUT_PROBE,	 /* the mapping, after an unsubscription: acknowledged, it stays */
};

/* The subscriptions to one prefix (the value of ms->subs). */
struct ms_subs {
	struct lisp_prefix p;
	struct ms_sub *list;
};

/* One xTR's subscription to a prefix. */
struct ms_sub {
	struct ms_sub *next;	      /* of the same prefix */
	struct ms_sub *onext, *oprev; /* ms->outstanding: a Map-Notify waits for its ack */
	struct ms_subs *at;
	struct ms_subscriber *who;
	uint8_t xtr_id[16];
	uint64_t site_id;
	bool has_site_id;
	bool active;	    /* confirmed (its confirmation acknowledged) */
	bool out_withdraws; /* the outstanding publication says the prefix is gone */
	uint8_t out;	    /* SUB_OUT_* */
	int sent;	    /* sends of the outstanding one */
	uint16_t port, out_port;
	struct lisp_addr itr,
		out_dst; /* where its publications go; where the outstanding one went */
	uint64_t nonce;	 /* of the last publication (the confirmed one: the base) */
	uint64_t out_nonce;
	uint32_t life; /* s, from the TTL it was answered with */
	double created, expires, next_at;
	uint64_t publications;
	size_t len;
	uint8_t *msg;
};

/* ms/pubsub.c */
/*
 * The subscription part of a Map-Request with the N bit from src, about
 * eid (reg: its longest registered match, or NULL), whose answers go to
 * port dport: 0 to answer it as usual, an ACT (4, 5) to answer with
 * instead, or -1 for no answer at all (an unsubscription).
 */
int ms_pub_request(struct ms *ms, const struct lisp_addr *src, const struct lisp_map_request *req,
		   const struct lisp_prefix *eid, const struct ms_reg *reg, uint16_t dport,
		   double now);
/* Registered prefix p changed (new locators, withdrawn, expired): tell its subscribers. */
void ms_pub_changed(struct ms *ms, const struct lisp_prefix *p, double now);
/* A Map-Notify-Ack (decoded m of buf): true if it was a subscriber's (handled, counted). */
bool ms_pub_ack(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf, size_t len,
		const struct lisp_map_notify *m, double now);
/* Retransmissions, give-ups and expiry. */
void ms_pub_tick(struct ms *ms, double now);
void ms_pub_configure(struct ms *ms, const struct xtr_conf_msmr *conf);
/* The state file's S lines: the confirmed subscriptions (ms/state.c). */
void ms_pub_format(const struct ms *ms, FILE *f);
/*
 * A saved S line, split into words: 1 (taken, or skipped: expired, its
 * subscriber gone or no longer allowing it, a duplicate) or -EINVAL.
 * Without apply, only checked. Its nonce goes on from MS_SUB_NONCE_GAP
 * above the saved one (publications after the last save are not in it).
 */
int ms_pub_load(struct ms *ms, char **w, size_t n, double now, bool apply);
void ms_pub_free(struct ms *ms);

/* ms/mr.c */
/*
 * Fills rec (its locators in locs, MS_LOCS_MAX) with what the mapping
 * system answers for eid, whose longest registered match is reg (or
 * NULL): the registration's locators, or a negative answer inside a site;
 * false for an EID in no site of ours.
 */
bool ms_answer_record(const struct ms *ms, const struct lisp_prefix *eid, const struct ms_reg *reg,
		      struct lisp_locator *locs, struct lisp_eid_record *rec);
/*
 * Whether an answer (what) may go to dst now: map-reply rate-limit, per
 * destination and in all. A refusal is counted in *refused and logged.
 */
bool ms_answer_allowed(struct ms *ms, const struct lisp_addr *dst, double now, uint64_t *refused,
		       const char *what);
/* rec gets reg's prefix, TTL and locators (every registrant's, each once) in locs. */
void ms_reg_record(const struct ms *ms, const struct ms_reg *reg, struct lisp_locator *locs,
		   struct lisp_eid_record *rec);

struct ms {
	struct ms_io io;
	struct xtr_counters *gc;
	const struct xtr_conf_msmr *conf;
	struct ms_site **sites;
	size_t nsites;
	struct ptable *cfg;	     /* configured prefixes -> struct ms_cfg */
	struct ptable *regs;	     /* registered prefixes -> struct ms_reg */
	struct ms_registrant **heap; /* by expiry */
	size_t nheap, capheap;
	struct ms_notify *notifies;
	/* publish/subscribe */
	struct ms_subscriber **subscribers;
	size_t nsubscribers;
	struct ptable *subs; /* prefix -> struct ms_subs */
	size_t nsub;
	struct ms_sub *outstanding;
	double sub_scan; /* the next expiry scan */
	struct ms_pub_counters pc;
	struct log_rate rl_pub;
	struct lisp_locator pub_locs[MS_LOCS_MAX];
	bool dirty;  /* registrations or nonces changed since the last snapshot */
	bool urgent; /* and one of them went (withdrawn, moved, expired) */
	struct log_rate rl_bad, rl_auth, rl_prefix, rl_limit;
	struct ratelim *rl;    /* answers per destination (map-reply rate-limit) */
	uint64_t notify_nonce; /* of the last unsolicited Map-Notify (notify_nonce()) */
	struct lisp_locator locs[MS_LOCS_MAX];
	uint8_t acked[65536]; /* the accepted records of a Map-Register */
	struct ms_pre pre[MS_BATCH];
	uint8_t out[MS_MSG_MAX];
};

static inline double ms_expires(const struct ms_registrant *r)
{
	return r->last + r->life;
}

/*
 * Whether registrants a and b are xTRs of one site (RFC 9301: the Site-ID
 * groups them): both sent the same Site-ID, not 0. Their registrations of
 * a host merge: neither is a move.
 */
static inline bool ms_same_site(const struct ms_registrant *a, const struct ms_registrant *b)
{
	return a->site_id && a->site_id == b->site_id;
}

static inline const struct ms_loc *ms_loc_at(const struct ms_registrant *r, uint8_t i)
{
	return i == 0 ? &r->loc1 : &r->more[i - 1];
}

/*
 * Whether xTR a is xTR b: an xTR is its xTR-ID when it sent one (has_id),
 * else its address. Same xTR-ID, or same address and neither has one.
 */
static inline bool ms_same_xtr(bool a_has_id, const uint8_t *a_id, const struct lisp_addr *a_addr,
			       bool b_has_id, const uint8_t *b_id, const struct lisp_addr *b_addr)
{
	return b_has_id ? a_has_id && memcmp(a_id, b_id, 16) == 0
			: !a_has_id && lisp_addr_equal(a_addr, b_addr);
}

/* ms/ms.c */
/* Sets r's locators to l[0..n) (copied; the previous ones are freed). */
void ms_set_locs(struct ms_registrant *r, const struct lisp_locator *l, uint8_t n);
/* Fills l with the registered locator m (one address). */
void ms_loc_export(const struct ms_loc *m, struct lisp_locator *l);
/* Adds r, a new registrant (linked in by the caller), to the expiry heap. */
void ms_heap_push(struct ms *ms, struct ms_registrant *r);
/* The registrant of reg that is the given xTR (see ms_same_xtr()), or NULL. */
struct ms_registrant *ms_registrant_find(struct ms_reg *reg, bool has_xtr_id, const uint8_t *xtr_id,
					 const struct lisp_addr *addr);
/*
 * The configured prefix that allows p: p itself, or the longest covering
 * one with accept-more-specifics; NULL if none.
 */
struct ms_cfg *ms_cfg_allowing(const struct ms *ms, const struct lisp_prefix *p);
/* Whether site may register locs[0..n) (its allowed-locator list, if any). */
bool ms_locs_allowed(const struct ms_site *site, const struct lisp_locator *locs, uint8_t n);
/* Forgets site's nonces if its key changed since they were seen. */
void ms_nonces_sync_key(struct ms_site *site);
/*
 * The strict-nonce entry of an xTR (xtr_id when by_xtr_id, else addr) in
 * site; with add, a new one (nonce 0) when there is none and the table has
 * room. NULL otherwise. Owned by the site.
 */
struct nonce_seen *ms_nonce_entry(struct ms_site *site, bool by_xtr_id, const uint8_t *xtr_id,
				  const struct lisp_addr *addr, bool add);

/* ms/mr.c */
/* Answers one Encapsulated Map-Request received from src (counted, logged when dropped). */
void mr_handle_ecm(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf, size_t len,
		   double now);

#endif
