/*
 * Prometheus metrics: `metrics listen ADDRESS port N` opens a small HTTP
 * listener (off by default) that answers GET /metrics with the counters of
 * `xtrctl show lisp statistics` and `show lisp dataplane` in Prometheus'
 * text format (version 0.0.4). One request per connection; requests are
 * read up to 4 KiB and 5 s, at most 16 clients at once; everything else is
 * refused with an HTTP error and counted. The answer is sent whole: what
 * the socket does not take at once waits (one answer per client) and goes
 * out as the client reads, within 30 s; then the connection closes.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define REQ_MAX	    METRICS_REQ_MAX
#define CLIENTS_MAX 16
#define CLIENT_TIME 5.0	 /* s: to send a whole request */
#define SEND_TIME   30.0 /* s: to take a whole answer */
#define BODY_FIRST  (16 * 1024)

struct mclient {
	ev_io io;
	ev_timer timer;
	int fd;
	size_t len;
	char req[REQ_MAX];
	char *out; /* the answer (head and body) once there is one */
	size_t outlen, outoff;
	struct metrics *m;
};

struct metrics {
	struct xtr_daemon *d;
	int fd;
	ev_io io;
	struct lisp_addr addr;
	uint16_t port;
	struct mclient *clients[CLIENTS_MAX];
	uint64_t served, refused, unfinished;
	struct log_rate rl;
};

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends to o, growing it: the size follows the configuration (dynamic-eids, workers). */
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		o->cap = 2 * (o->len + (size_t)n + 1);
		o->buf = xrealloc(o->buf, o->cap);
	}
}

static void metric(struct out *o, const char *name, const char *type, const char *help, uint64_t v)
{
	put(o, "# HELP vmroam_xtr_%s %s\n# TYPE vmroam_xtr_%s %s\nvmroam_xtr_%s %llu\n", name, help,
	    name, type, name, (unsigned long long)v);
}

/* A label value: \, " and newline escaped. */
static const char *label(const char *s, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 2 < cap; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[n++] = '\\';
		buf[n++] = *s == '\n' ? 'n' : *s;
	}
	buf[n] = '\0';
	return buf;
}

