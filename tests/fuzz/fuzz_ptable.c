/*
 * Fuzz target: prefix-table operations driven by the input, checked
 * against a small brute-force reference after every step; the
 * hash-based LPM index (lpmh) follows the same operations and must give
 * the same longest matches.
 * Each op is 4 bytes: opcode, plen, two address bytes (varied over a
 * small space so that prefixes nest).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lpmh.h"
#include "lib/ptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REF_MAX 512

static struct lisp_prefix ref[REF_MAX];
static int nref;

static int ref_find(const struct lisp_prefix *p)
{
	for (int i = 0; i < nref; i++)
		if (lisp_prefix_equal(&ref[i], p))
			return i;
	return -1;
}

static const struct lisp_prefix *ref_best(const struct lisp_prefix *q, int limit)
{
	const struct lisp_prefix *best = NULL;

	for (int i = 0; i < nref; i++)
		if (ref[i].plen < limit && lisp_prefix_contains(&ref[i], q) &&
		    (!best || ref[i].plen > best->plen))
			best = &ref[i];
	return best;
}

static struct lisp_prefix make(const uint8_t *op)
{
	struct lisp_prefix p = { .iid = op[0] & 0x10 ? 4100 : 0 };
	bool v6 = op[0] & 0x20;

	p.addr.afi = v6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4;
	p.addr.u.b[0] = v6 ? 0x20 : 10;
	p.addr.u.b[v6 ? 14 : 2] = op[2];
	p.addr.u.b[v6 ? 15 : 3] = op[3];
	p.plen = (uint8_t)(op[1] % (lisp_afi_max_plen(p.addr.afi) + 1));
	lisp_prefix_mask(&p);
	return p;
}

static int cmp_ptr(const struct lisp_prefix *p, void *v, void *arg)
{
	(void)p;
	(*(int *)arg) += v != NULL;
	return 0;
}

static void step(struct ptable *t, struct lpmh *h, const uint8_t *op)
{
	struct lisp_prefix p = make(op), m;
	struct lisp_prefix host = p;
	const struct lisp_prefix *want;
	int i = ref_find(&p), n = 0, expect = 0;
	void *v;

	switch (op[0] & 0x0f) {
	case 0:
	case 1:
	case 2:
		if (nref == REF_MAX)
			break;
		if (i >= 0) {
			assert(ptable_add(t, &p, (void *)1) == -EEXIST);
			break;
		}
		v = malloc(sizeof(p));
		memcpy(v, &p, sizeof(p));
		assert(ptable_add(t, &p, v) == 0);
		assert(lpmh_set(h, &p, v) == 0);
		ref[nref++] = p;
		break;
	case 3:
	case 4:
		assert(lpmh_del(h, &p) == (i >= 0 ? 0 : -ENOENT));
		assert(ptable_del(t, &p) == (i >= 0 ? 0 : -ENOENT));
		if (i >= 0)
			ref[i] = ref[--nref];
		break;
	case 5:
		host.plen = (uint8_t)lisp_afi_max_plen(p.addr.afi);
		v = ptable_lookup(t, p.iid, &p.addr, &m);
		want = ref_best(&host, 255);
		assert((v != NULL) == (want != NULL));
		assert(!want || lisp_prefix_equal(want, &m));
		v = lpmh_lookup(h, p.iid, &p.addr);
		assert((v != NULL) == (want != NULL));
		assert(!want || lisp_prefix_equal(want, v));
		break;
	case 6:
		v = ptable_lookup_covering(t, &p, &m);
		want = ref_best(&p, p.plen);
		assert((v != NULL) == (want != NULL));
		assert(!want || lisp_prefix_equal(want, &m));
		break;
	case 7:
		for (int j = 0; j < nref; j++)
			expect += lisp_prefix_contains(&p, &ref[j]);
		ptable_walk(t, &p, cmp_ptr, &n);
		assert(n == expect);
		break;
	default:
		assert((ptable_lookup_exact(t, &p) != NULL) == (i >= 0));
		break;
	}
	assert(ptable_count(t) == (size_t)nref);
	assert(lpmh_count(h) == (size_t)nref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ptable *t = ptable_new(free);
	struct lpmh *h = lpmh_new(REF_MAX);

	nref = 0;
	for (size_t off = 0; off + 4 <= size; off += 4)
		step(t, h, data + off);
	lpmh_free(h);
	ptable_free(t);
	return 0;
}
