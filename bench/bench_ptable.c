/*
 * Prefix table benchmark: 1M random IPv4 prefixes /16../32, lookups of
 * addresses inside them on one core, single and batched, and bytes per
 * entry. Baseline in the same run: the same lookups as exact keys in a
 * plain open-addressing hash table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"
#include "lib/ptable.h"

#define NPREFIX 1000000
#define NQUERY	(1u << 21)
#define ROUNDS	3
#define BATCH	64

/* Baseline: linear-probing hash of 64-bit keys (iid << 32 | address). */
struct hslot {
	uint64_t key;
	void *val;
};

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static void hash_put(struct hslot *h, uint64_t mask, uint64_t key, void *val)
{
	uint64_t i = mix(key) & mask;

	while (h[i].val && h[i].key != key)
		i = (i + 1) & mask;
	h[i].key = key;
	h[i].val = val;
}

static void *hash_get(const struct hslot *h, uint64_t mask, uint64_t key)
{
	uint64_t i = mix(key) & mask;

	while (h[i].val) {
		if (h[i].key == key)
			return h[i].val;
		i = (i + 1) & mask;
	}
	return NULL;
}

static uint32_t addr_u32(const struct lisp_addr *a)
{
	return (uint32_t)a->u.v4[0] << 24 | (uint32_t)a->u.v4[1] << 16 | (uint32_t)a->u.v4[2] << 8 |
	       a->u.v4[3];
}

int main(void)
{
	struct ptable *t = ptable_new(NULL);
	struct lisp_prefix *pfx = malloc(NPREFIX * sizeof(*pfx));
	struct lisp_addr *q = malloc(NQUERY * sizeof(*q));
	uint32_t *iid = calloc(NQUERY, sizeof(*iid));
	void **out = malloc(BATCH * sizeof(*out));
	uint64_t seed = 0x9e3779b97f4a7c15ull, hmask = (1u << 22) - 1; /* load <= 0.5 */
	struct hslot *h = calloc(hmask + 1, sizeof(*h));
	double t0, single = 0, batched = 0, hashed = 0;
	uintptr_t sum = 0, miss = 0;
	size_t n = 0;

	while (n < NPREFIX) {
		struct lisp_prefix p = { .addr = { .afi = LISP_AFI_IPV4 } };
		uint32_t x = (uint32_t)bench_rand(&seed);

		p.plen = (uint8_t)(16 + bench_rand(&seed) % 17);
		memcpy(p.addr.u.v4, &x, 4);
		lisp_prefix_mask(&p);
		if (ptable_add(t, &p, (void *)(uintptr_t)(n + 1)) == 0)
			pfx[n++] = p;
	}
	for (uint32_t i = 0; i < NQUERY; i++) {
		const struct lisp_prefix *p = &pfx[bench_rand(&seed) % NPREFIX];
		uint32_t host = (uint32_t)bench_rand(&seed);
		uint32_t a = addr_u32(&p->addr) | (p->plen == 32 ? 0 : host >> p->plen);

		q[i].afi = LISP_AFI_IPV4;
		q[i].u.v4[0] = (uint8_t)(a >> 24);
		q[i].u.v4[1] = (uint8_t)(a >> 16);
		q[i].u.v4[2] = (uint8_t)(a >> 8);
		q[i].u.v4[3] = (uint8_t)a;
	}
	for (uint32_t i = 0; i < NQUERY; i++)
		hash_put(h, hmask, addr_u32(&q[i]), (void *)(uintptr_t)(i + 1));

	for (int r = 0; r < ROUNDS; r++) {
		t0 = bench_now();
		for (uint32_t i = 0; i < NQUERY; i++)
			sum += (uintptr_t)ptable_lookup(t, 0, &q[i], NULL);
		single += bench_now() - t0;
		t0 = bench_now();
		for (uint32_t i = 0; i < NQUERY; i += BATCH) {
			ptable_lookup_batch(t, BATCH, iid + i, q + i, out);
			for (int j = 0; j < BATCH; j++)
				miss += out[j] == NULL;
		}
		batched += bench_now() - t0;
		t0 = bench_now();
		for (uint32_t i = 0; i < NQUERY; i++)
			sum += (uintptr_t)hash_get(h, hmask, addr_u32(&q[i]));
		hashed += bench_now() - t0;
	}
	double nq = (double)NQUERY * ROUNDS;
	double bpe = (double)ptable_memory(t) / (double)ptable_count(t);

	printf("ptable: %zu IPv4 prefixes /16-/32, %.1f bytes/entry (target <= 64)\n",
	       ptable_count(t), bpe);
	printf("ptable lookup, single : %6.2f M lookups/s\n", nq / single / 1e6);
	printf("ptable lookup, batched: %6.2f M lookups/s (target >= 5)\n", nq / batched / 1e6);
	printf("baseline exact-key hash: %6.2f M lookups/s\n", nq / hashed / 1e6);
	printf("ratio ptable batched / hash baseline: %.2f; single / hash: %.2f\n",
	       hashed / batched, hashed / single);
	printf("(checksum %lu, misses %lu)\n", (unsigned long)sum, (unsigned long)miss);
	ptable_free(t);
	free(pfx);
	free(q);
	free(iid);
	free(out);
	free(h);
	return miss != 0; /* every query lies inside some prefix */
}