/* Publish/subscribe (RFC 9437): this ITR's subscriptions, the Map-Server's per subscriber. */
static void render_pubsub(struct xtr_daemon *d, struct out *o)
{
	const struct mc_counters *m = mc_counters(d->mc);
	const struct ms_pub_counters *pc = ms_pub_counters(d->ms);
	const struct ms_subscriber_counters *c;
	const struct ms_subscriber *w;
	char lb[128];
	size_t n;

	metric(o, "itr_subscriptions", "gauge", "ITR: subscriptions held now.",
	       mc_sub_count(d->mc));
	metric(o, "itr_subscribe_requests_total", "counter", "ITR: Map-Requests that subscribed.",
	       m->subs_requested);
	metric(o, "itr_subscriptions_confirmed_total", "counter", "ITR: confirmations taken.",
	       m->subs_confirmed);
	metric(o, "itr_subscriptions_unconfirmed_total", "counter",
	       "ITR: subscribing requests never confirmed (a Map-Server without PubSub).",
	       m->subs_unconfirmed);
	metric(o, "itr_subscriptions_refused_total", "counter",
	       "ITR: subscriptions refused by the Map-Server (ACT 4 or 5).", m->subs_refused);
	metric(o, "itr_publications_total", "counter", "ITR: publications taken.", m->publications);
	metric(o, "itr_publications_refused_total", "counter",
	       "ITR: Map-Notifies refused (authentication, nonce, sender, record).",
	       m->publications_refused);
	metric(o, "itr_unsubscribes_total", "counter", "ITR: subscriptions ended.",
	       m->unsubscribes);
	metric(o, "itr_rloc_probes_sent_total", "counter", "ITR: RLOC-probes sent.",
	       m->probes_sent);
	metric(o, "itr_rloc_probe_replies_total", "counter", "ITR: RLOC-probe replies taken.",
	       m->probe_replies);
	metric(o, "itr_rlocs_down_total", "counter", "ITR: locators RLOC-probing took down.",
	       m->rlocs_down);
	metric(o, "itr_rlocs_up_total", "counter", "ITR: locators RLOC-probing brought back.",
	       m->rlocs_up);
	metric(o, "ms_subscriptions", "gauge", "Map-Server: subscriptions held now.",
	       ms_sub_count(d->ms));
	metric(o, "ms_subscribe_unknown_xtr_id_total", "counter",
	       "Map-Server: subscriptions from an xTR-ID no subscriber has (ACT 5).",
	       pc->unknown_xtr_id);
	metric(o, "ms_unsubscribe_requests_total", "counter", "Map-Server: unsubscriptions.",
	       pc->unsubscribes);
	if (!ms_subscriber_count(d->ms))
		return;
	static const struct {
		const char *name, *help;
		size_t off;
	} per[] = {
#define PER(f, h) { #f, h, offsetof(struct ms_subscriber_counters, f) }
		PER(requests, "subscribing Map-Requests taken"),
		PER(confirmed, "subscriptions confirmed"),
		PER(renewed, "renewals confirmed"),
		PER(refused_auth, "refused: Site-ID or ITR-RLOC not its own (ACT 5)"),
		PER(limit_refusals, "refused: subscription-limit (ACT 4)"),
		PER(publications, "publications sent"),
		PER(retransmissions, "Map-Notifies sent again"),
		PER(acks, "Map-Notify-Acks taken"),
		PER(ack_auth_failures, "Map-Notify-Acks failing authentication"),
		PER(giveups, "subscriptions dropped: unacknowledged"),
		PER(unsubscribed, "subscriptions dropped: unsubscribed"),
		PER(expirations, "subscriptions dropped: expired"),
#undef PER
	};
	put(o, "# HELP vmroam_xtr_subscriber_subscriptions Map-Server: subscriptions a subscriber "
	       "holds now.\n# TYPE vmroam_xtr_subscriber_subscriptions gauge\n");
	for (size_t i = 0; (w = ms_subscriber_at(d->ms, i, &c, &n)); i++)
		put(o, "vmroam_xtr_subscriber_subscriptions{subscriber=\"%s\"} %zu\n",
		    label(ms_subscriber_name(w), lb, sizeof(lb)), n);
	for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
		put(o,
		    "# HELP vmroam_xtr_subscriber_%s_total Map-Server, per subscriber: %s.\n"
		    "# TYPE vmroam_xtr_subscriber_%s_total counter\n",
		    per[k].name, per[k].help, per[k].name);
		for (size_t i = 0; (w = ms_subscriber_at(d->ms, i, &c, &n)); i++)
			put(o, "vmroam_xtr_subscriber_%s_total{subscriber=\"%s\"} %llu\n",
			    per[k].name, label(ms_subscriber_name(w), lb, sizeof(lb)),
			    (unsigned long long)*(const uint64_t *)((const char *)c + per[k].off));
	}
}

