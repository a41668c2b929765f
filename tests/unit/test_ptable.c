/* Prefix table: fixed cases, then random operations checked against a brute-force reference. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ptable.h"

static int freed;

static void free_val(void *v)
{
	freed++;
	free(v);
}

static int *val(int x)
{
	int *v = malloc(sizeof(*v));

	*v = x;
	return v;
}

static struct lisp_prefix pfx(const char *s, uint32_t iid)
{
	struct lisp_prefix p;

	assert_int_equal(lisp_prefix_parse(s, iid, &p), 0);
	return p;
}

static int lookup_id(const struct ptable *t, uint32_t iid, const char *a)
{
	struct lisp_addr ad;
	int *v;

	assert_int_equal(lisp_addr_parse(a, &ad), 0);
	v = ptable_lookup(t, iid, &ad, NULL);
	return v ? *v : -1;
}

static int count_cb(const struct lisp_prefix *p, void *v, void *arg)
{
	(void)p;
	(void)v;
	(*(int *)arg)++;
	return 0;
}

static void test_basic(void **state)
{
	struct ptable *t = ptable_new(free_val);
	struct lisp_prefix p = pfx("10.1.1.0/24", 5), m, bad;
	struct lisp_prefix h = pfx("10.1.1.10/32", 5), def = pfx("0.0.0.0/0", 5);
	int n = 0;

	(void)state;
	freed = 0;
	assert_true(ptable_is_empty(t));
	assert_int_equal(ptable_add(t, &p, val(1)), 0);
	assert_int_equal(ptable_add(t, &h, val(2)), 0);
	assert_int_equal(ptable_add(t, &def, val(3)), 0);
	assert_int_equal(ptable_count(t), 3);
	bad = p;
	bad.plen = 16;
	bad.addr.u.v4[3] = 1; /* host bits set */
	assert_int_equal(ptable_add(t, &bad, NULL), -EINVAL);
	bad = pfx("00:11:22:33:44:55", 5); /* a MAC prefix */
	assert_int_equal(ptable_add(t, &bad, NULL), -EINVAL);
	assert_int_equal(ptable_add(t, &p, NULL), -EEXIST);
	assert_int_equal(lookup_id(t, 5, "10.1.1.10"), 2);
	assert_int_equal(lookup_id(t, 5, "10.1.1.11"), 1);
	assert_int_equal(lookup_id(t, 5, "10.1.2.11"), 3);
	assert_int_equal(lookup_id(t, 6, "10.1.1.11"), -1);
	assert_int_equal(lookup_id(t, 5, "2001:db8::1"), -1);
	assert_int_equal(*(int *)ptable_lookup_covering(t, &h, &m), 1);
	assert_true(lisp_prefix_equal(&m, &p));
	assert_int_equal(*(int *)ptable_lookup_covering(t, &p, &m), 3);
	assert_null(ptable_lookup_covering(t, &def, NULL));
	assert_int_equal(*(int *)ptable_lookup_exact(t, &h), 2);
	ptable_walk(t, &p, count_cb, &n);
	assert_int_equal(n, 2);
	n = 0;
	ptable_walk(t, NULL, count_cb, &n);
	assert_int_equal(n, 3);
	assert_int_equal(ptable_del(t, &p), 0);
	assert_int_equal(freed, 1);
	assert_int_equal(ptable_del(t, &p), -ENOENT);
	assert_int_equal(lookup_id(t, 5, "10.1.1.11"), 3);
	assert_int_equal(lookup_id(t, 5, "10.1.1.10"), 2);
	ptable_free(t);
	assert_int_equal(freed, 3);
}

/* Brute-force reference: a flat array of live prefixes with their ids. */
struct ref {
	struct lisp_prefix p[4096];
	int id[4096];
	int n;
};

static int ref_find(const struct ref *r, const struct lisp_prefix *p)
{
	for (int i = 0; i < r->n; i++)
		if (lisp_prefix_equal(&r->p[i], p))
			return i;
	return -1;
}

