/*
 * Event history: the last state changes of a daemon about EIDs (detected,
 * notified, registered, moved, away, SMR, map-cache updated), each with
 * its wall-clock time in microseconds, kept in a fixed ring so that an
 * operator can see afterwards what happened in which order (`show lisp
 * event-history`, NX-OS's event-history) and the lab can time a move
 * across daemons. Only changes are recorded, never per-packet events.
 *
 * An object each daemon's main creates and passes to the engines that
 * record; a NULL history records nothing (engines under test pass NULL).
 * Not thread-safe (the daemons are one loop).
 */
#ifndef LIB_EVHIST_H
#define LIB_EVHIST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

#define EVH_CAPACITY   2048 /* events kept; older ones are overwritten */
#define EVH_DETAIL_LEN 48

struct evh_entry {
	uint64_t seq;		/* 1, 2, ... in the order recorded */
	double time;		/* unix time, microsecond resolution */
	const char *event;	/* a static name: "detected", "registered", ... */
	struct lisp_prefix eid; /* plen 0 and AFI none: no EID */
	struct lisp_addr peer;	/* the other side (FHR, gateway, map-server, ITR), or none */
	char detail[EVH_DETAIL_LEN];
};

struct evhist;

/* A new, empty history (caller frees: evh_free()). */
struct evhist *evh_new(void);
/* Frees h; evh_free(NULL) is a no-op. */
void evh_free(struct evhist *h);

/*
 * Records an event now in h (nothing when h is NULL). event must be a
 * string literal (kept by pointer); eid and peer may be NULL; fmt may be
 * NULL for no detail (truncated to EVH_DETAIL_LEN - 1 characters).
 */
void evh_add(struct evhist *h, const char *event, const struct lisp_prefix *eid,
	     const struct lisp_addr *peer, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Calls fn for each kept event, oldest first, whose EID lies within filter
 * (or every event when filter is NULL), until fn returns non-zero (which
 * is returned). Events with no EID match only a NULL filter. A NULL h
 * holds no events.
 */
typedef int (*evh_fn)(const struct evh_entry *e, void *arg);
int evh_walk(const struct evhist *h, const struct lisp_prefix *filter, evh_fn fn, void *arg);

/*
 * The same with the time given (from evh_now()): for an event whose moment
 * is before the call, e.g. a message recorded once its send succeeded.
 */
void evh_add_at(struct evhist *h, double time, const char *event, const struct lisp_prefix *eid,
		const struct lisp_addr *peer, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* The wall-clock time as events record it. */
double evh_now(void);

/* Events kept now, and recorded since the start (or since the last clear). */
size_t evh_count(const struct evhist *h);
uint64_t evh_total(const struct evhist *h);

/* Forgets every event of h. */
void evh_clear(struct evhist *h);

#endif /* LIB_EVHIST_H */