/* Dynamic-EID learning (total and per dynamic-eid) and the resolution limits. */
static void render_limits(struct xtr_daemon *d, struct out *o)
{
	const struct etr_counters *e = etr_counters(d->etr);
	char name[128];

	metric(o, "dynamic_eids_learned_total", "counter", "Dynamic EIDs learned.", e->dyn_learned);
	metric(o, "dynamic_eids_aged_total", "counter",
	       "Data-learned dynamic EIDs withdrawn after their learning timeout.", e->dyn_aged);
	put(o,
	    "# HELP vmroam_xtr_dynamic_eids_refused_total Dynamic EIDs (or their packets) not "
	    "learned, by reason.\n# TYPE vmroam_xtr_dynamic_eids_refused_total counter\n"
	    "vmroam_xtr_dynamic_eids_refused_total{reason=\"outside\"} %llu\n"
	    "vmroam_xtr_dynamic_eids_refused_total{reason=\"data-plane\"} %llu\n"
	    "vmroam_xtr_dynamic_eids_refused_total{reason=\"limit\"} %llu\n",
	    (unsigned long long)e->dyn_refused, (unsigned long long)e->dyn_refused_data,
	    (unsigned long long)e->dyn_overflows);
	put(o, "# HELP vmroam_xtr_dynamic_eid_hosts Hosts learned now per dynamic-eid.\n"
	       "# TYPE vmroam_xtr_dynamic_eid_hosts gauge\n");
	for (size_t i = 0; i < etr_policy_count(d->etr); i++) {
		struct etr_policy_info pi;

		etr_policy_info(d->etr, i, &pi);
		put(o, "vmroam_xtr_dynamic_eid_hosts{dynamic_eid=\"%s\",instance_id=\"%u\"} %zu\n",
		    label(pi.conf->name, name, sizeof(name)), pi.conf->iid, pi.hosts);
	}
	metric(o, "etr_map_replies_total", "counter", "ETR: Map-Replies sent.",
	       e->requests_answered);
	metric(o, "etr_map_replies_rate_limited_total", "counter",
	       "ETR: Map-Replies not sent (map-reply rate-limit).", e->replies_rate_limited);
	metric(o, "etr_request_records_ignored_total", "counter",
	       "ETR: EID-records after a Map-Request's first, not answered.",
	       e->request_records_ignored);
	metric(o, "etr_moved_notifies_total", "counter",
	       "ETR: Map-Notifies telling an EID of ours moved, applied.", e->moved_notifies);
	metric(o, "etr_leaving_total", "counter",
	       "ETR: hosts whose VM paused to leave (a migration): their packets held.",
	       e->leaving);
	metric(o, "etr_leaving_moved_total", "counter",
	       "ETR: migration holds ended by a move: held packets sent to the new site.",
	       e->leaving_moved);
	metric(o, "etr_leaving_stayed_total", "counter",
	       "ETR: migration holds ended because the VM runs here again: delivered here.",
	       e->leaving_stayed);
	metric(o, "etr_leaving_expired_total", "counter",
	       "ETR: migration holds ended by their hold time: delivered here.",
	       e->leaving_expired);
	metric(o, "etr_leaving_refused_total", "counter",
	       "ETR: leaving notices for no host of ours or without migration-hold.",
	       e->leaving_refused);
	metric(o, "etr_notifies_repeated_total", "counter",
	       "ETR: Map-Notifies taken before, acknowledged again and not applied.",
	       e->notifies_repeated);
	metric(o, "etr_notifies_stale_total", "counter",
	       "ETR: Map-Notifies refused as replays (nonce below the window or too old).",
	       e->notifies_stale);
	metric(o, "etr_notify_auth_failures_total", "counter",
	       "ETR: Map-Notifies whose authentication failed.", e->notify_auth_failures);
	metric(o, "etr_withdrawals_unacked_total", "counter",
	       "ETR: withdrawals (TTL 0) no Map-Server acknowledged after 6 tries.",
	       e->withdrawals_unacked);
	metric(o, "map_requests_outstanding", "gauge", "Resolutions outstanding now.",
	       mc_outstanding(d->mc));
	metric(o, "map_requests_limited_total", "counter",
	       "Resolutions not started: map-request-limit (total or per instance-id).",
	       mc_counters(d->mc)->requests_limited);
}

