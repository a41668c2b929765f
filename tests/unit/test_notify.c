/* The eid-notify channel: framing and HMAC, the replay window, the retransmission queue. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	assert_int_equal(notify_rx_accept(&r, 100, 1, true), NOTIFY_RX_NEW_SESSION);
	assert_int_equal(notify_rx_accept(&r, 100, 1, true), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 3, true), 0);
	assert_int_equal(notify_rx_accept(&r, 100, 2, true), 0); /* late but new */
	assert_int_equal(notify_rx_accept(&r, 100, 2, true), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 100, true), 0);
	/* older than the window */
	assert_int_equal(notify_rx_accept(&r, 100, 36, true), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 37, true), 0);
	/* Acks and Keepalives: a space of their own, which moves no reliable message out */
	assert_int_equal(notify_rx_accept(&r, 100, 5000, false), 0);
	assert_int_equal(notify_rx_accept(&r, 100, 5000, false), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 4936, false), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 100, 38, true), 0);
	assert_int_equal(notify_rx_accept(&r, 100, 4999, false), 0);
	/* an old session: a replay */
	assert_int_equal(notify_rx_accept(&r, 99, 500, true), -ESTALE);
	assert_int_equal(notify_rx_accept(&r, 99, 5001, false), -ESTALE);
	/* restarted */
	assert_int_equal(notify_rx_accept(&r, 101, 1, false), NOTIFY_RX_NEW_SESSION);
	assert_int_equal(notify_rx_accept(&r, 100, 101, true), -ESTALE);
	assert_int_equal(notify_rx_accept(&r, 101, 1, true), 0);
	assert_int_equal(notify_rx_accept(&r, 101, 1, false), -EALREADY);
	assert_int_equal(notify_rx_accept(&r, 101, 2, true), 0);
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
	s1 = notify_tx_next_reliable(&t);
	s2 = notify_tx_next_reliable(&t);
	assert_int_equal(s2, s1 + 1);
	assert_true(notify_tx_keep(&t, s1, "198.51.100.10", b, 4, 0));
	assert_true(notify_tx_keep(&t, s2, "198.51.100.11", b, 4, 0));
	/* sent by notify_tx_due(), then retransmitted 0.2, 0.4 ... 2 s apart; the next due
	 * said as much (none before the first send: the window's room sends it) */
	assert_true(notify_tx_next_due(&t) == INFINITY);
	assert_int_equal(sent, 0);
	notify_tx_due(&t, 0, count_send, NULL);
	assert_int_equal(sent, 2);
	assert_int_equal(t.retransmits, 0);
	assert_true(notify_tx_next_due(&t) == 0.2);
	notify_tx_due(&t, 0.1, count_send, NULL);
	assert_int_equal(sent, 2);
	notify_tx_due(&t, 0.2, count_send, NULL);
	assert_int_equal(sent, 4);
	assert_true(notify_tx_next_due(&t) == 0.2 + 0.4);
	notify_tx_due(&t, 0.5, count_send, NULL);
	assert_int_equal(sent, 4);
	notify_tx_due(&t, 0.65, count_send, NULL);
	assert_int_equal(sent, 6);
	assert_int_equal(t.retransmits, 4);
	assert_true(notify_tx_next_due(&t) == 0.65 + 0.8);
	/* a newer event about the same EID replaces the unacknowledged one */
	s3 = notify_tx_next_reliable(&t);
	assert_true(notify_tx_keep(&t, s3, "198.51.100.10", b, 4, 1));
	assert_int_equal(t.n, 2);
	assert_int_equal(t.replaced, 1);
	assert_false(notify_tx_ack(&t, s1, NULL, 0)); /* gone: replaced */
	assert_true(notify_tx_ack(&t, s3, NULL, 0));
	assert_true(notify_tx_ack(&t, s2, NULL, 0));
	assert_int_equal(t.n, 0);
	/* bounded */
	for (int i = 0; i < NOTIFY_TXQ_MAX; i++)
		assert_true(notify_tx_keep(&t, notify_tx_next_reliable(&t), NULL, b, 4, 2));
	assert_false(notify_tx_keep(&t, notify_tx_next_reliable(&t), NULL, b, 4, 2));
	assert_int_equal(t.dropped, 1);
	/* only a window's worth in flight: the rest wait for Acks */
	sent = 0;
	notify_tx_due(&t, 2, count_send, NULL);
	assert_int_equal(sent, NOTIFY_WINDOW);
	notify_tx_due(&t, 10, count_send, NULL);
	assert_int_equal(sent, 2 * NOTIFY_WINDOW);
	assert_true(notify_tx_ack(&t, t.q[0].seq, NULL, 0));
	notify_tx_due(&t, 10, count_send, NULL);
	assert_int_equal(sent, 2 * NOTIFY_WINDOW + 1);
	notify_tx_free(&t);
}

