/* The migration hold: arrival order, the per-host, per-instance-id and total limits, compaction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/tv.h"
#include "xtr-gateway/dataplane/mhold.h"
#include "xtr-gateway/xtr.h"

static struct lisp_prefix host(const char *s, uint32_t iid)
{
	struct lisp_prefix p;

	assert_int_equal(lisp_prefix_parse(s, iid, &p), 0);
	return p;
}

static void test_order_and_quota(void **state)
{
	struct mhold *m = mhold_new();
	struct lisp_prefix a = host("10.1.1.10/32", 100), b = host("2001:db8::10/128", 100);
	struct mhold_quota q = { .packets = 3, .bytes = 250 };
	uint8_t pkt[200];
	struct mhold_pkt *v;
	size_t n, bytes;

	(void)state;
	mhold_configure(m, 100, 100);
	for (int i = 0; i < 3; i++) {
		memset(pkt, i, sizeof(pkt));
		assert_int_equal(mhold_add(m, i == 1 ? &b : &a, &q, pkt, 60, 0, 1.0 + i), 0);
	}
	assert_int_equal(mhold_add(m, &a, &q, pkt, 60, 0, 4), 0);
	assert_int_equal(mhold_count_eid(m, &a, &bytes), 3);
	assert_int_equal(bytes, 180);
	assert_int_equal(mhold_add(m, &a, &q, pkt, 60, 0, 5), -EFBIG);	/* its 3 packets */
	assert_int_equal(mhold_add(m, &b, &q, pkt, 200, 0, 5), -EFBIG); /* 60 + 200 > 250 bytes */
	assert_int_equal(mhold_add(m, &b, &q, pkt, 190, 0, 5), 0);	/* 250: just so */
	assert_int_equal(mhold_add(m, &b, &q, pkt, 0, 0, 5), -EMSGSIZE);
	assert_int_equal(mhold_add(m, &b, &q, pkt, 65536, 0, 5), -EMSGSIZE);
	/* oldest first, each packet its own copy after the headroom */
	v = mhold_pkts(m, &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_true(i == 0 || v[i].at >= v[i - 1].at);
		assert_true(v[i].buf != NULL);
	}
	assert_int_equal(v[1].buf[DP_HEADROOM], 1);
	assert_true(lisp_prefix_equal(&v[1].eid, &b) && v[1].iid == 100 && v[1].len == 60);
	/* sent: marked done, freed by the compaction, the counts follow */
	v[0].done = v[2].done = true;
	assert_int_equal(mhold_compact(m, 6, 10), 0);
	assert_int_equal(mhold_count(m), 3);
	assert_int_equal(mhold_count_eid(m, &a, &bytes), 1);
	assert_int_equal(bytes, 60);
	v = mhold_pkts(m, &n);
	assert_true(v[0].at == 2 && v[1].at == 4 && v[2].at == 5); /* order kept */
	/* too old: dropped and counted as such */
	assert_int_equal(mhold_compact(m, 14.5, 10), 2);
	assert_int_equal(mhold_count(m), 1);
	assert_int_equal(mhold_count_eid(m, &b, NULL), 1);
	assert_int_equal(mhold_count_eid(m, &a, NULL), 0);
	mhold_free(m);
}

static void test_limits(void **state)
{
	struct mhold *m = mhold_new();
	struct lisp_prefix t1a = host("10.1.1.10/32", 100), t1b = host("10.1.1.11/32", 100);
	struct lisp_prefix t2 = host("10.1.1.10/32", 200); /* the same address, another tenant */
	struct mhold_quota q = { .packets = 100, .bytes = 1 << 20 };
	uint8_t pkt[64] = { 0 };

	(void)state;
	mhold_configure(m, 5, 3);
	assert_int_equal(mhold_add(m, &t1a, &q, pkt, 64, 0, 0), 0);
	assert_int_equal(mhold_add(m, &t1a, &q, pkt, 64, 0, 0), 0);
	assert_int_equal(mhold_add(m, &t1b, &q, pkt, 64, 0, 0), 0);
	assert_int_equal(mhold_add(m, &t1b, &q, pkt, 64, 0, 0), -EDQUOT); /* tenant 100's share */
	assert_int_equal(mhold_count_iid(m, 100), 3);
	assert_int_equal(mhold_add(m, &t2, &q, pkt, 64, 0, 0), 0); /* another tenant still holds */
	assert_int_equal(mhold_add(m, &t2, &q, pkt, 64, 0, 0), 0);
	assert_int_equal(mhold_add(m, &t2, &q, pkt, 64, 0, 0), -ENOSPC); /* 5 in total */
	assert_int_equal(mhold_count_eid(m, &t2, NULL), 2);
	assert_int_equal(mhold_count_eid(m, &t1a, NULL), 2);
	/* a smaller hold: the newest go */
	assert_int_equal(mhold_configure(m, 2, 3), 3);
	assert_int_equal(mhold_count(m), 2);
	assert_int_equal(mhold_count_eid(m, &t1a, NULL), 2);
	assert_int_equal(mhold_count_eid(m, &t2, NULL), 0);
	assert_int_equal(mhold_count_iid(m, 200), 0);
	mhold_free(m);
	mhold_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_quota),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
