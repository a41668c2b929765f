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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_trie),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
