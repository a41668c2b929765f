/* Event history: a fixed ring of timestamped state changes (see evhist.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/evhist.h"
#include "lib/platform.h"
#include "lib/xalloc.h"

struct evhist {
	struct evh_entry ring[EVH_CAPACITY];
	uint64_t total;	   /* events recorded; the newest has seq == total */
	uint64_t base_seq; /* total at the last clear */
};

struct evhist *evh_new(void)
{
	return xcalloc(1, sizeof(struct evhist));
}

void evh_free(struct evhist *h)
{
	free(h);
}

double evh_now(void)
{
	uint64_t ns = platform_realtime_ns();

	return (double)(ns / 1000000000ull) + (double)(ns % 1000000000ull / 1000) / 1e6;
}

static void add(struct evhist *h, double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

static void add(struct evhist *h, double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, va_list ap)
{
	struct evh_entry *e = &h->ring[h->total % EVH_CAPACITY];

	h->total++;
	e->seq = h->total - h->base_seq;
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

void evh_add(struct evhist *h, const char *event, const struct lisp_prefix *eid,
	     const struct lisp_addr *peer, const char *fmt, ...)
{
	va_list ap;

	if (!h)
		return;
	va_start(ap, fmt);
	add(h, evh_now(), event, eid, peer, fmt, ap);
	va_end(ap);
}

void evh_add_at(struct evhist *h, double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, ...)
{
	va_list ap;

	if (!h)
		return;
	va_start(ap, fmt);
	add(h, time, event, eid, peer, fmt, ap);
	va_end(ap);
}

size_t evh_count(const struct evhist *h)
{
	uint64_t n = h ? h->total - h->base_seq : 0;

	return n < EVH_CAPACITY ? (size_t)n : EVH_CAPACITY;
}

uint64_t evh_total(const struct evhist *h)
{
	return h ? h->total - h->base_seq : 0;
}

int evh_walk(const struct evhist *h, const struct lisp_prefix *filter, evh_fn fn, void *arg)
{
	size_t n = evh_count(h);
	int rc;

	if (!h)
		return 0;
	for (uint64_t i = h->total - n; i < h->total; i++) {
		const struct evh_entry *e = &h->ring[i % EVH_CAPACITY];

		if (filter &&
		    (e->eid.addr.afi == LISP_AFI_NONE || !lisp_prefix_contains(filter, &e->eid)))
			continue;
		rc = fn(e, arg);
		if (rc)
			return rc;
	}
	return 0;
}

void evh_clear(struct evhist *h)
{
	if (h)
		h->base_seq = h->total;
}