char *metrics_render(struct xtr_daemon *d, size_t *len)
{
	struct out o = { .buf = xmalloc(BODY_FIRST), .cap = BODY_FIRST };
	const struct xtr_counters *c = &d->counters;
	const struct mc_counters *m = mc_counters(d->mc);
	struct dp_counters pc;
	struct xtr_dp_counters io;
	char lb[128];

	metric(&o, "malformed_messages_total", "counter", "Control messages refused as malformed.",
	       c->malformed);
	metric(&o, "unsupported_messages_total", "counter",
	       "Control messages of types or features not served.", c->unsupported);
	metric(&o, "unknown_eid_total", "counter", "Map-Register records in no configured site.",
	       c->unknown_eid);
	metric(&o, "map_requests_received_total", "counter", "Map-Requests received (ECM).",
	       c->map_requests);
	metric(&o, "negative_not_lisp_total", "counter", "Answered: not a LISP EID.",
	       c->negative_not_lisp);
	metric(&o, "map_notify_acks_unmatched_total", "counter",
	       "Map-Notify-Acks for no pending Map-Notify.", c->acks_unmatched);
	metric(&o, "map_request_records_ignored_total", "counter",
	       "Map-Server: EID-records after a Map-Request's first, not answered.",
	       c->map_request_records_ignored);
	metric(&o, "map_replies_rate_limited_total", "counter",
	       "Map-Server: Map-Replies not sent (map-reply rate-limit).",
	       c->map_replies_rate_limited);
	metric(&o, "map_requests_forward_rate_limited_total", "counter",
	       "Map-Server: Map-Requests not forwarded to an ETR (map-reply rate-limit).",
	       c->map_requests_forward_rate_limited);
	metric(&o, "registered_prefixes", "gauge", "Map-Server: EID prefixes registered now.",
	       ms_reg_count(d->ms));
	metric(&o, "pending_map_notifies", "gauge", "Map-Server: Map-Notifies awaiting their Ack.",
	       ms_pending_notifies(d->ms));
	metric(&o, "map_cache_entries", "gauge", "ITR map-cache entries.", mc_count(d->mc));
	metric(&o, "map_requests_sent_total", "counter", "Map-Requests sent.", m->requests_sent);
	metric(&o, "map_requests_unsendable_total", "counter",
	       "Map-Requests that could not be sent.", m->requests_unsendable);
	metric(&o, "map_replies_total", "counter", "Map-Replies received.", m->replies);
	metric(&o, "map_replies_unsolicited_total", "counter", "Map-Replies matching no request.",
	       m->replies_unsolicited);
	metric(&o, "map_reply_records_refused_total", "counter",
	       "Map-Reply records answering no question asked (instance-id, prefix).",
	       m->records_refused);
	metric(&o, "smrs_received_total", "counter", "Solicit-Map-Requests received.", m->smrs);
	metric(&o, "map_cache_expirations_total", "counter", "Map-cache entries expired.",
	       m->expirations);
	metric(&o, "map_cache_overflows_total", "counter",
	       "Mappings not cached: the cache was full.", m->overflows);
	metric(&o, "dynamic_eids", "gauge", "Dynamic EIDs learned now.", etr_dyn_count(d->etr));
	render_limits(d, &o);
	render_pubsub(d, &o);
	if (d->notify) {
		const struct xtr_notify_counters *nc = xtr_notify_counters(d->notify);

		metric(&o, "notify_received_total", "counter", "eid-notify datagrams received.",
		       nc->received);
		metric(&o, "notify_auth_failures_total", "counter",
		       "eid-notify datagrams no key verified.", nc->auth_failures);
		metric(&o, "notify_malformed_total", "counter", "eid-notify datagrams malformed.",
		       nc->malformed);
		metric(&o, "notify_misdirected_total", "counter",
		       "eid-notify datagrams for another receiver or direction.", nc->misdirected);
		metric(&o, "notify_stale_session_total", "counter",
		       "eid-notify datagrams for an earlier life of this gateway.",
		       nc->stale_session);
		metric(&o, "notify_replays_total", "counter", "eid-notify datagrams replayed.",
		       nc->replays);
		metric(&o, "notify_peer_limit_total", "counter",
		       "eid-notify datagrams refused: eid-notify peer-limit.", nc->peer_limit);
		metric(&o, "notify_refused_total", "counter",
		       "eid-notify events refused (prefix, dynamic-eid).",
		       nc->refused_prefix + nc->refused_policy);
		metric(&o, "notify_peers", "gauge", "First-hop routers known.",
		       xtr_notify_peer_count(d->notify));
	}
	if (xtr_dp_stats(d, &pc, &io)) {
		struct xtr_dp_named ios[XTR_DP_IO_MAX];
		struct xtr_dp_worker_info wk[XTR_DP_WORKERS_MAX];
		size_t nio = xtr_dp_io_list(&io, ios, XTR_DP_IO_MAX);
		size_t nwk = xtr_dp_workers(d, wk, XTR_DP_WORKERS_MAX);

		put(&o, "# HELP vmroam_xtr_dataplane_packets_total Data-plane packets by the "
			"pipeline's verdict.\n# TYPE vmroam_xtr_dataplane_packets_total counter\n");
		for (int r = 0; r < DP_R_MAX; r++)
			put(&o, "vmroam_xtr_dataplane_packets_total{verdict=\"%s\"} %llu\n",
			    label(dp_reason_name((enum dp_reason)r), lb, sizeof(lb)),
			    (unsigned long long)pc.packets[r]);
		put(&o,
		    "# HELP vmroam_xtr_dataplane_bytes_total Data-plane bytes by the pipeline's "
		    "verdict.\n# TYPE vmroam_xtr_dataplane_bytes_total counter\n");
		for (int r = 0; r < DP_R_MAX; r++)
			put(&o, "vmroam_xtr_dataplane_bytes_total{verdict=\"%s\"} %llu\n",
			    label(dp_reason_name((enum dp_reason)r), lb, sizeof(lb)),
			    (unsigned long long)pc.bytes[r]);
		put(&o, "# HELP vmroam_xtr_dataplane_io_total The data plane's I/O counters (as "
			"show lisp dataplane names them).\n"
			"# TYPE vmroam_xtr_dataplane_io_total counter\n");
		for (size_t i = 0; i < nio; i++)
			put(&o, "vmroam_xtr_dataplane_io_total{counter=\"%s\"} %llu\n",
			    label(ios[i].name, lb, sizeof(lb)), (unsigned long long)ios[i].v);
		put(&o, "# HELP vmroam_xtr_dataplane_worker_packets_total Packets through each "
			"data-plane worker.\n"
			"# TYPE vmroam_xtr_dataplane_worker_packets_total counter\n");
		for (size_t i = 0; i < nwk; i++)
			put(&o,
			    "vmroam_xtr_dataplane_worker_packets_total{worker=\"%zu\",side=\"eid\","
			    "direction=\"in\"} %llu\n"
			    "vmroam_xtr_dataplane_worker_packets_total{worker=\"%zu\",side=\"eid\","
			    "direction=\"out\"} %llu\n"
			    "vmroam_xtr_dataplane_worker_packets_total{worker=\"%zu\",side="
			    "\"rloc\","
			    "direction=\"in\"} %llu\n"
			    "vmroam_xtr_dataplane_worker_packets_total{worker=\"%zu\",side="
			    "\"rloc\","
			    "direction=\"out\"} %llu\n",
			    i, (unsigned long long)wk[i].eid_rx, i,
			    (unsigned long long)wk[i].eid_tx, i, (unsigned long long)wk[i].rloc_rx,
			    i, (unsigned long long)wk[i].rloc_tx);
		metric(&o, "dataplane_held_packets", "gauge",
		       "Packets waiting for a Map-Reply now.", xtr_dp_held(d));
	}
	if (d->metrics) {
		const struct metrics *ml = d->metrics;

		put(&o,
		    "# HELP vmroam_xtr_metrics_requests_total Requests to this listener, by "
		    "outcome "
		    "(unfinished: the client did not take its whole answer in time).\n"
		    "# TYPE vmroam_xtr_metrics_requests_total counter\n"
		    "vmroam_xtr_metrics_requests_total{outcome=\"served\"} %llu\n"
		    "vmroam_xtr_metrics_requests_total{outcome=\"refused\"} %llu\n"
		    "vmroam_xtr_metrics_requests_total{outcome=\"unfinished\"} %llu\n",
		    (unsigned long long)ml->served, (unsigned long long)ml->refused,
		    (unsigned long long)ml->unfinished);
	}
	*len = o.len;
	return o.buf;
}

