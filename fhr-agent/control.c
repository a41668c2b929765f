/*
 * fhr-agent's control socket: fhrctl (xtrctl built for the agent) sends
 * one Request of the xtr_ctl protocol per connection; the agent answers
 * show lisp dynamic-eid, show lisp eid-notify (its gateways), show lisp
 * hypervisor (what the hosts' libvirt said), show lisp event-history, and
 * clear lisp dynamic-eid|event-history (root only). As in xtr-gateway, no
 * client holds up the loop: each is read into a fixed buffer and answered
 * as its socket allows, a length prefix over MAX_REQUEST is refused as
 * soon as it arrives, a connection still open at its deadline is closed,
 * and at most MAX_CLIENTS are open at a time. Refusals are counted, logged
 * (rate-limited, with the count so far) and summed up at shutdown.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fhr-agent/detect.h"
#include "fhr-agent/fhr.h"
#include "lib/buf.h"
#include "lib/ctl_conn.h"
#include "lib/evhist_ctl.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "proto/xtr_ctl.pb-c.h"

#define MAX_REQUEST 4096 /* bytes of a Request: fhrctl's are tens */
#define MAX_CLIENTS 16	 /* connections open at a time; the next are closed at once */
#define DEADLINE    5.0	 /* s from accept to the answer's last byte; then closed */

struct ctl_client {
	struct ctl_client *next;
	struct fhr_ctl *ctl;
	int fd;
	uid_t uid;
	pid_t pid;
	ev_io rio, wio;
	ev_timer deadline;
	uint8_t in[CTL_HDR_LEN + MAX_REQUEST];
	size_t inlen;
	uint8_t *out; /* the answer's frames; written from outoff on */
	size_t outlen, outoff, outcap;
};

struct fhr_ctl {
	struct fhr_daemon *d;
	int fd;
	ev_io io;
	ev_timer pause; /* accepting again after running out of file descriptors */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client *clients;
	unsigned nclients;
	/* connections closed: MAX_CLIENTS open already, too large a request, past DEADLINE */
	uint64_t busy, too_large, late;
	struct log_rate rl_busy, rl_too_large, rl_late, rl_fds;
};

