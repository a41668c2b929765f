/* Longest-prefix match by one exact-match probe per prefix length present (see lpmh.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lpmh.h"
#include "lib/platform.h"

#define IID_MAX 0xffffffu /* the data plane's instance-ids: 24 bits */

/* One slot (32 bytes, two a cache line): tag = instance-id << 8 | (length + 1), 0 when empty. */
struct slot {
	uint64_t hi, lo; /* the masked address (IPv4 in lo) */
	uint32_t tag;
	void *value;
};

#define TAG(iid, plen) ((uint32_t)(iid) << 8 | ((plen) + 1u))
#define TAG_PLEN(t)    (((t)&0xffu) - 1u)
#define TAG_IID(t)     ((t) >> 8)

struct fam {
	struct slot *slots;
	size_t mask, count, cap;
	unsigned shift; /* 64 - log2(slots) */
	bool v6;
	uint64_t mul[6]; /* the family's random key: a_0..a_4, b (see slot_of) */
	uint32_t per_len[129];
	uint8_t order[129]; /* the lengths present, longest first */
	unsigned norder;
};

struct lpmh {
	struct fam f[2]; /* IPv4, IPv6 */
};

static bool fam_init(struct fam *f, size_t capacity, bool v6)
{
	size_t n = 16;

	f->v6 = v6;
	while (n < 2 * capacity)
		n <<= 1;
	f->slots = calloc(n, sizeof(*f->slots)); /* large: mmap'd, touched only when used */
	f->mask = n - 1;
	f->shift = 64;
	while (n > 1) {
		n >>= 1;
		f->shift--;
	}
	f->cap = capacity;
	return f->slots != NULL && platform_random(f->mul, sizeof(f->mul)) == 0;
}

struct lpmh *lpmh_new(size_t capacity)
{
	struct lpmh *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (!fam_init(&h->f[0], capacity, false) || !fam_init(&h->f[1], capacity, true)) {
		lpmh_free(h);
		return NULL;
	}
	return h;
}

void lpmh_free(struct lpmh *h)
{
	if (!h)
		return;
	free(h->f[0].slots);
	free(h->f[1].slots);
	free(h);
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The address of a as two words (IPv4 in lo), unmasked. */
static inline void words_of(const struct lisp_addr *a, uint64_t *hi, uint64_t *lo)
{
	if (a->afi == LISP_AFI_IPV4) {
		*hi = 0;
		*lo = (uint64_t)a->u.v4[0] << 24 | (uint64_t)a->u.v4[1] << 16 |
		      (uint64_t)a->u.v4[2] << 8 | a->u.v4[3];
		return;
	}
	*hi = load_be64(a->u.v6);
	*lo = load_be64(a->u.v6 + 8);
}

/* Words masked to plen bits of an address of family v6 (0: IPv4). */
static inline void mask_words(bool v6, unsigned plen, uint64_t *hi, uint64_t *lo)
{
	if (!v6) {
		*lo = plen ? *lo & (0xffffffffull << (32 - plen)) & 0xffffffffull : 0;
	} else if (plen < 64) {
		*hi = plen ? *hi & ~0ull << (64 - plen) : 0;
		*lo = 0;
	} else if (plen < 128) {
		*lo = plen > 64 ? *lo & ~0ull << (128 - plen) : 0;
	}
}

static inline void key_of(const struct lisp_addr *a, unsigned plen, uint64_t *hi, uint64_t *lo)
{
	words_of(a, hi, lo);
	mask_words(a->afi == LISP_AFI_IPV6, plen, hi, lo);
}

/*
 * Vector multiply-shift (Dietzfelbinger; Thorup, "High speed hashing for
 * integers and strings", 2015): the key cut into 32-bit pieces x_i,
 * h = sum a_i x_i + b mod 2^64 with a_i, b the family's random 64-bit
 * key, then mixed (below), the slot its top bits. Multiply-shift alone is
 * strongly universal for up to 32 output bits: two keys chosen without
 * knowing a_i and b share a slot with probability 1/slots, so nobody
 * outside can pick prefixes that share a probe chain (hash flooding), at
 * two to five multiplications.
 * (SipHash-1-3 cost 25-40 % of bench_dp's packet rate, five lookups a
 * packet at a gateway; this costs nothing measurable.)
 */
static inline size_t slot_of(const struct fam *f, uint64_t hi, uint64_t lo, uint32_t iid,
			     unsigned plen)
{
	const uint64_t *a = f->mul;
	uint64_t h = a[5] + a[0] * TAG(iid, plen) + a[1] * (lo & 0xffffffffu);

	if (f->v6)
		h += a[2] * (lo >> 32) + a[3] * (hi & 0xffffffffu) + a[4] * (hi >> 32);
	/*
	 * The sum is injective on keys of one tag but keeps their arithmetic:
	 * addresses in a progression (a subnet's hosts) land in a progression
	 * of slots, and for about one key in 300 a run of 300 such hosts made
	 * a probe chain longer than 16 (linear probing wants more independence
	 * than multiply-shift gives; test_keyed saw it). One fixed bijective
	 * xor-shift-multiply after the keyed sum breaks the progression and
	 * adds no collision; MurmurHash3's two-round finaliser did the same at
	 * 20-25 % of bench_dp's gateway rate, this one at none measurable.
	 */
	h ^= h >> 32;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> f->shift);
}

