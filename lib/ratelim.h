/*
 * Per-address token buckets, for answers an outsider can provoke (a
 * Map-Reply toward the ITR-RLOC a request names, an ECM forwarded on its
 * behalf): each destination gets rate tokens per second up to burst,
 * and all destinations together get total per second.
 *
 * The table is set-associative, like a switch's hash table: a key hashes
 * (SipHash under a random key, so nobody can aim keys at one set) to a
 * set of a few ways; a new key takes an empty way, else one whose bucket
 * has refilled (forgetting it changes nothing), else the way idle the
 * longest. Memory is fixed at creation, whatever the number of keys.
 * Not thread-safe.
 */
#ifndef LIB_RATELIM_H
#define LIB_RATELIM_H

#include <stddef.h>

#include "lib/lisp_addr.h"

struct ratelim;

/* A limiter remembering about max_keys destinations (at least 4); rate 1/s, burst 1, no total. */
struct ratelim *ratelim_new(size_t max_keys);
void ratelim_free(struct ratelim *rl);
/*
 * Per key: rate tokens/s, at most burst (>= 1) saved; all keys together:
 * total tokens/s with a burst of one second's worth (0: unlimited).
 * Buckets already holding more than the new burst are cut to it.
 */
void ratelim_set(struct ratelim *rl, double rate, double burst, double total);
/*
 * Takes one token for key at now (seconds, monotonic). 0: allowed;
 * -EBUSY: the key's bucket is empty; -ENOBUFS: the total is exhausted
 * (the key's token is not taken then). -EINVAL: key is not IPv4/IPv6.
 */
int ratelim_take(struct ratelim *rl, const struct lisp_addr *key, double now);

#endif /* LIB_RATELIM_H */