static void client_free(struct ctl_client *cl)
{
	struct ctl_client **pp = &cl->ctl->clients;

	while (*pp != cl)
		pp = &(*pp)->next;
	*pp = cl->next;
	cl->ctl->nclients--;
	ev_io_stop(cl->ctl->d->loop, &cl->rio);
	ev_io_stop(cl->ctl->d->loop, &cl->wio);
	ev_timer_stop(cl->ctl->d->loop, &cl->deadline);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

/* Queues one Reply for the client; write_cb sends what is queued as the socket takes it. */
static void reply(struct ctl_client *cl, const Vmroam__Xtr__Reply *r)
{
	size_t len = vmroam__xtr__reply__get_packed_size(r);

	if (cl->outlen + CTL_HDR_LEN + len > cl->outcap) {
		cl->outcap = (cl->outlen + CTL_HDR_LEN + len) * 2;
		cl->out = xrealloc(cl->out, cl->outcap);
	}
	ctl_frame_header(cl->out + cl->outlen, len);
	vmroam__xtr__reply__pack(r, cl->out + cl->outlen + CTL_HDR_LEN);
	cl->outlen += CTL_HDR_LEN + len;
}

/* Queues the End; the client is read no more, and closed once all is written. */
static void end(struct ctl_client *cl, int status, const char *error)
{
	Vmroam__Xtr__Reply r;
	Vmroam__Xtr__End e;

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__end__init(&e);
	e.status = status;
	e.error = (char *)(uintptr_t)(error ? error : "");
	r.item_case = VMROAM__XTR__REPLY__ITEM_END;
	r.end = &e;
	reply(cl, &r);
	ev_io_stop(cl->ctl->d->loop, &cl->rio);
	ev_io_start(cl->ctl->d->loop, &cl->wio);
}

static const char *d_fhr_id(const struct fhr_daemon *d)
{
	return d->conf->fhr_id;
}

struct dyn_walk {
	struct ctl_client *cl;
	const struct fhr_daemon *d;
};

static int send_eid(const struct fhr_eid_info *e, void *arg)
{
	static const char *states[] = { "detected", "acknowledged", "moved-away" };
	const struct dyn_walk *w = arg;
	char eid[LISP_PREFIX_STRLEN + 8], vrf[FHR_NAME_MAX] = "", who[64], state[48];
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
	/* leaving: its VM paused to migrate away, with the packets held for it here */
	snprintf(state, sizeof(state), "%s", states[e->state]);
	if (e->leaving)
		snprintf(state, sizeof(state), "leaving (%u held)", fhr_nfq_held(w->d, &e->p.addr));
	m.state = state;
	m.mac = who;
	m.pending_pings = e->probes;
	m.fhr = (char *)(uintptr_t)d_fhr_id(w->d);
	r.item_case = VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID;
	r.dynamic_eid = &m;
	reply(w->cl, &r);
	return 0;
}

/* After the EIDs of show lisp dynamic-eid: each dynamic-eid, its EIDs and eid-limit. */
static void send_policies(struct ctl_client *cl, const struct fhr_daemon *d)
{
	for (size_t i = 0; i < d->conf->ndyneids; i++) {
		const struct fhr_conf_dyneid *y = &d->conf->dyneids[i];
		Vmroam__Xtr__DynamicEidPolicy m;
		Vmroam__Xtr__Reply r;
		size_t eids;

		vmroam__xtr__reply__init(&r);
		vmroam__xtr__dynamic_eid_policy__init(&m);
		m.name = (char *)(uintptr_t)y->name;
		m.instance_id = y->iid;
		m.vrf = (char *)(uintptr_t)y->vrf;
		m.active = true;
		m.eid_notify = y->ngws > 0;
		m.host_limit = y->eid_limit;
		fhr_dyn_info(d->fhr, i, &eids, &m.refused_limit);
		m.hosts = eids;
		r.item_case = VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID_POLICY;
		r.dynamic_eid_policy = &m;
		reply(cl, &r);
	}
}

static void send_gateways(struct ctl_client *cl, const struct fhr_daemon *d)
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
		m.eids = g.eids;
		m.in_sync = g.in_sync;
		m.digest_resyncs = g.digest_resyncs;
		m.replays = g.replays;
		m.refused = g.refused;
		r.item_case = VMROAM__XTR__REPLY__ITEM_EID_NOTIFY_PEER;
		r.eid_notify_peer = &m;
		reply(cl, &r);
	}
}

/* show lisp hypervisor: the listener's counters and the MAC <-> address bindings */
static void send_hypervisor(struct ctl_client *cl, const struct fhr_daemon *d)
{
	static const char *states[] = { "arriving", "live", "left", "leaving" };
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
		bm[i].state = (char *)(uintptr_t)(b[i].live ? "live" : states[b[i].last_kind % 4]);
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
	reply(cl, &r);
	free(aps);
	free(addrs);
	free(macs);
	free(bp);
	free(bm);
}