/* Longest entry containing q with plen < limit (limit 255: any). */
static int ref_best(const struct ref *r, const struct lisp_prefix *q, int limit)
{
	int best = -1;

	for (int i = 0; i < r->n; i++)
		if (r->p[i].plen < limit && lisp_prefix_contains(&r->p[i], q) &&
		    (best < 0 || r->p[i].plen > r->p[best].plen))
			best = i;
	return best < 0 ? -1 : r->id[best];
}

static const uint32_t iids[] = { 0, 1, 4100, 0xffffffffu };

/* A random prefix from a small space, so that prefixes nest and collide often. */
static struct lisp_prefix rand_prefix(unsigned *seed, bool host)
{
	static const uint8_t bases[4][16] = {
		{ 10, 1, 0, 0 },
		{ 192, 0, 2, 0 },
		{ 0x20, 0x01, 0x0d, 0xb8 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 },
	};
	struct lisp_prefix p = { 0 };
	int b = rand_r(seed) % 4;
	bool v6 = b >= 2;
	unsigned len = v6 ? 16 : 4, max = v6 ? 128 : 32;

	p.iid = iids[rand_r(seed) % 4];
	p.addr.afi = v6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4;
	memcpy(p.addr.u.b, bases[b], len);
	p.addr.u.b[len - 1] ^= (uint8_t)rand_r(seed);
	p.addr.u.b[len - 2] ^= (uint8_t)(rand_r(seed) & 0x0f);
	if (rand_r(seed) % 4 == 0)
		p.addr.u.b[rand_r(seed) % len] ^= (uint8_t)(1u << (rand_r(seed) % 8));
	p.plen = (uint8_t)(host ? max : (unsigned)rand_r(seed) % (max + 1));
	if (!host && rand_r(seed) % 2)
		p.plen = (uint8_t)(max - (unsigned)rand_r(seed) % 13);
	lisp_prefix_mask(&p);
	return p;
}

struct walk_check {
	const struct ref *r;
	const struct lisp_prefix *under;
	int n;
	struct lisp_prefix last;
};

static int walk_cb(const struct lisp_prefix *p, void *v, void *arg)
{
	struct walk_check *w = arg;
	int i = ref_find(w->r, p);

	assert_true(i >= 0);
	assert_int_equal(w->r->id[i], *(int *)v);
	assert_true(lisp_prefix_contains(w->under, p));
	if (w->n && p->iid == w->last.iid)
		assert_true(memcmp(w->last.addr.u.b, p->addr.u.b, 16) <= 0);
	w->last = *p;
	w->n++;
	return 0;
}

static void check_walk(const struct ptable *t, const struct ref *r, const struct lisp_prefix *q)
{
	struct walk_check w = { .r = r, .under = q };
	int want = 0;

	for (int i = 0; i < r->n; i++)
		want += lisp_prefix_contains(q, &r->p[i]);
	assert_int_equal(ptable_walk(t, q, walk_cb, &w), 0);
	assert_int_equal(w.n, want);
}

static void random_op(struct ptable *t, struct ref *r, unsigned *seed, int next_id)
{
	struct lisp_prefix q = rand_prefix(seed, false), m;
	int op = rand_r(seed) % 100, i = ref_find(r, &q), *v;

	if (op < 35 && r->n < 4096) {
		v = val(next_id);
		assert_int_equal(ptable_add(t, &q, v), i >= 0 ? -EEXIST : 0);
		if (i >= 0)
			free(v); /* not taken */
		if (i < 0) {
			r->p[r->n] = q;
			r->id[r->n++] = next_id;
		}
	} else if (op < 55 + (r->n > 1500 ? 20 : 0)) {
		if (r->n && rand_r(seed) % 2) { /* delete a present one */
			i = rand_r(seed) % r->n;
			q = r->p[i];
		}
		assert_int_equal(ptable_del(t, &q), i >= 0 ? 0 : -ENOENT);
		if (i >= 0) {
			r->p[i] = r->p[--r->n];
			r->id[i] = r->id[r->n];
		}
	} else if (op < 65) {
		v = ptable_lookup_exact(t, &q);
		assert_int_equal(v ? *v : -1, i >= 0 ? r->id[i] : -1);
	} else if (op < 90) {
		q = rand_prefix(seed, true);
		v = ptable_lookup(t, q.iid, &q.addr, &m);
		assert_int_equal(v ? *v : -1, ref_best(r, &q, 255));
		if (v)
			assert_true(lisp_prefix_contains(&m, &q));
	} else if (op < 97) {
		v = ptable_lookup_covering(t, &q, &m);
		assert_int_equal(v ? *v : -1, ref_best(r, &q, q.plen));
	} else {
		check_walk(t, r, &q);
	}
}

