/* Event history: a fixed ring of timestamped state changes (see evhist.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/evhist.h"

static struct evh_entry ring[EVH_CAPACITY];
static uint64_t total;	  /* events recorded; the newest has seq == total */
static uint64_t base_seq; /* total at the last clear */

double evh_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}

static void add(double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void add(double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, va_list ap)
{
	struct evh_entry *e = &ring[total % EVH_CAPACITY];

	total++;
	e->seq = total - base_seq;
	e->time = time;
	e->event = event;
	if (eid)
		e->eid = *eid;
	else
		memset(&e->eid, 0, sizeof(e->eid));
	if (peer)
		e->peer = *peer;
	else
		memset(&e->peer, 0, sizeof(e->peer));
	e->detail[0] = '\0';
	if (fmt)
		vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
}

void evh_add(const char *event, const struct lisp_prefix *eid, const struct lisp_addr *peer,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(evh_now(), event, eid, peer, fmt, ap);
	va_end(ap);
}

void evh_add_at(double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(time, event, eid, peer, fmt, ap);
	va_end(ap);
}

size_t evh_count(void)
{
	uint64_t n = total - base_seq;

	return n < EVH_CAPACITY ? (size_t)n : EVH_CAPACITY;
}

uint64_t evh_total(void)
{
	return total - base_seq;
}

int evh_walk(const struct lisp_prefix *filter, evh_fn fn, void *arg)
{
	size_t n = evh_count();
	int rc;

	for (uint64_t i = total - n; i < total; i++) {
		const struct evh_entry *e = &ring[i % EVH_CAPACITY];

		if (filter &&
		    (e->eid.addr.afi == LISP_AFI_NONE || !lisp_prefix_contains(filter, &e->eid)))
			continue;
		rc = fn(e, arg);
		if (rc)
			return rc;
	}
	return 0;
}

void evh_clear(void)
{
	base_seq = total;
}