/* show lisp statistics: detection's counters, then the EID table's and the channel's. */
static void send_statistics(struct ctl_client *cl, struct fhr_daemon *d)
{
	const struct fhr_counters *c = fhr_counters(d->fhr);
	const struct fhr_detect_counters dc = fhr_detect_counters(d);
	const struct fhr_hold_counters hc = fhr_nfq_counters(d);
	const struct fhr_hv_counters *hv = fhr_hv_counters(d->hv);
	const struct {
		const char *name, *help;
		uint64_t value;
	} * v, all[] = {
		{ "frames", "frames of the mobility interfaces read", dc.frames },
		{ "malformed_frames", "malformed frames or packets, dropped", dc.malformed },
		{ "proxy_arps", "ARP / ND answered by proxy (across subnets)", dc.proxy_arps },
		{ "locality_probes", "locality probes (extended subnet)", dc.locality_probes },
		{ "announced", "announcements on a VM's behalf (gratuitous ARP, NA)",
		  dc.announced },
		{ "moved_in_frames", "moved-in VMs' frames to MACs not here", dc.fwd_frames },
		{ "moved_in_forwarded", "of them routed on", dc.forwarded },
		{ "moved_in_corrections", "moved-in VMs told the FHR's MAC", dc.corrections },
		{ "moved_in_refused",
		  "of them not routed (not from a VM here, or not to a host of the tenant)",
		  dc.fwd_refused },
		{ "detections", "detections", c->detections },
		{ "arrivals", "arrivals (new EIDs, or back)", c->arrivals },
		{ "refreshes", "refreshes of known EIDs", c->refreshes },
		{ "out_of_prefix", "detections outside every dynamic-eid prefix",
		  c->out_of_prefix },
		{ "hijacks", "known EIDs claimed by another MAC", c->hijacks },
		{ "eid_limit", "new EIDs refused at an eid-limit", c->eid_limit },
		{ "mac_asks", "arrivals without a MAC (a data packet): asked for it", c->mac_asks },
		{ "macs_learned", "of them, MACs learned later", c->macs_learned },
		{ "probes", "liveness probes", c->probes },
		{ "departures", "departures (unanswered probes)", c->departures },
		{ "moves_told", "MovedAway from a gateway", c->moves_told },
		{ "move_checks", "moved-away EIDs probed (still here?)", c->move_checks },
		{ "moves_stale", "MovedAway about an older state, ignored", c->moves_stale },
		{ "conflicts_held", "re-assertions held (another site keeps claiming)",
		  c->conflicts_held },
		{ "hv_leaving", "HV_LEAVING events (a VM paused to migrate away)", hv->by_kind[3] },
		{ "hv_pausing", "HV_PAUSING events (a migration pass that may be the last)",
		  hv->by_kind[4] },
		{ "hv_leaving_unknown", "of them for a VM with no EID here, ignored",
		  hv->leaving_unknown },
		{ "leaving", "EIDs leaving (held, the gateways told LEAVING)", c->leaving },
		{ "leaving_ignored", "LEAVING for EIDs not here (moved away, unknown), ignored",
		  c->leaving_ignored },
		{ "leaving_moved", "leaving ended by a MovedAway", c->leaving_moved },
		{ "leaving_stayed", "leaving ended by HV_LIVE (the migration failed)",
		  c->leaving_stayed },
		{ "leaving_expired", "leaving ended by the migration-hold", c->leaving_expired },
		{ "leaving_unpaused",
		  "leaving from a migration pass, ended: no pause followed (the migration went on)",
		  c->leaving_unpaused },
		{ "leaving_left", "HV_LEFT while leaving (departure deferred)", c->leaving_left },
		{ "leaving_steered_over",
		  "its frames steered to us, hold time over: what was held dropped, held on",
		  c->leaving_steered_over },
		{ "leaving_now", "EIDs leaving now", fhr_leaving_count(d->fhr) },
		{ "hold_held", "packets from our segments held for a leaving EID", hc.held },
		{ "hold_released_up", "held packets released up (moved away)",
		  hc.released[FHR_RELEASE_UP] },
		{ "hold_released_here", "held packets delivered here (stays, hold time)",
		  hc.released[FHR_RELEASE_HERE] },
		{ "hold_released_gone", "held packets let go as it left the table",
		  hc.released[FHR_RELEASE_GONE] },
		{ "hold_dropped_steered", "held packets dropped (steered to us, hold time over)",
		  hc.released[FHR_RELEASE_DROP] },
		{ "hold_over_limit", "packets over a hold limit, passed on at once",
		  hc.over_limit },
		{ "hold_eids_refused", "leaving EIDs not held (too many held)", hc.eids_refused },
		{ "hold_holding", "packets held now", hc.holding },
		{ "steal_frames", "frames from a leaving VM's MAC (extended subnet: drawn here)",
		  dc.steal_frames },
		{ "steal_held", "packets to a leaving VM's MAC held", dc.stolen },
		{ "steal_over_limit", "of them over a hold limit, dropped", dc.stolen_over },
		{ "steal_refused", "of them not to an EID of the VM, dropped", dc.stolen_refused },
		{ "steal_released_up", "held packets to its MAC routed up (moved away)",
		  dc.stolen_up },
		{ "steal_released_here", "held packets to its MAC delivered here (stays)",
		  dc.stolen_here },
		{ "steal_dropped", "held packets to its MAC dropped (left the table, TTL)",
		  dc.stolen_dropped },
		{ "steal_holding", "packets to a leaving VM's MAC held now", dc.stolen_holding },
		{ "steal_wait_timeouts", "VMs that stay: no answer within 50 ms",
		  dc.steal_timeouts },
		{ "received", "eid-notify datagrams received", c->received },
		{ "auth_failures", "of them failing authentication", c->auth_failures },
		{ "replays", "of them replayed", c->replays },
		{ "malformed", "of them malformed", c->malformed },
		{ "stale_session", "of them naming an earlier life of ours", c->stale_session },
		{ "misdirected", "of them not for us", c->misdirected },
		{ "refused_by_gateway", "notifications a gateway refused", c->refused_by_gw },
	};
	size_t n = sizeof(all) / sizeof(all[0]);
	Vmroam__Xtr__FhrCounter *cs = xcalloc(n, sizeof(*cs)), **cp = xcalloc(n, sizeof(*cp));
	Vmroam__Xtr__FhrStatistics m;
	Vmroam__Xtr__Reply r;

	for (size_t i = 0; i < n; i++) {
		v = &all[i];
		vmroam__xtr__fhr_counter__init(&cs[i]);
		cs[i].name = (char *)(uintptr_t)v->name;
		cs[i].help = (char *)(uintptr_t)v->help;
		cs[i].value = v->value;
		cp[i] = &cs[i];
	}
	vmroam__xtr__fhr_statistics__init(&m);
	m.n_counters = n;
	m.counters = cp;
	vmroam__xtr__reply__init(&r);
	r.item_case = VMROAM__XTR__REPLY__ITEM_FHR_STATISTICS;
	r.fhr_statistics = &m;
	reply(cl, &r);
	free(cp);
	free(cs);
}

