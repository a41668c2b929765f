/* evhist: the event ring (order, overwrite, filter, clear) and its control-socket side. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/evhist.h"
#include "lib/evhist_ctl.h"

struct seen {
	size_t n;
	uint64_t first_seq, last_seq;
	char last_detail[EVH_DETAIL_LEN];
	const char *last_event;
	double last_time;
	int stop_after;
};

static int count(const struct evh_entry *e, void *arg)
{
	struct seen *s = arg;

	if (!s->n)
		s->first_seq = e->seq;
	else
		assert_true(e->seq == s->last_seq + 1); /* oldest first, no gaps */
	assert_true(e->time >= s->last_time);
	s->last_seq = e->seq;
	s->last_time = e->time;
	s->last_event = e->event;
	strcpy(s->last_detail, e->detail);
	s->n++;
	return s->stop_after && (int)s->n == s->stop_after ? 7 : 0;
}

static struct lisp_prefix pfx(const char *s, uint32_t iid)
{
	struct lisp_prefix p;

	assert_int_equal(lisp_prefix_parse(s, iid, &p), 0);
	return p;
}

static void test_ring(void **state)
{
	struct lisp_prefix a = pfx("198.51.100.10/32", 100), b = pfx("198.51.100.10/32", 200);
	struct lisp_prefix net = pfx("198.51.100.0/24", 100);
	struct lisp_addr peer;
	struct seen s = { 0 };
	char longer[200];
	struct evhist *h = evh_new();

	(void)state;
	evh_clear(h);
	assert_int_equal(evh_count(h), 0);
	lisp_addr_parse("192.0.2.1", &peer);
	evh_add(h, "learned", &a, NULL, "VMS (%s)", "data");
	evh_add(h, "registered", &b, &peer, NULL);
	evh_add(h, "gateway-up", NULL, &peer, NULL);
	assert_int_equal(evh_count(h), 3);
	assert_int_equal(evh_walk(h, NULL, count, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.first_seq, 1);
	assert_string_equal(s.last_event, "gateway-up");

	/* a filter matches EIDs within it, of its instance-id only; events with no EID never */
	memset(&s, 0, sizeof(s));
	evh_walk(h, &net, count, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last_event, "learned");
	assert_string_equal(s.last_detail, "VMS (data)");

	/* the walk stops where the callback says */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(evh_walk(h, NULL, count, &s), 7);
	assert_int_equal(s.n, 2);

	/* details are cut, never overrun */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	evh_add(h, "moved", &a, NULL, "%s", longer);
	memset(&s, 0, sizeof(s));
	evh_walk(h, NULL, count, &s);
	assert_int_equal(strlen(s.last_detail), EVH_DETAIL_LEN - 1);

	/* past the capacity the oldest go: the newest EVH_CAPACITY are kept, in order */
	for (int i = 0; i < EVH_CAPACITY + 10; i++)
		evh_add(h, "map-request", &a, &peer, "%d", i);
	assert_int_equal(evh_count(h), EVH_CAPACITY);
	assert_int_equal(evh_total(h), 4 + EVH_CAPACITY + 10);
	memset(&s, 0, sizeof(s));
	evh_walk(h, NULL, count, &s);
	assert_int_equal(s.n, EVH_CAPACITY);
	assert_int_equal(s.last_seq, evh_total(h));
	assert_int_equal(s.first_seq, evh_total(h) - EVH_CAPACITY + 1);
	char want[16];
	snprintf(want, sizeof(want), "%d", EVH_CAPACITY + 9);
	assert_string_equal(s.last_detail, want);

	/* clear: empty, and numbering starts again */
	evh_clear(h);
	assert_int_equal(evh_count(h), 0);
	evh_add(h, "learned", &a, NULL, NULL);
	memset(&s, 0, sizeof(s));
	evh_walk(h, NULL, count, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.first_seq, 1);
	evh_free(h);

	/* no history: nothing recorded, nothing walked */
	evh_add(NULL, "learned", &a, NULL, NULL);
	assert_int_equal(evh_count(NULL), 0);
	assert_int_equal(evh_walk(NULL, NULL, count, &s), 0);
}

struct replies {
	size_t n;
	char eid[64], peer[64], event[32];
	uint32_t iid;
};

static void collect(const Vmroam__Xtr__Reply *r, void *arg)
{
	struct replies *x = arg;

	assert_int_equal(r->item_case, VMROAM__XTR__REPLY__ITEM_EVENT);
	x->n++;
	snprintf(x->eid, sizeof(x->eid), "%s", r->event->eid);
	snprintf(x->peer, sizeof(x->peer), "%s", r->event->peer);
	snprintf(x->event, sizeof(x->event), "%s", r->event->event);
	x->iid = r->event->instance_id;
}

static void test_serve(void **state)
{
	struct lisp_prefix a = pfx("2001:db8:d::10/128", 100);
	Vmroam__Xtr__EventHistoryRequest q = VMROAM__XTR__EVENT_HISTORY_REQUEST__INIT;
	struct replies x = { 0 };
	struct lisp_addr peer;
	char msg[96];
	struct evhist *h = evh_new();

	(void)state;
	evh_clear(h);
	lisp_addr_parse("2001:db8::1", &peer);
	evh_add(h, "away", &a, &peer, NULL);
	evh_add(h, "fhr-up", NULL, &peer, "fhr-dc1");
	q.prefix = (char *)"";
	assert_int_equal(evh_serve(h, &q, false, collect, &x, msg, sizeof(msg)), 0);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.eid, "");
	assert_string_equal(x.peer, "2001:db8::1");

	/* a prefix and instance-id: the EID without its instance-id, which has its own field */
	memset(&x, 0, sizeof(x));
	q.prefix = (char *)"2001:db8:d::/64";
	q.instance_id = 100;
	assert_int_equal(evh_serve(h, &q, false, collect, &x, msg, sizeof(msg)), 0);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.eid, "2001:db8:d::10/128");
	assert_string_equal(x.event, "away");
	assert_int_equal(x.iid, 100);
	q.instance_id = 200;
	memset(&x, 0, sizeof(x));
	evh_serve(h, &q, false, collect, &x, msg, sizeof(msg));
	assert_int_equal(x.n, 0);

	/* bad input: an error and nothing sent; clear reports what it forgot */
	q.prefix = (char *)"2001:db8:d::1/64";
	assert_int_equal(evh_serve(h, &q, false, collect, &x, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(x.n, 0);
	assert_true(strstr(msg, "prefix") != NULL);
	assert_int_equal(evh_serve(h, &q, true, collect, &x, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "2 events cleared");
	assert_int_equal(evh_count(h), 0);
	evh_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
