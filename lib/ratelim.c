/* Per-address token buckets: see ratelim.h. */
#include "lib/ratelim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/siphash.h"
#include "lib/xalloc.h"

#define WAYS 4

struct bucket {
	struct lisp_addr key; /* afi NONE: a free way */
	double tokens;
	double last; /* when tokens was last brought up to date */
};

struct ratelim {
	struct bucket *b; /* nsets * WAYS */
	size_t nsets;	  /* a power of two */
	uint8_t hkey[SIPHASH_KEY_LEN];
	double rate, burst, total;
	double total_tokens, total_last;
};

struct ratelim *ratelim_new(size_t max_keys)
{
	struct ratelim *rl = xcalloc(1, sizeof(*rl));

	rl->nsets = 1;
	while (rl->nsets * WAYS < max_keys)
		rl->nsets <<= 1;
	rl->b = xcalloc(rl->nsets * WAYS, sizeof(*rl->b));
	if (siphash_key_random(rl->hkey) < 0) {
		/* no entropy: still a working limiter, only the set choice is guessable */
		memset(rl->hkey, 0x5a, sizeof(rl->hkey));
	}
	rl->rate = 1;
	rl->burst = 1;
	return rl;
}

void ratelim_free(struct ratelim *rl)
{
	if (!rl)
		return;
	free(rl->b);
	free(rl);
}

void ratelim_set(struct ratelim *rl, double rate, double burst, double total)
{
	rl->rate = rate > 0 ? rate : 0;
	rl->burst = burst >= 1 ? burst : 1;
	if (rl->total == 0 || rl->total_tokens > total)
		rl->total_tokens = total > 0 ? total : 0;
	rl->total = total > 0 ? total : 0;
	for (size_t i = 0; i < rl->nsets * WAYS; i++)
		if (rl->b[i].tokens > rl->burst)
			rl->b[i].tokens = rl->burst;
}

/* Tokens of a bucket brought up to now. */
static double refill(double tokens, double last, double rate, double cap, double now)
{
	double t = tokens + (now > last ? (now - last) * rate : 0);

	return t < cap ? t : cap;
}

/* The way holding key, or the way to give it (its key not yet set). */
static struct bucket *way_for(struct ratelim *rl, const struct lisp_addr *key, double now)
{
	size_t len = key->afi == LISP_AFI_IPV4 ? 4 : 16;
	uint8_t data[18];
	struct bucket *set, *pick = NULL;

	data[0] = (uint8_t)(key->afi >> 8);
	data[1] = (uint8_t)key->afi;
	memcpy(data + 2, key->u.b, len);
	set = rl->b + (siphash13(rl->hkey, data, len + 2) & (rl->nsets - 1)) * WAYS;
	for (unsigned w = 0; w < WAYS; w++)
		if (set[w].key.afi == key->afi && memcmp(set[w].key.u.b, key->u.b, len) == 0)
			return &set[w];
	for (unsigned w = 0; w < WAYS && !pick; w++)
		if (set[w].key.afi == LISP_AFI_NONE ||
		    refill(set[w].tokens, set[w].last, rl->rate, rl->burst, now) >= rl->burst)
			pick = &set[w];
	if (!pick) {
		pick = &set[0];
		for (unsigned w = 1; w < WAYS; w++)
			if (set[w].last < pick->last)
				pick = &set[w];
	}
	memset(&pick->key, 0, sizeof(pick->key));
	pick->key.afi = LISP_AFI_NONE;
	return pick;
}

int ratelim_take(struct ratelim *rl, const struct lisp_addr *key, double now)
{
	struct bucket *b;
	double tokens;

	if (key->afi != LISP_AFI_IPV4 && key->afi != LISP_AFI_IPV6)
		return -EINVAL;
	b = way_for(rl, key, now);
	if (b->key.afi == LISP_AFI_NONE) {
		b->key = *key;
		b->tokens = rl->burst;
		b->last = now;
	}
	tokens = refill(b->tokens, b->last, rl->rate, rl->burst, now);
	b->tokens = tokens;
	b->last = now;
	if (tokens < 1)
		return -EBUSY;
	if (rl->total > 0) {
		rl->total_tokens =
			refill(rl->total_tokens, rl->total_last, rl->total, rl->total, now);
		rl->total_last = now;
		if (rl->total_tokens < 1)
			return -ENOBUFS;
		rl->total_tokens -= 1;
	}
	b->tokens = tokens - 1;
	return 0;
}