static struct fam *fam_of(struct lpmh *h, uint16_t afi)
{
	return afi == LISP_AFI_IPV4 ? &h->f[0] : afi == LISP_AFI_IPV6 ? &h->f[1] : NULL;
}

static inline bool same(const struct slot *s, uint64_t hi, uint64_t lo, uint32_t iid, unsigned plen)
{
	return s->tag == TAG(iid, plen) && s->lo == lo && s->hi == hi;
}

/* The slot holding the key, or the empty one where it would go. */
static struct slot *find(const struct fam *f, uint64_t hi, uint64_t lo, uint32_t iid, unsigned plen)
{
	size_t i = slot_of(f, hi, lo, iid, plen);

	while (f->slots[i].tag && !same(&f->slots[i], hi, lo, iid, plen))
		i = (i + 1) & f->mask;
	return &f->slots[i];
}

static void reorder(struct fam *f, unsigned maxlen)
{
	f->norder = 0;
	for (int l = (int)maxlen; l >= 0; l--)
		if (f->per_len[l])
			f->order[f->norder++] = (uint8_t)l;
}

int lpmh_set(struct lpmh *h, const struct lisp_prefix *p, void *value)
{
	struct fam *f = fam_of(h, p->addr.afi);
	unsigned maxlen = p->addr.afi == LISP_AFI_IPV4 ? 32 : 128;
	uint64_t hi, lo, chi, clo;
	struct slot *s;

	if (!f || p->plen > maxlen || p->iid > IID_MAX)
		return -EINVAL;
	key_of(&p->addr, p->plen, &hi, &lo);
	key_of(&p->addr, maxlen, &chi, &clo);
	if (hi != chi || lo != clo)
		return -EINVAL; /* host bits set */
	s = find(f, hi, lo, p->iid, p->plen);
	if (s->tag) {
		s->value = value;
		return 0;
	}
	if (f->count == f->cap)
		return -ENOSPC;
	*s = (struct slot){ .hi = hi, .lo = lo, .tag = TAG(p->iid, p->plen), .value = value };
	f->count++;
	if (f->per_len[p->plen]++ == 0)
		reorder(f, maxlen);
	return 0;
}

int lpmh_del(struct lpmh *h, const struct lisp_prefix *p)
{
	struct fam *f = fam_of(h, p->addr.afi);
	unsigned maxlen = p->addr.afi == LISP_AFI_IPV4 ? 32 : 128;
	uint64_t hi, lo;
	size_t i, j;

	if (!f || p->plen > maxlen || p->iid > IID_MAX)
		return -ENOENT;
	key_of(&p->addr, p->plen, &hi, &lo);
	i = (size_t)(find(f, hi, lo, p->iid, p->plen) - f->slots);
	if (!f->slots[i].tag)
		return -ENOENT;
	/* backward-shift deletion: no tombstones, probe chains stay short */
	for (j = (i + 1) & f->mask; f->slots[j].tag; j = (j + 1) & f->mask) {
		const struct slot *s = &f->slots[j];
		size_t home = slot_of(f, s->hi, s->lo, TAG_IID(s->tag), TAG_PLEN(s->tag));

		if (((j - home) & f->mask) >= ((j - i) & f->mask)) {
			f->slots[i] = f->slots[j];
			i = j;
		}
	}
	f->slots[i].tag = 0;
	f->count--;
	if (--f->per_len[p->plen] == 0)
		reorder(f, maxlen);
	return 0;
}