/* 100k random operations over IPv4 and IPv6 in four instance-ids. */
static void test_random_vs_reference(void **state)
{
	static struct ref r;
	struct ptable *t = ptable_new(free_val);
	unsigned seed = 12345;

	(void)state;
	freed = 0;
	r.n = 0;
	for (int op = 0; op < 100000; op++)
		random_op(t, &r, &seed, op);
	assert_int_equal((int)ptable_count(t), r.n);
	ptable_free(t);
}

/* Batched lookups agree with single lookups. */
static void test_batch(void **state)
{
	struct ptable *t = ptable_new(free_val);
	struct lisp_addr addrs[100];
	uint32_t ids[100];
	void *vals[100];
	unsigned seed = 7;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct lisp_prefix p = rand_prefix(&seed, false);
		int *v = val(i);

		if (ptable_add(t, &p, v) < 0)
			free(v);
	}
	for (int i = 0; i < 100; i++) {
		struct lisp_prefix q = rand_prefix(&seed, true);

		ids[i] = q.iid;
		addrs[i] = q.addr;
	}
	addrs[5].afi = LISP_AFI_MAC;
	ptable_lookup_batch(t, 100, ids, addrs, vals);
	for (int i = 0; i < 100; i++)
		assert_ptr_equal(vals[i], ptable_lookup(t, ids[i], &addrs[i], NULL));
	assert_null(vals[5]);
	ptable_free(t);
}

/*
 * The lookup cache of the table (blocks of /16 and /24): prefixes longer
 * and shorter than a block change what cached lookups must answer.
 */
static void test_cache_invalidation(void **state)
{
	struct ptable *t = ptable_new(free_val);
	const char *steps[] = { "10.1.0.0/20", "10.1.0.0/16", "10.0.0.0/8", "10.1.5.0/24",
				"10.1.5.64/26" };
	struct lisp_prefix p;
	char a[32];

	(void)state;
	for (int x = 0; x < 256; x++) {
		snprintf(a, sizeof(a), "10.1.%d.1/32", x);
		p = pfx(a, 0);
		assert_int_equal(ptable_add(t, &p, val(1000 + x)), 0);
	}
	/* fill the cache for every /24, then add ever shorter covering prefixes */
	for (int i = 0; i < 5; i++) {
		for (int x = 0; x < 256; x++) {
			snprintf(a, sizeof(a), "10.1.%d.77", x);
			lookup_id(t, 0, a);
		}
		p = pfx(steps[i], 0);
		assert_int_equal(ptable_add(t, &p, val(i)), 0);
		assert_int_equal(lookup_id(t, 0, "10.1.5.1"), 1005);
	}
	assert_int_equal(lookup_id(t, 0, "10.1.5.77"), 4);  /* the /26 */
	assert_int_equal(lookup_id(t, 0, "10.1.5.200"), 3); /* the /24 */
	assert_int_equal(lookup_id(t, 0, "10.1.7.77"), 0);  /* the /20 */
	assert_int_equal(lookup_id(t, 0, "10.1.99.77"), 1); /* the /16 */
	assert_int_equal(lookup_id(t, 0, "10.2.99.77"), 2); /* the /8 */
	/* and deleting them, longest first, each time after the cache was filled again */
	const int want_del[] = { 0, 0, 0, 3, 4 }; /* 10.1.5.77 with steps[0..i] present */

	for (int i = 4; i >= 0; i--) {
		assert_int_equal(lookup_id(t, 0, "10.1.5.77"), want_del[i]);
		p = pfx(steps[i], 0);
		assert_int_equal(ptable_del(t, &p), 0);
	}
	assert_int_equal(lookup_id(t, 0, "10.1.5.77"), -1);
	assert_int_equal(lookup_id(t, 0, "10.1.5.1"), 1005);
	ptable_free(t);
}

