/* The hash-based LPM index against the trie: random prefixes of every length, lookups, deletes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/lpmh.h"
#include "lib/ptable.h"

static uint64_t seed = 1;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* A random address of either family in a small space (so that prefixes nest), iid 0 or 4100. */
static void random_addr(struct lisp_addr *a, uint32_t *iid)
{
	uint64_t r = rnd();

	memset(a, 0, sizeof(*a));
	*iid = r & 1 ? 4100 : 0;
	if (r & 2) {
		a->afi = LISP_AFI_IPV6;
		a->u.v6[0] = 0x20;
		a->u.v6[1] = 0x01;
		for (int i = 2; i < 16; i++)
			a->u.v6[i] = (uint8_t)(rnd() & (i < 8 ? 0x3 : 0xff));
	} else {
		a->afi = LISP_AFI_IPV4;
		a->u.v4[0] = 10;
		a->u.v4[1] = (uint8_t)(rnd() & 3);
		a->u.v4[2] = (uint8_t)rnd();
		a->u.v4[3] = (uint8_t)rnd();
	}
}

static void test_against_trie(void **state)
{
	struct ptable *t = ptable_new(NULL);
	struct lpmh *h = lpmh_new(20000);
	static struct lisp_prefix added[20000];
	size_t nadded = 0;

	(void)state;
	for (int op = 0; op < 200000; op++) {
		struct lisp_prefix p;
		struct lisp_addr a;
		uint32_t iid;
		void *want, *got;

		random_addr(&a, &iid);
		switch (rnd() % 4) {
		case 0: /* add */
			if (nadded == 20000)
				break;
			lisp_prefix_from_addr(&p, iid, &a);
			p.plen = (uint8_t)(rnd() % (lisp_afi_max_plen(a.afi) + 1));
			lisp_prefix_mask(&p);
			if (ptable_lookup_exact(t, &p))
				break;
			added[nadded] = p;
			assert_int_equal(ptable_add(t, &added[nadded], &added[nadded]), 0);
			assert_int_equal(lpmh_set(h, &added[nadded], &added[nadded]), 0);
			nadded++;
			break;
		case 1: /* delete one */
			if (!nadded)
				break;
			{
				size_t i = rnd() % nadded;

				assert_int_equal(lpmh_del(h, &added[i]), 0);
				assert_int_equal(ptable_del(t, &added[i]), 0);
				assert_int_equal(lpmh_del(h, &added[i]), -ENOENT);
				/* keep the array dense: the last one takes its place in both */
				if (i != --nadded) {
					ptable_del(t, &added[nadded]);
					lpmh_del(h, &added[nadded]);
					added[i] = added[nadded];
					assert_int_equal(ptable_add(t, &added[i], &added[i]), 0);
					assert_int_equal(lpmh_set(h, &added[i], &added[i]), 0);
				}
			}
			break;
		default: /* look up */
			want = ptable_lookup(t, iid, &a, NULL);
			got = lpmh_lookup(h, iid, &a);
			assert_ptr_equal(got, want);
			break;
		}
	}
	assert_int_equal(lpmh_count(h), ptable_count(t));
	/* the batch gives the same answers */
	{
		uint32_t iids[200];
		struct lisp_addr as[200];
		void *got[200];

		for (int i = 0; i < 200; i++)
			random_addr(&as[i], &iids[i]);
		lpmh_lookup_batch(h, 200, iids, as, got);
		for (int i = 0; i < 200; i++)
			assert_ptr_equal(got[i], ptable_lookup(t, iids[i], &as[i], NULL));
	}
	lpmh_free(h);
	ptable_free(t);
}