size_t lpmh_probes(const struct lpmh *h, const struct lisp_prefix *p)
{
	const struct fam *f = p->addr.afi == LISP_AFI_IPV4   ? &h->f[0]
			      : p->addr.afi == LISP_AFI_IPV6 ? &h->f[1]
							     : NULL;
	unsigned maxlen = p->addr.afi == LISP_AFI_IPV4 ? 32 : 128;
	const struct slot *s;
	uint64_t hi, lo;

	if (!f || p->plen > maxlen || p->iid > IID_MAX)
		return 0;
	key_of(&p->addr, p->plen, &hi, &lo);
	s = find(f, hi, lo, p->iid, p->plen);
	if (!s->tag)
		return 0;
	return (((size_t)(s - f->slots) - slot_of(f, hi, lo, p->iid, p->plen)) & f->mask) + 1;
}

void *lpmh_lookup(const struct lpmh *h, uint32_t iid, const struct lisp_addr *a)
{
	void *v;

	lpmh_lookup_batch(h, 1, &iid, a, &v);
	return v;
}

#define BATCH_MAX 64

void lpmh_lookup_batch(const struct lpmh *h, size_t n, const uint32_t *iid,
		       const struct lisp_addr *a, void **values)
{
	for (size_t off = 0; off < n; off += BATCH_MAX) {
		size_t k = n - off < BATCH_MAX ? n - off : BATCH_MAX, left = 0;
		uint8_t todo[BATCH_MAX], pos[BATCH_MAX] = { 0 };
		size_t at[BATCH_MAX];
		uint64_t hi[BATCH_MAX], lo[BATCH_MAX], whi[BATCH_MAX], wlo[BATCH_MAX];

		for (size_t i = 0; i < k; i++) {
			const struct fam *f = a[off + i].afi == LISP_AFI_IPV4	? &h->f[0]
					      : a[off + i].afi == LISP_AFI_IPV6 ? &h->f[1]
										: NULL;

			values[off + i] = NULL;
			if (f && f->norder && iid[off + i] <= IID_MAX) {
				words_of(&a[off + i], &whi[i], &wlo[i]);
				todo[left++] = (uint8_t)i;
			}
		}
		while (left) {
			size_t still = 0;

			/* stage 1: the slot of each lookup's current length, fetched ahead */
			for (size_t t = 0; t < left; t++) {
				size_t i = todo[t];
				bool v6 = a[off + i].afi == LISP_AFI_IPV6;
				const struct fam *f = &h->f[v6];
				unsigned plen = f->order[pos[i]];

				hi[i] = whi[i];
				lo[i] = wlo[i];
				mask_words(v6, plen, &hi[i], &lo[i]);
				at[i] = slot_of(f, hi[i], lo[i], iid[off + i], plen);
				__builtin_prefetch(&f->slots[at[i]]);
			}
			/* stage 2: probe; a miss moves on to the next shorter length */
			for (size_t t = 0; t < left; t++) {
				size_t i = todo[t], j;
				const struct fam *f = &h->f[a[off + i].afi == LISP_AFI_IPV6];
				unsigned plen = f->order[pos[i]];

				for (j = at[i]; f->slots[j].tag; j = (j + 1) & f->mask) {
					if (same(&f->slots[j], hi[i], lo[i], iid[off + i], plen)) {
						values[off + i] = f->slots[j].value;
						break;
					}
				}
				if (!values[off + i] && ++pos[i] < f->norder)
					todo[still++] = (uint8_t)i;
			}
			left = still;
		}
	}
}

size_t lpmh_count(const struct lpmh *h)
{
	return h->f[0].count + h->f[1].count;
}
