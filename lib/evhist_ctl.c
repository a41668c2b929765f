/* show|clear lisp event-history for both daemons' control sockets (see evhist_ctl.h). */
#include <errno.h>
#include <stdio.h>

#include "lib/evhist.h"
#include "lib/evhist_ctl.h"

struct serve {
	evh_reply_fn fn;
	void *arg;
};

static int send_one(const struct evh_entry *e, void *arg)
{
	struct serve *s = arg;
	struct lisp_prefix bare = e->eid;
	char eid[LISP_PREFIX_STRLEN] = "", peer[LISP_ADDR_STRLEN] = "";
	Vmroam__Xtr__Event m;
	Vmroam__Xtr__Reply r;

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__event__init(&m);
	bare.iid = 0; /* the instance-id has a field of its own */
	if (e->eid.addr.afi != LISP_AFI_NONE)
		lisp_prefix_format(&bare, eid, sizeof(eid));
	if (e->peer.afi != LISP_AFI_NONE)
		lisp_addr_format(&e->peer, peer, sizeof(peer));
	m.seq = e->seq;
	m.time = e->time;
	m.event = (char *)(uintptr_t)e->event;
	m.instance_id = e->eid.iid;
	m.eid = eid;
	m.peer = peer;
	m.detail = (char *)(uintptr_t)e->detail;
	r.item_case = VMROAM__XTR__REPLY__ITEM_EVENT;
	r.event = &m;
	s->fn(&r, s->arg);
	return 0;
}

int evh_serve(struct evhist *h, const Vmroam__Xtr__EventHistoryRequest *q, bool clear,
	      evh_reply_fn fn, void *arg, char *msg, size_t msglen)
{
	struct serve s = { .fn = fn, .arg = arg };
	struct lisp_prefix p;
	bool all = !q->prefix || !q->prefix[0];

	msg[0] = '\0';
	if (clear) {
		snprintf(msg, msglen, "%llu events cleared", (unsigned long long)evh_count(h));
		evh_clear(h);
		return 0;
	}
	if (!all && lisp_prefix_parse(q->prefix, q->instance_id, &p) < 0) {
		snprintf(msg, msglen, "not an EID prefix (host bits must be zero)");
		return -EINVAL;
	}
	evh_walk(h, all ? NULL : &p, send_one, &s);
	return 0;
}