static void client_free(struct mclient *cl)
{
	struct metrics *m = cl->m;

	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (m->clients[i] == cl)
			m->clients[i] = NULL;
	ev_io_stop(m->d->loop, &cl->io);
	ev_timer_stop(m->d->loop, &cl->timer);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

/* Sends what the socket takes of the answer: 0 all sent, -EAGAIN more to send, or -errno. */
static int flush(struct mclient *cl)
{
	while (cl->outoff < cl->outlen) {
		ssize_t w = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		cl->outoff += (size_t)w;
	}
	return 0;
}

/* The rest of the answer, as the client takes it; then the connection closes. */
static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mclient *cl = container_of(w, struct mclient, io);

	(void)loop;
	(void)revents;
	if (flush(cl) != -EAGAIN)
		client_free(cl);
}

/*
 * The whole answer (head and body; takes body, a heap buffer), then the
 * connection closes: now if the socket takes it all, else from write_cb.
 */
static void answer(struct mclient *cl, const char *status, const char *type, char *body, size_t len)
{
	struct ev_loop *loop = cl->m->d->loop;
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	cl->out = xmalloc((size_t)n + len);
	memcpy(cl->out, head, (size_t)n);
	memcpy(cl->out + n, body, len);
	cl->outlen = (size_t)n + len;
	free(body);
	if (flush(cl) != -EAGAIN) {
		client_free(cl);
		return;
	}
	ev_io_stop(loop, &cl->io);
	ev_io_init(&cl->io, write_cb, cl->fd, EV_WRITE);
	ev_io_start(loop, &cl->io);
	ev_timer_stop(loop, &cl->timer);
	ev_timer_set(&cl->timer, SEND_TIME, 0);
	ev_timer_start(loop, &cl->timer);
}

