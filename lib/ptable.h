/*
 * Longest-prefix-match table for IPv4 and IPv6 EID prefixes, keyed by
 * (instance-id, prefix). Values are opaque pointers the table owns: it
 * frees them with the callback given at creation on _del and _free.
 *
 * A path-compressed binary trie per address family whose key is the
 * 32-bit instance-id followed by the address, so every instance-id is a
 * subtree of its own; nodes live in chunked pools addressed by 32-bit
 * indices (20 bytes an IPv4 node). Up to 2^24 - 1 entries per family.
 * Not thread-safe; the table must not change during a walk.
 */
#ifndef LIB_PTABLE_H
#define LIB_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

struct ptable;

typedef void (*ptable_free_fn)(void *value);

/* Return non-zero to stop the walk; that value is returned by ptable_walk(). */
typedef int (*ptable_walk_fn)(const struct lisp_prefix *p, void *value, void *arg);

/* A new empty table; free_fn (may be NULL) frees values. Caller frees the table. */
struct ptable *ptable_new(ptable_free_fn free_fn);

/* Frees the table and every value in it; NULL is a no-op. */
void ptable_free(struct ptable *t);

/*
 * Adds p -> value; the table takes ownership of value on success.
 * Returns 0, -EEXIST (p present; value not taken), -EINVAL (not IPv4 or
 * IPv6, plen too long, host bits set) or -ENOSPC (2^24 - 1 entries).
 */
int ptable_add(struct ptable *t, const struct lisp_prefix *p, void *value);

/* Removes p and frees its value. Returns 0 or -ENOENT. */
int ptable_del(struct ptable *t, const struct lisp_prefix *p);

/* Exact match: the value stored for p, or NULL. Borrowed. */
void *ptable_lookup_exact(const struct ptable *t, const struct lisp_prefix *p);

/*
 * Longest-prefix match of address a in table iid: the value, or NULL.
 * If match is not NULL it receives the matching prefix.
 */
void *ptable_lookup(const struct ptable *t, uint32_t iid, const struct lisp_addr *a,
		    struct lisp_prefix *match);

/*
 * n longest-prefix matches at once (addresses of either family), with the
 * node fetches of the lookups interleaved so their memory latency
 * overlaps, as a pipeline of a forwarding ASIC would. values[i] receives
 * the value for (iid[i], addrs[i]) or NULL.
 */
void ptable_lookup_batch(const struct ptable *t, size_t n, const uint32_t *iid,
			 const struct lisp_addr *addrs, void **values);

/*
 * The longest entry strictly less specific than p that covers it, or
 * NULL; match receives its prefix when not NULL.
 */
void *ptable_lookup_covering(const struct ptable *t, const struct lisp_prefix *p,
			     struct lisp_prefix *match);

/*
 * Calls fn for every entry inside p (p itself included if present), in
 * address order; p NULL walks the whole table. Returns 0 or fn's stop value.
 */
int ptable_walk(const struct ptable *t, const struct lisp_prefix *p, ptable_walk_fn fn, void *arg);

/*
 * For ptable_collect(): true to gather the entry. It may change the value
 * but not the table.
 */
typedef bool (*ptable_keep_fn)(const struct lisp_prefix *p, void *value, void *arg);

/*
 * Gathers, in address order, the entries inside under (NULL: all) that keep
 * accepts (keep NULL: all), so the caller can then change the table. Returns
 * their count; *prefixes and *values (each may be NULL) receive arrays the
 * caller frees (NULL if none); the values stay the table's.
 */
size_t ptable_collect(const struct ptable *t, const struct lisp_prefix *under, ptable_keep_fn keep,
		      void *arg, struct lisp_prefix **prefixes, void ***values);

size_t ptable_count(const struct ptable *t);
bool ptable_is_empty(const struct ptable *t);

/* Bytes of memory the table holds (node pools, value slots, headers). */
size_t ptable_memory(const struct ptable *t);

#endif /* LIB_PTABLE_H */
