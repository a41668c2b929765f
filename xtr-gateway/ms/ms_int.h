/*
 * The Map-Server's internals, shared by ms/ms.c (registrations, moves,
 * Map-Notify), ms/mr.c (the Map-Resolver) and ms/state.c (the state
 * file). Included only inside ms/; the interface is ms/ms.h.
 */
#ifndef XTR_GATEWAY_MS_MS_INT_H
#define XTR_GATEWAY_MS_MS_INT_H

#include <stdbool.h>
#include <stdint.h>
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
	struct ms_loc *more; /* locators after the first: nloc - 1 of them */
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint16_t port;
	uint32_t heap_idx;
	uint32_t life; /* seconds: expires at last + life */
	uint8_t nloc;
	uint8_t alg; /* the algorithm its Map-Registers are signed with: its Map-Notifies use it */
	bool has_xtr_id;
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