static void refuse(struct mclient *cl, const char *status, const char *why)
{
	cl->m->refused++;
	log_warn_rl(&cl->m->rl, "metrics: refused a request: %s", why);
	answer(cl, status, "text/plain", xstrdup(why), strlen(why));
}

static void client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mclient *cl = container_of(w, struct mclient, io);
	char path[256];
	ssize_t r;
	int rc;

	(void)loop;
	(void)revents;
	r = recv(cl->fd, cl->req + cl->len, sizeof(cl->req) - cl->len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		client_free(cl);
		return;
	}
	cl->len += (size_t)r;
	rc = metrics_request(cl->req, cl->len, path, sizeof(path));
	if (rc == 0)
		return;
	if (rc == -EOPNOTSUPP) {
		refuse(cl, "405 Method Not Allowed", "only GET\n");
	} else if (rc < 0) {
		refuse(cl, "400 Bad Request", "malformed request\n");
	} else if (strcmp(path, "/metrics") != 0) {
		refuse(cl, "404 Not Found", "GET /metrics\n");
	} else {
		size_t len;
		char *body;

		cl->m->served++;
		body = metrics_render(cl->m->d, &len);
		answer(cl, "200 OK", "text/plain; version=0.0.4", body, len);
	}
}

static void client_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct mclient *cl = container_of(t, struct mclient, timer);

	(void)loop;
	(void)revents;
	if (cl->out) {
		cl->m->unfinished++;
		log_warn_rl(&cl->m->rl,
			    "metrics: a client took %zu of %zu bytes in %.0f s: connection closed",
			    cl->outoff, cl->outlen, SEND_TIME);
	} else {
		cl->m->refused++;
	}
	client_free(cl);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics *m = container_of(w, struct metrics, io);
	struct mclient *cl;
	size_t slot = CLIENTS_MAX;
	int fd;

	(void)revents;
	fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (size_t i = 0; i < CLIENTS_MAX && slot == CLIENTS_MAX; i++)
		if (!m->clients[i])
			slot = i;
	if (slot == CLIENTS_MAX) {
		m->refused++;
		log_warn_rl(&m->rl, "metrics: %d clients already: one refused", CLIENTS_MAX);
		close(fd);
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->fd = fd;
	cl->m = m;
	m->clients[slot] = cl;
	ev_io_init(&cl->io, client_cb, fd, EV_READ);
	ev_io_start(loop, &cl->io);
	ev_timer_init(&cl->timer, client_timeout, CLIENT_TIME, 0);
	ev_timer_start(loop, &cl->timer);
}

static void close_listener(struct metrics *m)
{
	if (m->fd < 0)
		return;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (m->clients[i])
			client_free(m->clients[i]);
	ev_io_stop(m->d->loop, &m->io);
	close(m->fd);
	m->fd = -1;
}

static int open_listener(struct metrics *m, const struct xtr_conf *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = lisp_addr_to_sockaddr(&c->metrics_addr, c->metrics_port, &ss);
	int one = 1;
	char a[LISP_ADDR_STRLEN];

	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		return -errno;
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->fd, (struct sockaddr *)&ss, sl) < 0 || listen(m->fd, 16) < 0) {
		int e = errno;

		close(m->fd);
		m->fd = -1;
		return -e;
	}
	m->addr = c->metrics_addr;
	m->port = c->metrics_port;
	ev_io_init(&m->io, accept_cb, m->fd, EV_READ);
	ev_io_start(m->d->loop, &m->io);
	log_info("metrics: http://%s:%u/metrics (Prometheus)",
		 lisp_addr_format(&m->addr, a, sizeof(a)), m->port);
	return 0;
}

struct metrics *metrics_new(struct xtr_daemon *d)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->d = d;
	m->fd = -1;
	return m;
}

int metrics_configure(struct metrics *m, const struct xtr_conf *c)
{
	if (m->fd >= 0 && c->metrics_port == m->port && lisp_addr_equal(&c->metrics_addr, &m->addr))
		return 0;
	close_listener(m);
	if (!c->metrics_port)
		return 0;
	return open_listener(m, c);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	close_listener(m);
	free(m);
}
