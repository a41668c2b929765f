/* The data plane's hold queue: limits in total and per instance-id, compaction, ageing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xtr-gateway/xtr.h"

#define SLOT (DP_HEADROOM + 128)

static struct hold *h;

static int setup(void **state)
{
	(void)state;
	h = hold_new(SLOT);
	hold_configure(h, 4, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hold_free(h);
	return 0;
}

/* One tenant fills its share: its next packet is refused while another tenant's are held. */
static void test_per_instance_id(void **state)
{
	uint8_t pkt[100] = { 1, 2, 3 };
	struct hold_pkt *v;
	size_t n;

	(void)state;
	assert_int_equal(hold_add(h, 100, pkt, sizeof(pkt), 0), 0);
	assert_int_equal(hold_add(h, 100, pkt, sizeof(pkt), 0), 0);
	assert_int_equal(hold_add(h, 100, pkt, sizeof(pkt), 0), -EDQUOT);
	assert_int_equal(hold_add(h, 200, pkt, sizeof(pkt), 0.5), 0);
	assert_int_equal(hold_count(h), 3);
	assert_int_equal(hold_count_iid(h, 100), 2);
	assert_int_equal(hold_count_iid(h, 200), 1);
	v = hold_pkts(h, &n);
	assert_int_equal(n, 3);
	assert_int_equal(v[2].iid, 200);
	assert_memory_equal(v[2].buf + DP_HEADROOM, pkt, sizeof(pkt));
	/* the total: 4 */
	assert_int_equal(hold_add(h, 300, pkt, sizeof(pkt), 1), 0);
	assert_int_equal(hold_add(h, 400, pkt, sizeof(pkt), 1), -ENOSPC);
	assert_int_equal(hold_add(h, 400, pkt, SLOT, 1), -EMSGSIZE);
	/* one of the first tenant's sent: room for it again, the order kept */
	v[0].done = true;
	assert_int_equal(hold_compact(h, 1, 3), 0);
	assert_int_equal(hold_count_iid(h, 100), 1);
	v = hold_pkts(h, &n);
	assert_int_equal(n, 3);
	assert_true(v[0].iid == 100 && v[1].iid == 200 && v[2].iid == 300);
	assert_int_equal(hold_add(h, 100, pkt, sizeof(pkt), 2), 0);
	/* 3 s later the first ones are given up */
	assert_int_equal(hold_compact(h, 3.6, 3), 2);
	assert_int_equal(hold_count(h), 2);
	assert_int_equal(hold_count_iid(h, 100), 1);
	assert_int_equal(hold_count_iid(h, 200), 0);
}

/* A smaller queue after a reload drops the newest. */
static void test_reconfigure(void **state)
{
	uint8_t pkt[10] = { 0 };
	struct hold_pkt *v;
	size_t n;

	(void)state;
	hold_configure(h, 16, 16);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(hold_add(h, i, pkt, sizeof(pkt), i), 0);
	hold_configure(h, 4, 1);
	assert_int_equal(hold_count(h), 4);
	v = hold_pkts(h, &n);
	assert_true(n == 4 && v[3].iid == 3);
	assert_int_equal(hold_add(h, 3, pkt, sizeof(pkt), 11), -ENOSPC);
	v[0].done = true;
	assert_int_equal(hold_compact(h, 3, 3), 0);
	assert_int_equal(hold_add(h, 3, pkt, sizeof(pkt), 3), -EDQUOT);
	assert_int_equal(hold_add(h, 0, pkt, sizeof(pkt), 3), 0);
}

/* What a retry makes of a held packet: sent, kept while resolving and young, else dropped. */
static void test_retried(void **state)
{
	uint8_t pkt[10] = { 0 };
	struct hold_pkt *v;
	size_t n;

	(void)state;
	hold_configure(h, 16, 16);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(hold_add(h, i, pkt, sizeof(pkt), 1), 0);
	assert_int_equal(hold_configure(h, 2, 16), 2); /* a smaller queue: how many went */
	assert_int_equal(hold_limit_iid(h), 16);
	v = hold_pkts(h, &n);
	assert_int_equal(n, 2);
	assert_int_equal(hold_retried(&v[0], true, false, 2), HOLD_SENT);
	assert_true(v[0].done);
	assert_int_equal(hold_retried(&v[1], false, true, 1 + HOLD_MAX_AGE - 0.1), HOLD_KEEP);
	assert_false(v[1].done);
	assert_int_equal(hold_retried(&v[1], false, true, 1 + HOLD_MAX_AGE), HOLD_DROPPED);
	assert_true(v[1].done);
	assert_int_equal(hold_compact(h, 2, HOLD_MAX_AGE), 0);
	assert_int_equal(hold_count(h), 0);
	assert_int_equal(hold_add(h, 5, pkt, sizeof(pkt), 2), 0);
	v = hold_pkts(h, &n);
	assert_int_equal(hold_retried(&v[0], false, false, 2), HOLD_DROPPED); /* another verdict */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_instance_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retried, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
