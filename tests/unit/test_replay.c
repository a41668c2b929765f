/* Anti-replay windows: increasing nonces (window + floor) and random ones (recent set). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/replay.h"

#define T0 1700000000000000000ull /* a nonce: ns since the epoch */

static void test_increasing_repeat_and_floor(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r, REPLAY_INCREASING, T0);
	assert_int_equal(replay_check(&r, T0), -ESTALE);
	assert_int_equal(replay_check(&r, T0 - 5), -ESTALE);
	assert_int_equal(replay_check(&r, T0 + 1000), 0);
	assert_int_equal(replay_check(&r, T0 + 1000), -EALREADY);
	/* several in flight, out of order: the older one is still new */
	assert_int_equal(replay_check(&r, T0 + 3000), 0);
	assert_int_equal(replay_check(&r, T0 + 2000), 0);
	assert_int_equal(replay_check(&r, T0 + 2000), -EALREADY);
	assert_int_equal(replay_check(&r, T0 + 3000), -EALREADY);
}

static void test_increasing_window_slides(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r, REPLAY_INCREASING, T0);
	for (uint64_t i = 1; i <= REPLAY_WINDOW; i++)
		assert_int_equal(replay_check(&r, T0 + i * 1000000), 0);
	/* all remembered */
	assert_int_equal(replay_check(&r, T0 + 1000000), -EALREADY);
	/* one more: the lowest leaves the window and becomes the floor */
	assert_int_equal(replay_check(&r, T0 + 1000000000), 0);
	assert_int_equal(replay_check(&r, T0 + 1000000), -ESTALE);
	assert_int_equal(replay_check(&r, T0 + 500000), -ESTALE); /* never seen, too old */
	assert_int_equal(replay_check(&r, T0 + 2000000), -EALREADY);
	/* never seen, above the floor, older than all kept: taken once, then refused */
	assert_int_equal(replay_check(&r, T0 + 1500000), 0);
	assert_int_equal(replay_check(&r, T0 + 1500000), -ESTALE);
	assert_int_equal(replay_check(&r, T0 + 2000000), -EALREADY);
	/* a new one pushes the lowest kept out */
	assert_int_equal(replay_check(&r, T0 + 2000000000), 0);
	assert_int_equal(replay_check(&r, T0 + 2000000), -ESTALE);
	assert_int_equal(replay_check(&r, T0 + 3000000), -EALREADY);
}

static void test_random_recent(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r, REPLAY_RANDOM, T0);
	assert_int_equal(replay_check(&r, 0x1234), 0); /* no floor */
	assert_int_equal(replay_check(&r, 0x1234), -EALREADY);
	assert_int_equal(replay_check(&r, 7), 0);
	for (uint64_t i = 0; i < REPLAY_RECENT - 2; i++)
		assert_int_equal(replay_check(&r, 1000 + i), 0);
	assert_int_equal(replay_check(&r, 0x1234), -EALREADY); /* still among the last 256 */
	assert_int_equal(replay_check(&r, 5), 0);
	/* 0x1234 was the oldest: forgotten, a replay of it cannot be told any more */
	assert_int_equal(replay_check(&r, 0x1234), 0);
	assert_int_equal(replay_check(&r, 7), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_increasing_repeat_and_floor),
		cmocka_unit_test(test_increasing_window_slides),
		cmocka_unit_test(test_random_recent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
