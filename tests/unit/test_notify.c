/* The eid-notify channel: framing and HMAC, the replay window, the retransmission queue. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/notify.h"

static size_t sample(struct lisp_auth_key *k, uint32_t iid, uint32_t inner_iid, uint8_t *out,
		     size_t cap)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__eid_event__init(&ev);
	env.instance_id = inner_iid;
	env.sender = (char *)(uintptr_t) "fhr-1";
	env.session = 1000;
	env.seq = 7;
	ev.kind = VMROAM__NOTIFY__EVENT_KIND__ARRIVED;
	ev.dynamic_eid = (char *)(uintptr_t) "VMS";
	ev.eid = (char *)(uintptr_t) "198.51.100.10";
	ev.eid_len = 32;
	ev.source = VMROAM__NOTIFY__SOURCE__SOURCE_ARP;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
	env.eid_event = &ev;
	return notify_pack(k, iid, &env, out, cap);
}

static void test_pack_unpack(void **state)
{
	struct lisp_auth_key *k = lisp_auth_key_new("tenant-key", 10);
	struct lisp_auth_key *other = lisp_auth_key_new("other-key", 9);
	uint8_t buf[512], copy[512];
	size_t len = sample(k, 4100, 4100, buf, sizeof(buf));
	Vmroam__Notify__Envelope *env;
	uint32_t iid;
	int err;

	(void)state;
	assert_true(len > NOTIFY_HDR_LEN + 32);
	assert_int_equal(notify_peek_iid(buf, len, &iid), 0);
	assert_int_equal(iid, 4100);
	env = notify_unpack(k, buf, len, &err);
	assert_non_null(env);
	assert_int_equal(env->body_case, VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT);
	assert_string_equal(env->eid_event->eid, "198.51.100.10");
	assert_int_equal(env->seq, 7);
	vmroam__notify__envelope__free_unpacked(env, NULL);
	/* the wrong key, every flipped byte, every truncation: refused */
	assert_null(notify_unpack(other, buf, len, &err));
	assert_int_equal(err, -EACCES);
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, buf, len);
		copy[i] ^= 0x01;
		assert_null(notify_unpack(k, copy, len, &err));
		assert_true(err == -EACCES || err == -EBADMSG || err == -EPROTONOSUPPORT);
	}
	for (size_t l = 0; l < len; l++) {
		uint8_t *t = malloc(l ? l : 1);

		memcpy(t, buf, l);
		assert_null(notify_unpack(k, t, l, &err));
		free(t);
	}
	/* the instance-id inside must be the one outside (whose key signed it) */
	len = sample(k, 4100, 4200, buf, sizeof(buf));
	assert_null(notify_unpack(k, buf, len, &err));
	assert_int_equal(err, -EPROTO);
	/* too small a buffer */
	assert_int_equal(sample(k, 4100, 4100, buf, 20), 0);
	lisp_auth_key_free(k);
	lisp_auth_key_free(other);
}

static void test_replay_window(void **state)
{
	struct notify_rx r = { 0 };

	(void)state;
	assert_int_equal(notify_rx_accept(&r, 100, 1), NOTIFY_RX_NEW_SESSION);
	assert_int_equal(notify_rx_accept(&r, 100, 1), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 3), 0);
	assert_int_equal(notify_rx_accept(&r, 100, 2), 0); /* late but new */
	assert_int_equal(notify_rx_accept(&r, 100, 2), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 100), 0);
	assert_int_equal(notify_rx_accept(&r, 100, 36), -EALREADY); /* older than the window */
	assert_int_equal(notify_rx_accept(&r, 100, 37), 0);
	assert_int_equal(notify_rx_accept(&r, 99, 500), -ESTALE); /* an old session: a replay */
	assert_int_equal(notify_rx_accept(&r, 101, 1), NOTIFY_RX_NEW_SESSION); /* restarted */
	assert_int_equal(notify_rx_accept(&r, 100, 101), -ESTALE);
	assert_int_equal(notify_rx_accept(&r, 101, 2), 0);
}

static int sent;

static void count_send(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	sent++;
}

static void test_tx_queue(void **state)
{
	struct notify_tx t;
	uint8_t b[4] = { 1, 2, 3, 4 };
	uint64_t s1, s2, s3;

	(void)state;
	notify_tx_init(&t, 5);
	s1 = notify_tx_next(&t);
	s2 = notify_tx_next(&t);
	assert_int_equal(s2, s1 + 1);
	assert_true(notify_tx_keep(&t, s1, "198.51.100.10", b, 4, 0));
	assert_true(notify_tx_keep(&t, s2, "198.51.100.11", b, 4, 0));
	/* retransmitted 0.2, then 0.4 ... 2 s apart; the next due said as much */
	assert_true(notify_tx_next_due(&t) == 0.2);
	notify_tx_due(&t, 0.1, count_send, NULL);
	assert_int_equal(sent, 0);
	notify_tx_due(&t, 0.2, count_send, NULL);
	assert_int_equal(sent, 2);
	notify_tx_due(&t, 0.5, count_send, NULL);
	assert_int_equal(sent, 2);
	assert_true(notify_tx_next_due(&t) == 0.2 + 0.4);
	notify_tx_due(&t, 0.65, count_send, NULL);
	assert_int_equal(sent, 4);
	assert_true(notify_tx_next_due(&t) == 0.65 + 0.8);
	/* a newer event about the same EID replaces the unacknowledged one */
	s3 = notify_tx_next(&t);
	assert_true(notify_tx_keep(&t, s3, "198.51.100.10", b, 4, 1));
	assert_int_equal(t.n, 2);
	assert_int_equal(t.replaced, 1);
	assert_false(notify_tx_ack(&t, s1, NULL, 0)); /* gone: replaced */
	assert_true(notify_tx_ack(&t, s3, NULL, 0));
	assert_true(notify_tx_ack(&t, s2, NULL, 0));
	assert_int_equal(t.n, 0);
	/* bounded */
	for (int i = 0; i < NOTIFY_TXQ_MAX; i++)
		assert_true(notify_tx_keep(&t, notify_tx_next(&t), NULL, b, 4, 2));
	assert_false(notify_tx_keep(&t, notify_tx_next(&t), NULL, b, 4, 2));
	assert_int_equal(t.dropped, 1);
	notify_tx_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_unpack),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_tx_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
