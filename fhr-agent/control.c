/*
 * fhr-agent's control socket: fhrctl (xtrctl built for the agent) sends
 * one Request of the xtr_ctl protocol per connection; the agent answers
 * show lisp dynamic-eid, show lisp eid-notify (its gateways), show lisp
 * hypervisor (what the hosts' libvirt said), show lisp event-history, and clear lisp dynamic-eid|event-history (root only). A
 * connection is served at once: the request is read with a 1 s limit, the
 * answer written with the same.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fhr-agent/fhr.h"
#include "lib/ctl_conn.h"
#include "lib/evhist_ctl.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "proto/xtr_ctl.pb-c.h"

#define MAX_REQUEST 4096

struct fhr_ctl {
	struct fhr_daemon *d;
	int fd;
	ev_io io;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void reply(int fd, const Vmroam__Xtr__Reply *r)
{
	size_t len = vmroam__xtr__reply__get_packed_size(r);
	uint8_t *buf = xmalloc(len ? len : 1);

	vmroam__xtr__reply__pack(r, buf);
	ctl_send(fd, buf, len);
	free(buf);
}

static void end(int fd, int status, const char *error)
{
	Vmroam__Xtr__Reply r;
	Vmroam__Xtr__End e;

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__end__init(&e);
	e.status = status;
	e.error = (char *)(uintptr_t)(error ? error : "");
	r.item_case = VMROAM__XTR__REPLY__ITEM_END;
	r.end = &e;
	reply(fd, &r);
}

static const char *d_fhr_id(const struct fhr_daemon *d)
{
	return d->conf->fhr_id;
}

struct dyn_walk {
	int fd;
	const struct fhr_daemon *d;
};

static int send_eid(const struct fhr_eid_info *e, void *arg)
{
	static const char *states[] = { "detected", "acknowledged", "moved-away" };
	const struct dyn_walk *w = arg;
	char eid[LISP_PREFIX_STRLEN + 8], vrf[FHR_NAME_MAX] = "", who[64];
	Vmroam__Xtr__Reply r;
	Vmroam__Xtr__DynamicEid m;
	struct lisp_prefix bare = e->p;

	bare.iid = 0;
	lisp_prefix_format(&bare, eid, sizeof(eid));
	for (size_t i = 0; i < w->d->conf->ndyneids; i++)
		if (strcmp(w->d->conf->dyneids[i].name, e->policy) == 0)
			snprintf(vrf, sizeof(vrf), "%s", w->d->conf->dyneids[i].vrf);
	snprintf(who, sizeof(who), "%s", e->has_mac ? "" : "-");
	if (e->has_mac)
		snprintf(who, sizeof(who), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
			 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	vmroam__xtr__reply__init(&r);
	vmroam__xtr__dynamic_eid__init(&m);
	m.instance_id = e->p.iid;
	m.vrf = vrf;
	m.eid = eid;
	m.policy = (char *)(uintptr_t)e->policy;
	m.interface = (char *)(uintptr_t)e->ifname;
	m.source = (char *)(uintptr_t)fhr_source_name(e->source);
	m.since = e->since;
	m.last_seen = e->last_seen;
	m.last_packet = e->last_seen;
	m.registered = e->state == FHR_EID_ACKED;
	m.locator_set = (char *)(uintptr_t) "";
	m.state = (char *)(uintptr_t)states[e->state];
	m.mac = who;
	m.pending_pings = e->probes;
	m.fhr = (char *)(uintptr_t)d_fhr_id(w->d);
	r.item_case = VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID;
	r.dynamic_eid = &m;
	reply(w->fd, &r);
	return 0;
}

static void send_gateways(int fd, const struct fhr_daemon *d)
{
	for (size_t i = 0; i < fhr_gw_count(d->fhr); i++) {
		struct fhr_gw_info g;
		char addr[LISP_ADDR_STRLEN];
		Vmroam__Xtr__Reply r;
		Vmroam__Xtr__EidNotifyPeer m;

		fhr_gw_info(d->fhr, i, &g);
		vmroam__xtr__reply__init(&r);
		vmroam__xtr__eid_notify_peer__init(&m);
		m.id = lisp_addr_format(&g.addr, addr, sizeof(addr));
		m.address = addr;
		m.port = NOTIFY_PORT;
		m.instance_id = g.iid;
		m.dynamic_eid = (char *)(uintptr_t)g.policy;
		m.up = g.up;
		m.last_heard = g.last_heard;
		m.pending = g.pending;
		m.received = g.acked;
		m.arrivals = g.sent;
		m.resyncs = g.resyncs;
		r.item_case = VMROAM__XTR__REPLY__ITEM_EID_NOTIFY_PEER;
		r.eid_notify_peer = &m;
		reply(fd, &r);
	}
}

/* show lisp hypervisor: the listener's counters and the MAC <-> address bindings */
static void send_hypervisor(int fd, const struct fhr_daemon *d)
{
	static const char *states[] = { "arriving", "live", "left" };
	const struct fhr_hv_counters *c = fhr_hv_counters(d->hv);
	const struct fhr_hv_binding *b;
	size_t nb = fhr_hv_bindings(d->hv, &b), nkeys = 0;
	Vmroam__Xtr__HypervisorBinding *bm = xcalloc(nb ? nb : 1, sizeof(*bm));
	Vmroam__Xtr__HypervisorBinding **bp = xcalloc(nb ? nb : 1, sizeof(*bp));
	char(*macs)[18] = xcalloc(nb ? nb : 1, sizeof(*macs));
	char(*addrs)[FHR_HV_ADDRS][LISP_ADDR_STRLEN] = xcalloc(nb ? nb : 1, sizeof(*addrs));
	char **aps = xcalloc((nb ? nb : 1) * FHR_HV_ADDRS, sizeof(char *));
	Vmroam__Xtr__Reply r;
	Vmroam__Xtr__Hypervisor m;

	for (size_t i = 0; i < d->conf->ndyneids; i++) {
		bool first = d->conf->dyneids[i].hv_keylen > 0;

		for (size_t j = 0; j < i && first; j++)
			first = !(d->conf->dyneids[j].hv_keylen &&
				  d->conf->dyneids[j].iid == d->conf->dyneids[i].iid);
		nkeys += first;
	}
	vmroam__xtr__hypervisor__init(&m);
	m.port = d->hv_fd[0] >= 0 || d->hv_fd[1] >= 0 ? d->conf->hv_port : 0;
	m.instance_ids = (uint32_t)nkeys;
	m.received = c->received;
	m.accepted = c->accepted;
	m.auth_failures = c->auth_failures;
	m.replays = c->replays;
	m.stale = c->stale;
	m.unknown_instance_id = c->unknown_iid;
	m.malformed = c->malformed;
	m.busy = c->busy;
	m.arriving = c->by_kind[0];
	m.live = c->by_kind[1];
	m.left = c->by_kind[2];
	m.detected = c->detected;
	m.departed = c->departed;
	m.live_unknown = c->live_unknown;
	m.out_of_prefix = c->out_of_prefix;
	for (size_t i = 0; i < nb; i++) {
		vmroam__xtr__hypervisor_binding__init(&bm[i]);
		snprintf(macs[i], sizeof(macs[i]), "%02x:%02x:%02x:%02x:%02x:%02x", b[i].mac[0],
			 b[i].mac[1], b[i].mac[2], b[i].mac[3], b[i].mac[4], b[i].mac[5]);
		bm[i].mac = macs[i];
		bm[i].instance_id = b[i].iid;
		bm[i].domain = (char *)(uintptr_t)b[i].domain;
		bm[i].host = (char *)(uintptr_t)b[i].host;
		bm[i].state = (char *)(uintptr_t)(b[i].live ? "live" : states[b[i].last_kind % 3]);
		bm[i].since = b[i].since;
		bm[i].updated = b[i].updated;
		for (size_t k = 0; k < b[i].naddrs; k++)
			aps[i * FHR_HV_ADDRS + k] =
				lisp_addr_format(&b[i].addrs[k], addrs[i][k], LISP_ADDR_STRLEN);
		bm[i].n_addresses = b[i].naddrs;
		bm[i].addresses = &aps[i * FHR_HV_ADDRS];
		bp[i] = &bm[i];
	}
	m.n_bindings = nb;
	m.bindings = bp;
	vmroam__xtr__reply__init(&r);
	r.item_case = VMROAM__XTR__REPLY__ITEM_HYPERVISOR;
	r.hypervisor = &m;
	reply(fd, &r);
	free(aps);
	free(addrs);
	free(macs);
	free(bp);
	free(bm);
}