/*
 * A lossy channel, both ways: a datagram here is a sequence number, a
 * class and what it carries (the event's index, or the seq an Ack
 * acknowledges). The receiver applies a reliable message when its window
 * accepts it and acknowledges it (again, with its status, when a
 * retransmission comes back); both ends send Keepalives.
 */
#define EVENTS 1000
struct wire_msg {
	uint64_t seq, what;
	uint8_t reliable;
};
struct wire {
	struct wire_msg m[8192];
	size_t n;
	unsigned long long count;   /* datagrams offered: every 7th is lost */
	struct wire_msg all[65536]; /* all the sender ever sent, to replay */
	size_t nall;
};

static void wire_put(struct wire *w, const struct wire_msg *m)
{
	if (w->nall < 65536)
		w->all[w->nall++] = *m;
	if (++w->count % 7 == 0 || w->n == 8192)
		return;
	w->m[w->n++] = *m;
}

static void wire_send(void *arg, const uint8_t *buf, size_t len)
{
	struct wire_msg m;

	assert_int_equal(len, sizeof(m));
	memcpy(&m, buf, sizeof(m));
	wire_put(arg, &m);
}

/* The receiver: applies what its window accepts (delivered counts per event), acknowledges. */
static void receive(struct notify_rx *rx, struct notify_tx *rtx, const struct wire_msg *m,
		    unsigned delivered[EVENTS], struct wire *back)
{
	struct wire_msg ack = { .reliable = 0 };
	int32_t status;
	int rc = notify_rx_accept(rx, 77, m->seq, m->reliable);

	if (!m->reliable)
		return;
	if (rc == -EALREADY && notify_rx_status(rx, m->seq, &status) == 0) {
		ack.seq = notify_tx_next(rtx);
		ack.what = m->seq;
		wire_put(back, &ack);
		return;
	}
	if (rc < 0)
		return;
	delivered[m->what]++;
	notify_rx_done(rx, m->seq, 0);
	ack.seq = notify_tx_next(rtx);
	ack.what = m->seq;
	wire_put(back, &ack);
}

static void test_lossy_delivery(void **state)
{
	static struct wire to, back;
	static unsigned delivered[EVENTS];
	struct notify_tx tx, rtx;
	struct notify_rx rx = { 0 }, srx = { 0 };
	double now = 0;

	(void)state;
	notify_tx_init(&tx, 77);
	notify_tx_init(&rtx, 88);
	/* 1000 arrivals 2 ms apart, the channel running all along */
	for (int step = 0; step < 30000; step++, now += 0.002) {
		if (step < EVENTS) {
			struct wire_msg m = { .seq = notify_tx_next_reliable(&tx),
					      .what = (uint64_t)step,
					      .reliable = 1 };
			char key[32];

			snprintf(key, sizeof(key), "198.18.%d.%d", step / 256, step % 256);
			assert_true(notify_tx_keep(&tx, m.seq, key, (uint8_t *)&m, sizeof(m), now));
			notify_tx_due(&tx, now, wire_send, &to);
		}
		if (step % 500 == 0) { /* Keepalives, each way, every second */
			struct wire_msg ka = { .seq = notify_tx_next(&tx) };

			wire_put(&to, &ka);
			ka.seq = notify_tx_next(&rtx);
			wire_put(&back, &ka);
		}
		for (size_t i = 0; i < to.n; i++)
			receive(&rx, &rtx, &to.m[i], delivered, &back);
		to.n = 0;
		for (size_t i = 0; i < back.n; i++) {
			int rc = notify_rx_accept(&srx, 88, back.m[i].seq, false);

			if (rc >= 0 && back.m[i].what)
				notify_tx_ack(&tx, back.m[i].what, NULL, 0);
		}
		back.n = 0;
		notify_tx_due(&tx, now, wire_send, &to);
		if (step >= EVENTS && tx.n == 0)
			break;
	}
	/* every event delivered exactly once, nothing left waiting, in well under a minute */
	assert_int_equal(tx.n, 0);
	assert_true(now < 60);
	for (int i = 0; i < EVENTS; i++)
		assert_int_equal(delivered[i], 1);
	assert_int_equal(tx.dropped, 0);
	/*
	 * and every datagram ever sent, played again, is refused (but a lost
	 * Keepalive still in the window, which was never accepted: once)
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < to.nall; i++) {
			int rc = notify_rx_accept(&rx, 77, to.all[i].seq, to.all[i].reliable);

			if (pass == 1 || to.all[i].reliable)
				assert_int_equal(rc, -EALREADY);
		}
	}
	notify_tx_free(&tx);
	notify_tx_free(&rtx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_unpack),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_tx_queue),
		cmocka_unit_test(test_lossy_delivery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
