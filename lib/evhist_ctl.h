/*
 * The control-socket side of the event history, shared by both daemons:
 * show|clear lisp event-history [PREFIX] [instance-id N].
 */
#ifndef LIB_EVHIST_CTL_H
#define LIB_EVHIST_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/xtr_ctl.pb-c.h"

struct evhist;

typedef void (*evh_reply_fn)(const Vmroam__Xtr__Reply *r, void *arg);

/*
 * Sends one Reply (an Event) through fn for each event of h (borrowed) in
 * q's prefix (all when empty), oldest first; or, with clear, forgets them all. Returns 0
 * with what was done in msg ("" for show), or -EINVAL with the reason.
 */
int evh_serve(struct evhist *h, const Vmroam__Xtr__EventHistoryRequest *q, bool clear,
	      evh_reply_fn fn, void *arg, char *msg, size_t msglen);

#endif /* LIB_EVHIST_CTL_H */