/* It holds a million host routes, and deleting them all leaves it empty. */
static void test_million(void **state)
{
	struct ptable *t = ptable_new(NULL);
	struct lisp_prefix p = { .iid = 4100, .plen = 32, .addr = { .afi = LISP_AFI_IPV4 } };
	uint32_t x;

	(void)state;
	for (uint32_t i = 0; i < 1000000; i++) {
		x = i * 2654435761u;
		memcpy(p.addr.u.v4, &x, 4);
		assert_int_equal(ptable_add(t, &p, (void *)(uintptr_t)(i + 1)), 0);
	}
	assert_int_equal(ptable_count(t), 1000000);
	for (uint32_t i = 0; i < 1000000; i += 997) {
		x = i * 2654435761u;
		memcpy(p.addr.u.v4, &x, 4);
		assert_ptr_equal(ptable_lookup(t, 4100, &p.addr, NULL), (void *)(uintptr_t)(i + 1));
	}
	for (uint32_t i = 0; i < 1000000; i++) {
		x = i * 2654435761u;
		memcpy(p.addr.u.v4, &x, 4);
		assert_int_equal(ptable_del(t, &p), 0);
	}
	assert_true(ptable_is_empty(t));
	ptable_free(t);
}

static bool keep_odd(const struct lisp_prefix *p, void *v, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return *(int *)v % 2 == 1;
}

static void test_collect(void **state)
{
	struct ptable *t = ptable_new(free_val);
	struct lisp_prefix under = pfx("10.1.0.0/16", 5), *ps;
	const char *in[] = { "10.1.0.0/16", "10.1.1.0/24", "10.1.1.10/32", "10.1.2.0/24" };
	struct lisp_prefix out = pfx("10.2.0.0/16", 5), v6 = pfx("2001:db8::/32", 5), p;
	void **vs;
	int calls = 0;
	size_t n;

	(void)state;
	freed = 0;
	for (int i = 0; i < 4; i++) {
		p = pfx(in[i], 5);
		assert_int_equal(ptable_add(t, &p, val(i + 1)), 0);
	}
	assert_int_equal(ptable_add(t, &out, val(5)), 0);
	assert_int_equal(ptable_add(t, &v6, val(6)), 0);

	/* all entries under a prefix, both arrays, in address order */
	n = ptable_collect(t, &under, NULL, NULL, &ps, &vs);
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++) {
		p = pfx(in[i], 5);
		assert_true(lisp_prefix_equal(&ps[i], &p));
		assert_int_equal(*(int *)vs[i], i + 1);
	}
	/* the table may change after: delete every entry gathered */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ptable_del(t, &ps[i]), 0);
	free(ps);
	free(vs);
	assert_int_equal(freed, 4);
	assert_int_equal(ptable_count(t), 2);

	/* the whole table through a filter that sees every entry, values only */
	n = ptable_collect(t, NULL, keep_odd, &calls, NULL, &vs);
	assert_int_equal(calls, 2);
	assert_int_equal(n, 1);
	assert_int_equal(*(int *)vs[0], 5);
	free(vs);

	/* nothing gathered: NULL arrays */
	ps = (void *)&n;
	vs = (void *)&n;
	assert_int_equal(ptable_collect(t, &under, NULL, NULL, &ps, &vs), 0);
	assert_null(ps);
	assert_null(vs);
	assert_int_equal(ptable_collect(t, NULL, NULL, NULL, NULL, NULL), 2);
	ptable_free(t);
	assert_int_equal(freed, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_batch),	cmocka_unit_test(test_cache_invalidation),
		cmocka_unit_test(test_million), cmocka_unit_test(test_collect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