static void reply_cb(const Vmroam__Xtr__Reply *r, void *arg)
{
	reply(*(int *)arg, r);
}

static void serve(struct fhr_ctl *c, int fd)
{
	struct fhr_daemon *d = c->d;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	Vmroam__Xtr__Request *req;
	struct dyn_walk w = { .fd = fd, .d = d };
	struct lisp_prefix p;
	char msg[64];
	uint8_t *buf;
	size_t len;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
		return;
	if (ctl_recv(fd, &buf, &len) < 0)
		return;
	req = len <= MAX_REQUEST ? vmroam__xtr__request__unpack(NULL, len, buf) : NULL;
	free(buf);
	if (!req)
		return end(fd, -EBADMSG, "malformed request");
	switch (req->cmd_case) {
	case VMROAM__XTR__REQUEST__CMD_SHOW_DYNAMIC_EID:
		fhr_eid_walk(d->fhr, send_eid, &w);
		end(fd, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_HYPERVISOR:
		send_hypervisor(fd, d);
		end(fd, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_EID_NOTIFY:
		send_gateways(fd, d);
		end(fd, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_CLEAR_DYNAMIC_EID:
		if (cred.uid != 0) {
			end(fd, -EPERM, "needs root");
			break;
		}
		if (req->clear_dynamic_eid->prefix[0] &&
		    lisp_prefix_parse(req->clear_dynamic_eid->prefix,
				      req->clear_dynamic_eid->instance_id, &p) < 0) {
			end(fd, -EINVAL, "not an EID prefix");
			break;
		}
		snprintf(msg, sizeof(msg), "%d dynamic EIDs cleared",
			 fhr_clear(d->fhr, req->clear_dynamic_eid->prefix[0] ? &p : NULL,
				   ev_now(d->loop)));
		end(fd, 0, msg);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_EVENT_HISTORY:
	case VMROAM__XTR__REQUEST__CMD_CLEAR_EVENT_HISTORY: {
		bool clear = req->cmd_case == VMROAM__XTR__REQUEST__CMD_CLEAR_EVENT_HISTORY;
		int rc;

		if (clear && cred.uid != 0) {
			end(fd, -EPERM, "needs root");
			break;
		}
		rc = evh_serve(clear ? req->clear_event_history : req->show_event_history, clear,
			       reply_cb, &fd, msg, sizeof(msg));
		end(fd, rc, msg[0] ? msg : NULL);
		break;
	}
	default:
		end(fd, -EOPNOTSUPP, "not a command of fhr-agent");
		break;
	}
	vmroam__xtr__request__free_unpacked(req, NULL);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fhr_ctl *c = container_of(w, struct fhr_ctl, io);
	struct timeval tv = { .tv_sec = 1 };
	int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);

	(void)loop;
	(void)revents;
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	serve(c, fd);
	close(fd);
}

struct fhr_ctl *fhr_ctl_open(struct fhr_daemon *d, const char *path)
{
	struct fhr_ctl *c = xcalloc(1, sizeof(*c));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		fatal("control: socket path %s too long", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->d = d;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		fatal("control: socket: %s", strerror(errno));
	unlink(path);
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->fd, 8) < 0)
		fatal("control: %s: %s", path, strerror(errno));
	chmod(path, 0666); /* show commands for everyone; changes need root (SO_PEERCRED) */
	ev_io_init(&c->io, accept_cb, c->fd, EV_READ);
	ev_io_start(d->loop, &c->io);
	return c;
}

void fhr_ctl_close(struct fhr_ctl *c)
{
	if (!c)
		return;
	ev_io_stop(c->d->loop, &c->io);
	close(c->fd);
	unlink(c->path);
	free(c);
}