static void test_limits(void **state)
{
	struct lpmh *h = lpmh_new(2);
	struct lisp_prefix p;
	int v;

	(void)state;
	assert_int_equal(lisp_prefix_parse("10.0.0.0/8", 0, &p), 0);
	assert_int_equal(lpmh_set(h, &p, &v), 0);
	assert_int_equal(lpmh_set(h, &p, &v), 0); /* replaces */
	assert_int_equal(lisp_prefix_parse("0.0.0.0/0", 0, &p), 0);
	assert_int_equal(lpmh_set(h, &p, &v), 0);
	assert_int_equal(lisp_prefix_parse("10.1.0.0/16", 0, &p), 0);
	assert_int_equal(lpmh_set(h, &p, &v), -ENOSPC);
	assert_int_equal(lisp_prefix_parse("2001:db8::/32", 0, &p), 0);
	assert_int_equal(lpmh_set(h, &p, &v), 0); /* per family */
	assert_int_equal(lisp_prefix_parse("10.1.0.0/16", 0x1000000, &p), 0);
	assert_int_equal(lpmh_set(h, &p, &v), -EINVAL); /* not a data-plane instance-id */
	p.plen = 8;					/* host bits set */
	p.iid = 0;
	assert_int_equal(lpmh_set(h, &p, &v), -EINVAL);
	lpmh_free(h);
}

/* The unkeyed hash lpmh used before: the home slot of an IPv4 /32 of table 0 among 2^bits. */
static size_t old_slot(uint32_t a, unsigned bits)
{
	uint64_t h = (uint64_t)a ^ (uint64_t)(33u) << 32; /* tag: iid 0, length 32 + 1 */

	return (size_t)((h * 0xff51afd7ed558ccdull) >> (64 - bits));
}

static void host(struct lisp_prefix *p, uint32_t a)
{
	memset(p, 0, sizeof(*p));
	p->addr.afi = LISP_AFI_IPV4;
	p->addr.u.v4[0] = (uint8_t)(a >> 24);
	p->addr.u.v4[1] = (uint8_t)(a >> 16);
	p->addr.u.v4[2] = (uint8_t)(a >> 8);
	p->addr.u.v4[3] = (uint8_t)a;
	p->plen = 32;
}

/*
 * Hash flooding: 300 host EIDs that all had one home slot under the old
 * unkeyed hash (anyone could compute them) spread out under the table's
 * random key; and two tables, each also holding 700 random hosts (half
 * full: chains form), place the same prefixes differently. (The flood
 * alone is nearly an arithmetic progression, which multiply-shift spreads
 * without any collision under every key: its probe counts are all 1.)
 */
static void test_keyed(void **state)
{
	struct lpmh *h = lpmh_new(1000), *g = lpmh_new(1000); /* 2048 slots each */
	static uint32_t flood[300], all[1000];
	size_t n = 0, worst = 0, differ = 0;
	struct lisp_prefix p;
	int v;

	(void)state;
	for (uint32_t a = 0x0a000000u; n < 300; a++)
		if (old_slot(a, 11) == old_slot(0x0a000000u, 11))
			flood[n++] = a;
	for (size_t i = 0; i < n; i++) {
		host(&p, flood[i]);
		assert_int_equal(lpmh_set(h, &p, &v), 0);
		assert_int_equal(lpmh_set(g, &p, &v), 0);
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		host(&p, flood[i]);
		k = lpmh_probes(h, &p);
		assert_true(k >= 1);
		worst = k > worst ? k : worst;
		assert_ptr_equal(lpmh_lookup(h, 0, &p.addr), &v);
	}
	memcpy(all, flood, sizeof(flood));
	for (size_t i = 300; i < 1000; i++) {
		all[i] = 0x0c000000u | (uint32_t)(rnd() & 0xffffff);
		host(&p, all[i]);
		assert_int_equal(lpmh_set(h, &p, &v), 0);
		assert_int_equal(lpmh_set(g, &p, &v), 0);
	}
	for (size_t i = 0; i < 1000; i++) {
		host(&p, all[i]);
		differ += lpmh_probes(h, &p) != lpmh_probes(g, &p);
	}
	assert_true(worst <= 16); /* the old hash: one chain of 300 */
	assert_true(differ > 0);
	host(&p, 0x0b000000u);
	assert_int_equal(lpmh_probes(h, &p), 0); /* absent */
	lpmh_free(h);
	lpmh_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_trie),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_keyed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
