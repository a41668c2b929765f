/*
 * dataplane/smr.c: who gets a Solicit-Map-Request for an away EID, the
 * message, and its rate limit (one per interval for one move), without
 * sockets: a fake io records what would be sent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/lisp_msg.h"
#include "xtr-gateway/dataplane/smr.h"

#define IID 7

/* The fake neighbours: what was sent, our RLOC, the ETR's away entry. */
static struct fake {
	int sends, send_rc;
	struct lisp_addr dst;
	uint16_t dport;
	uint8_t buf[512];
	size_t len;
	bool have_rloc;
	struct lisp_addr rloc;
	bool away;
	double away_since;
	int sent;
	struct lisp_prefix sent_p;
} f;

static int fake_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		     size_t len)
{
	(void)arg;
	if (f.send_rc < 0)
		return f.send_rc;
	f.sends++;
	f.dst = *dst;
	f.dport = dport;
	assert_true(len <= sizeof(f.buf));
	memcpy(f.buf, buf, len);
	f.len = len;
	return 0;
}

static bool fake_local_rloc(void *arg, uint16_t afi, struct lisp_addr *out)
{
	(void)arg;
	if (!f.have_rloc || afi != f.rloc.afi)
		return false;
	*out = f.rloc;
	return true;
}

static int fake_away_since(void *arg, const struct lisp_prefix *p, double *since)
{
	(void)arg;
	(void)p;
	if (!f.away)
		return -ENOENT;
	*since = f.away_since;
	return 0;
}

static void fake_sent(void *arg, const struct lisp_prefix *p)
{
	(void)arg;
	f.sent++;
	f.sent_p = *p;
}

static struct smr *s;
static struct lisp_addr itr, itr2, eid, eid2, remote;

static struct lisp_addr addr(const char *str)
{
	struct lisp_addr a;

	assert_int_equal(lisp_addr_parse(str, &a), 0);
	return a;
}

static int setup(void **state)
{
	struct smr_io io = { .send = fake_send,
			     .local_rloc = fake_local_rloc,
			     .away_since = fake_away_since,
			     .sent = fake_sent };

	(void)state;
	memset(&f, 0, sizeof(f));
	f.have_rloc = true;
	f.rloc = addr("192.0.2.1");
	f.away = true;
	f.away_since = 1;
	itr = addr("198.51.100.9");
	itr2 = addr("198.51.100.10");
	eid = addr("10.1.0.5");
	eid2 = addr("10.1.0.6");
	remote = addr("10.2.0.7");
	s = smr_new(&io);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	smr_free(s);
	return 0;
}

/* The message: an SMR from the moved EID, our RLOC to answer to, the sender's EID as record. */
static void test_message(void **state)
{
	struct lisp_map_request m;
	struct lisp_prefix p, want_src, want_rec;
	struct lisp_iter it;

	(void)state;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10), 0);
	assert_int_equal(f.sends, 1);
	assert_true(lisp_addr_equal(&f.dst, &itr));
	assert_int_equal(f.dport, LISP_CONTROL_PORT);
	assert_int_equal(lisp_msg_decode_map_request(f.buf, f.len, &m), 0);
	assert_true(m.smr);
	assert_false(m.probe || m.map_data || m.smr_invoked);
	lisp_prefix_from_addr(&want_src, IID, &eid);
	assert_true(lisp_addr_equal(&m.src_eid.addr, &eid));
	assert_int_equal(m.itr_rloc_count, 1);
	assert_true(lisp_addr_equal(&m.itr_rlocs[0], &f.rloc));
	assert_int_equal(m.eids.count, 1);
	lisp_prefix_iter_init(&it, &m.eids);
	assert_true(lisp_prefix_iter_next(&it, &p));
	lisp_prefix_from_addr(&want_rec, IID, &remote);
	assert_true(lisp_prefix_equal(&p, &want_rec));
	/* the ETR hears of it, for its away entry */
	assert_int_equal(f.sent, 1);
	assert_true(lisp_prefix_equal(&f.sent_p, &want_src));
}

/* One SMR per SMR_INTERVAL for one (ITR, instance-id, EID); others are not held back. */
static void test_rate_limit(void **state)
{
	(void)state;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10), 0);
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10 + SMR_INTERVAL - 0.1), -EAGAIN);
	assert_int_equal(f.sends, 1);
	assert_int_equal(f.sent, 1);
	assert_int_equal(smr_send(s, &itr2, IID, &eid, &remote, 11), 0);
	assert_int_equal(smr_send(s, &itr, IID, &eid2, &remote, 11), 0);
	assert_int_equal(smr_send(s, &itr, IID + 1, &eid, &remote, 11), 0);
	assert_int_equal(f.sends, 4);
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10 + SMR_INTERVAL), 0);
	assert_int_equal(f.sends, 5);
}

/* An away entry made after the last SMR is another move: told at once. */
static void test_new_move(void **state)
{
	(void)state;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10), 0);
	f.away_since = 10;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 11), -EAGAIN);
	f.away_since = 10.5;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 11), 0);
	assert_int_equal(f.sends, 2);
	/* no away entry any more: still one an interval */
	f.away = false;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 12), -EAGAIN);
	assert_int_equal(f.sends, 2);
}

/* Nothing sent (no RLOC of the ITR's family, a failed send) is not counted against the limit. */
static void test_not_sent(void **state)
{
	struct lisp_addr itr6 = addr("2001:db8::9");

	(void)state;
	assert_int_equal(smr_send(s, &itr6, IID, &eid, &remote, 10), -EADDRNOTAVAIL);
	f.have_rloc = false;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10), -EADDRNOTAVAIL);
	f.have_rloc = true;
	f.send_rc = -ENETUNREACH;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10), -ENETUNREACH);
	assert_int_equal(f.sent, 0);
	f.send_rc = 0;
	assert_int_equal(smr_send(s, &itr, IID, &eid, &remote, 10), 0);
	assert_int_equal(f.sends, 1);
	assert_int_equal(f.sent, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
