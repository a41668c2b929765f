/*
 * Longest-prefix match by exact-match hashing, for the data plane's hot
 * lookups: one open-addressing hash table per address family keyed by
 * (instance-id, prefix length, masked address), and for a lookup one
 * probe per prefix length present, longest first (a forwarding ASIC's
 * exact-match host and prefix tables, searched in order). Real tables
 * hold few distinct lengths (/32 hosts, the sites' /24s ...), so a lookup
 * is one or two probes; a batch interleaves them with prefetches.
 *
 * Slots come from a keyed (strongly universal) hash under a random key of
 * each table's own, so that no one outside can pick prefixes that share
 * a probe chain.
 *
 * Fixed capacity given at creation (the table never grows); values are
 * borrowed pointers (the index sits beside a ptable that owns them). Not
 * thread-safe.
 */
#ifndef LIB_LPMH_H
#define LIB_LPMH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

struct lpmh;

/* An index for up to capacity prefixes of each family; NULL if out of memory (or randomness). */
struct lpmh *lpmh_new(size_t capacity);
void lpmh_free(struct lpmh *h);

/* Adds or replaces p -> value. Returns 0, -EINVAL (not IPv4/IPv6 or host bits set) or -ENOSPC. */
int lpmh_set(struct lpmh *h, const struct lisp_prefix *p, void *value);
/* Removes p; 0 or -ENOENT. */
int lpmh_del(struct lpmh *h, const struct lisp_prefix *p);
/* The value of the longest prefix holding (iid, a), or NULL. */
void *lpmh_lookup(const struct lpmh *h, uint32_t iid, const struct lisp_addr *a);
/* n lookups at once, the probes of each length interleaved. */
void lpmh_lookup_batch(const struct lpmh *h, size_t n, const uint32_t *iid,
		       const struct lisp_addr *a, void **values);
size_t lpmh_count(const struct lpmh *h);
/* Slots an exact lookup of p reads (1: p sits in its home slot), 0 if p is absent. */
size_t lpmh_probes(const struct lpmh *h, const struct lisp_prefix *p);

#endif /* LIB_LPMH_H */
