/*
 * libvirt's event loop on libev (virEventRegisterImpl): libvirt's file
 * handles become ev_io watchers, its timeouts ev_timers, so that the
 * watcher's one loop serves libvirt's connection, its keepalives and our
 * own sockets. Free callbacks run from the next loop iteration (ev_prepare),
 * never from inside a remove call, as libvirt expects.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <libvirt/libvirt.h>

#include "hypervisor-hooks/loop_virt.h"
#include "lib/xalloc.h"

struct slot {
	bool is_timer, removed;
	int id, fd, events, freq;
	ev_io io;
	ev_timer tm;
	union {
		virEventHandleCallback h;
		virEventTimeoutCallback t;
	} cb;
	void *opaque;
	virFreeCallback ff;
};

static struct {
	struct ev_loop *loop;
	struct slot **v; /* each slot on its own: its watcher never moves */
	size_t n, cap;
	int next_id;
	ev_prepare reaper;
	bool reap;
} E;

static struct slot *find(int id, bool timer)
{
	for (size_t i = 0; i < E.n; i++)
		if (!E.v[i]->removed && E.v[i]->id == id && E.v[i]->is_timer == timer)
			return E.v[i];
	return NULL;
}

static struct slot *alloc_slot(void)
{
	if (E.n == E.cap) {
		E.cap = E.cap ? E.cap * 2 : 32;
		E.v = xreallocarray(E.v, E.cap, sizeof(*E.v));
	}
	E.v[E.n] = xcalloc(1, sizeof(struct slot));
	return E.v[E.n++];
}

static int to_ev(int events)
{
	return (events & VIR_EVENT_HANDLE_READABLE ? EV_READ : 0) |
	       (events & VIR_EVENT_HANDLE_WRITABLE ? EV_WRITE : 0);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct slot *s = w->data;
	int ev = (revents & EV_READ ? VIR_EVENT_HANDLE_READABLE : 0) |
		 (revents & EV_WRITE ? VIR_EVENT_HANDLE_WRITABLE : 0) |
		 (revents & EV_ERROR ? VIR_EVENT_HANDLE_ERROR : 0);

	(void)loop;
	if (!s->removed)
		s->cb.h(s->id, s->fd, ev, s->opaque);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct slot *s = w->data;

	(void)revents;
	if (s->removed || s->freq < 0)
		return;
	/* re-armed before the call: the callback may update or remove it */
	ev_timer_set(&s->tm, s->freq / 1000.0, 0);
	ev_timer_start(loop, &s->tm);
	s->cb.t(s->id, s->opaque);
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
		      virFreeCallback ff)
{
	struct slot *s = alloc_slot();

	s->id = ++E.next_id;
	s->fd = fd;
	s->events = events;
	s->cb.h = cb;
	s->opaque = opaque;
	s->ff = ff;
	ev_io_init(&s->io, io_cb, fd, to_ev(events));
	s->io.data = s;
	if (to_ev(events))
		ev_io_start(E.loop, &s->io);
	return s->id;
}

static void update_handle(int id, int events)
{
	struct slot *s = find(id, false);

	if (!s)
		return;
	ev_io_stop(E.loop, &s->io);
	s->events = events;
	ev_io_set(&s->io, s->fd, to_ev(events));
	if (to_ev(events))
		ev_io_start(E.loop, &s->io);
}

static int remove_slot(int id, bool timer)
{
	struct slot *s = find(id, timer);

	if (!s)
		return -1;
	if (timer)
		ev_timer_stop(E.loop, &s->tm);
	else
		ev_io_stop(E.loop, &s->io);
	s->removed = true;
	E.reap = true;
	return 0;
}

static int remove_handle(int id)
{
	return remove_slot(id, false);
}

static int add_timeout(int freq, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	struct slot *s = alloc_slot();

	s->is_timer = true;
	s->id = ++E.next_id;
	s->freq = freq;
	s->cb.t = cb;
	s->opaque = opaque;
	s->ff = ff;
	ev_timer_init(&s->tm, timer_cb, freq >= 0 ? freq / 1000.0 : 0, 0);
	s->tm.data = s;
	if (freq >= 0)
		ev_timer_start(E.loop, &s->tm);
	return s->id;
}

static void update_timeout(int id, int freq)
{
	struct slot *s = find(id, true);

	if (!s)
		return;
	ev_timer_stop(E.loop, &s->tm);
	s->freq = freq;
	if (freq >= 0) {
		ev_timer_set(&s->tm, freq / 1000.0, 0);
		ev_timer_start(E.loop, &s->tm);
	}
}

static int remove_timeout(int id)
{
	return remove_slot(id, true);
}

/* Before each loop iteration: the free callbacks of what was removed. */
static void reap_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	while (E.reap) {
		E.reap = false;
		for (size_t i = 0; i < E.n;) {
			struct slot *s = E.v[i];

			if (!s->removed) {
				i++;
				continue;
			}
			E.v[i] = E.v[--E.n];
			if (s->ff)
				s->ff(s->opaque); /* (it may add or remove more) */
			free(s);
		}
	}
}

void virt_ev_register(struct ev_loop *loop)
{
	E.loop = loop;
	ev_prepare_init(&E.reaper, reap_cb);
	ev_prepare_start(loop, &E.reaper);
	virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout, update_timeout,
			     remove_timeout);
}

size_t virt_ev_active(void)
{
	size_t n = 0;

	for (size_t i = 0; i < E.n; i++)
		n += !E.v[i]->removed;
	return n;
}