static void reply_cb(const Vmroam__Xtr__Reply *r, void *arg)
{
	reply(arg, r);
}

/* Answers the request in buf[0..len); every way ends with end(). */
static void do_request(struct ctl_client *cl, const uint8_t *buf, size_t len)
{
	struct fhr_daemon *d = cl->ctl->d;
	Vmroam__Xtr__Request *req = vmroam__xtr__request__unpack(NULL, len, buf);
	struct dyn_walk w = { .cl = cl, .d = d };
	struct lisp_prefix p;
	char msg[64];

	if (!req)
		return end(cl, -EBADMSG, "malformed request");
	switch (req->cmd_case) {
	case VMROAM__XTR__REQUEST__CMD_SHOW_DYNAMIC_EID:
		fhr_eid_walk(d->fhr, send_eid, &w);
		send_policies(cl, d);
		end(cl, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_STATISTICS:
		send_statistics(cl, d);
		end(cl, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_HYPERVISOR:
		send_hypervisor(cl, d);
		end(cl, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_EID_NOTIFY:
		send_gateways(cl, d);
		end(cl, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_CLEAR_DYNAMIC_EID:
		if (cl->uid != 0) {
			end(cl, -EPERM, "needs root");
			break;
		}
		if (req->clear_dynamic_eid->prefix[0] &&
		    lisp_prefix_parse(req->clear_dynamic_eid->prefix,
				      req->clear_dynamic_eid->instance_id, &p) < 0) {
			end(cl, -EINVAL, "not an EID prefix");
			break;
		}
		snprintf(msg, sizeof(msg), "%d dynamic EIDs cleared",
			 fhr_clear(d->fhr, req->clear_dynamic_eid->prefix[0] ? &p : NULL,
				   ev_now(d->loop)));
		end(cl, 0, msg);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_EVENT_HISTORY:
	case VMROAM__XTR__REQUEST__CMD_CLEAR_EVENT_HISTORY: {
		bool clear = req->cmd_case == VMROAM__XTR__REQUEST__CMD_CLEAR_EVENT_HISTORY;
		int rc;

		if (clear && cl->uid != 0) {
			end(cl, -EPERM, "needs root");
			break;
		}
		rc = evh_serve(d->evh, clear ? req->clear_event_history : req->show_event_history,
			       clear, reply_cb, cl, msg, sizeof(msg));
		end(cl, rc, msg[0] ? msg : NULL);
		break;
	}
	default:
		end(cl, -EOPNOTSUPP, "not a command of fhr-agent");
		break;
	}
	vmroam__xtr__request__free_unpacked(req, NULL);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *cl = container_of(w, struct ctl_client, rio);
	struct fhr_ctl *c = cl->ctl;
	const uint8_t *msg;
	size_t msglen, used;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = read(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return client_free(cl); /* gone (or broken) before its request was whole */
	cl->inlen += (size_t)n;
	/* the claim is checked first: a frame within it always fits in cl->in */
	if (cl->inlen >= CTL_HDR_LEN && buf_load_be32(cl->in) > MAX_REQUEST) {
		c->too_large++;
		log_warn_rl(&c->rl_too_large,
			    "control: uid %d pid %d: request of %" PRIu32 " bytes, over %d: "
			    "refused (%" PRIu64 " so far)",
			    (int)cl->uid, (int)cl->pid, buf_load_be32(cl->in), MAX_REQUEST,
			    c->too_large);
		return end(cl, -EMSGSIZE, "request too large");
	}
	if (ctl_frame_next(cl->in, cl->inlen, &msg, &msglen, &used) == 0)
		do_request(cl, msg, msglen);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *cl = container_of(w, struct ctl_client, wio);
	ssize_t n;

	(void)loop;
	(void)revents;
	n = write(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		return client_free(cl);
	cl->outoff += (size_t)n;
	if (cl->outoff == cl->outlen)
		client_free(cl); /* one request a connection: all sent */
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_client *cl = container_of(w, struct ctl_client, deadline);
	struct fhr_ctl *c = cl->ctl;

	(void)loop;
	(void)revents;
	c->late++;
	log_warn_rl(&c->rl_late,
		    "control: uid %d pid %d: not done by the %.0f s deadline (%zu bytes in, "
		    "%zu of %zu out): closed (%" PRIu64 " so far)",
		    (int)cl->uid, (int)cl->pid, DEADLINE, cl->inlen, cl->outoff, cl->outlen,
		    c->late);
	client_free(cl);
}

static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fhr_ctl *c = container_of(w, struct fhr_ctl, pause);

	(void)revents;
	ev_io_start(loop, &c->io);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fhr_ctl *c = container_of(w, struct fhr_ctl, io);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_client *cl;
	int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)revents;
	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
		/* the connection stays queued: listening on would spin; try again in a second */
		log_warn_rl(&c->rl_fds, "control: accept: %s: paused for 1 s", strerror(errno));
		ev_io_stop(loop, &c->io);
		ev_timer_set(&c->pause, 1.0, 0.0); /* (a one-shot timer forgets its delay) */
		ev_timer_start(loop, &c->pause);
		return;
	}
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (c->nclients >= MAX_CLIENTS) {
		c->busy++;
		log_warn_rl(&c->rl_busy,
			    "control: uid %d pid %d: %d connections open already: refused "
			    "(%" PRIu64 " so far)",
			    (int)cred.uid, (int)cred.pid, MAX_CLIENTS, c->busy);
		close(fd);
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->ctl = c;
	cl->fd = fd;
	cl->uid = cred.uid;
	cl->pid = cred.pid;
	ev_io_init(&cl->rio, read_cb, fd, EV_READ);
	ev_io_init(&cl->wio, write_cb, fd, EV_WRITE);
	ev_io_start(loop, &cl->rio);
	ev_timer_init(&cl->deadline, deadline_cb, DEADLINE, 0);
	ev_timer_start(loop, &cl->deadline);
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	log_debug(LOG_CTL, "control: connection from uid %d pid %d", (int)cl->uid, (int)cl->pid);
}

struct fhr_ctl *fhr_ctl_open(struct fhr_daemon *d, const char *path)
{
	struct fhr_ctl *c = xcalloc(1, sizeof(*c));

	if (strlen(path) >= sizeof(c->path))
		fatal("control: socket path %s too long", path);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->d = d;
	/* 0660, group vmroam: show commands for root and them; changes need root (SO_PEERCRED) */
	c->fd = ctl_listen(path, CTL_GROUP, MAX_CLIENTS);
	if (c->fd < 0)
		fatal("control: %s: %s", path, strerror(-c->fd));
	ev_io_init(&c->io, accept_cb, c->fd, EV_READ);
	ev_io_start(d->loop, &c->io);
	ev_timer_init(&c->pause, resume_cb, 1.0, 0);
	return c;
}

void fhr_ctl_close(struct fhr_ctl *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	if (c->busy || c->too_large || c->late)
		log_info("control: connections refused: %" PRIu64 " over %d open, %" PRIu64
			 " requests too large, %" PRIu64 " past the deadline",
			 c->busy, MAX_CLIENTS, c->too_large, c->late);
	ev_io_stop(c->d->loop, &c->io);
	ev_timer_stop(c->d->loop, &c->pause);
	close(c->fd);
	unlink(c->path);
	free(c);
}
