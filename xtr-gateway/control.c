/*
 * Control socket: one Request per connection from xtrctl, answered with
 * Reply records and an End. Data only; xtrctl formats it. Anything that
 * changes state needs uid 0 (SO_PEERCRED).
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/ctl_conn.h"
#include "lib/evhist_ctl.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "proto/xtr_ctl.pb-c.h"
#include "xtr-gateway/xtr.h"

#define MAX_REQUEST  65536
#define CLIENT_TIMEO 30.0 /* s: a connection that has not finished by then is closed */
#define MAX_CLIENTS  16	  /* connections served at once; more are closed at once, counted */

struct client {
	struct client *next;
	struct control *ctl;
	int fd;
	uid_t uid;
	ev_io rio, wio;
	ev_timer timeout;
	uint8_t in[MAX_REQUEST + CTL_HDR_LEN];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff, outcap;
};

struct control {
	struct xtr_daemon *d;
	int fd;
	ev_io io;
	ev_timer pause; /* accepting again after running out of file descriptors */
	struct log_rate rl_fds, rl_busy;
	unsigned nclients;
	uint64_t busy; /* connections closed at once: MAX_CLIENTS open already */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client *clients;
};

/* Short-lived allocations for building one reply. */
struct arena {
	void **p;
	size_t n, cap;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->p = xreallocarray(a->p, a->cap, sizeof(*a->p));
	}
	return a->p[a->n++] = xcalloc(1, size);
}

static char *arena_str(struct arena *a, const char *s)
{
	return strcpy(arena_alloc(a, strlen(s) + 1), s);
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
}

static void client_free(struct client *cl)
{
	struct client **pp = &cl->ctl->clients;

	while (*pp != cl)
		pp = &(*pp)->next;
	*pp = cl->next;
	cl->ctl->nclients--;
	ev_io_stop(cl->ctl->d->loop, &cl->rio);
	ev_io_stop(cl->ctl->d->loop, &cl->wio);
	ev_timer_stop(cl->ctl->d->loop, &cl->timeout);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static void queue_reply(struct client *cl, const Vmroam__Xtr__Reply *r)
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

static void queue_end(struct client *cl, int status, const char *error)
{
	Vmroam__Xtr__Reply r;
	Vmroam__Xtr__End end;

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__end__init(&end);
	end.status = status;
	end.error = (char *)(uintptr_t)(error ? error : "");
	r.item_case = VMROAM__XTR__REPLY__ITEM_END;
	r.end = &end;
	queue_reply(cl, &r);
	ev_io_stop(cl->ctl->d->loop, &cl->rio);
	ev_io_start(cl->ctl->d->loop, &cl->wio);
}

static char *fmt_addr(struct arena *a, const struct lisp_addr *addr)
{
	char buf[LISP_ADDR_STRLEN];

	return arena_str(a, lisp_addr_format(addr, buf, sizeof(buf)));
}

/* "ADDR/LEN" without the instance-id, which the messages carry in a field of its own. */
static char *fmt_eid(struct arena *a, const struct lisp_prefix *p)
{
	struct lisp_prefix bare = *p;
	char buf[LISP_PREFIX_STRLEN];

	bare.iid = 0;
	return arena_str(a, lisp_prefix_format(&bare, buf, sizeof(buf)));
}

static Vmroam__Xtr__Registrant *build_registrant(struct arena *a, const struct ms_registrant **it)
{
	Vmroam__Xtr__Registrant *m = arena_alloc(a, sizeof(*m));
	struct ms_registrant_info ri;
	char hex[33];

	const struct ms_registrant *r = *it;
	struct lisp_locator loc;

	vmroam__xtr__registrant__init(m);
	*it = ms_registrant_info(r, &ri);
	m->address = fmt_addr(a, &ri.addr);
	m->port = ri.port;
	hex[0] = '\0';
	for (int i = 0; ri.has_xtr_id && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", ri.xtr_id[i]);
	m->xtr_id = arena_str(a, hex);
	m->site_id = ri.site_id;
	m->last_registered = ri.last;
	m->since = ri.since;
	m->expires = ri.expires;
	m->n_locators = ri.nloc;
	m->locators = arena_alloc(a, (ri.nloc + 1) * sizeof(*m->locators));
	for (uint8_t i = 0; i < ri.nloc; i++) {
		Vmroam__Xtr__Locator *l = arena_alloc(a, sizeof(*l));

		vmroam__xtr__locator__init(l);
		ms_registrant_locator(r, i, &loc);
		l->address = fmt_addr(a, &loc.addr[0]);
		l->up = loc.reachable;
		l->priority = loc.priority;
		l->weight = loc.weight;
		m->locators[i] = l;
	}
	return m;
}

#define ROWS_PER_RECORD 1000

struct build {
	struct client *cl;
	struct arena *a;
	Vmroam__Xtr__Site *site;
	const struct lisp_prefix *filter; /* rows equal to or holding it only */
};

/* Queues the site record built so far; what follows goes in a continuation record. */
static void flush_site(struct build *b)
{
	Vmroam__Xtr__Reply r;
	const char *name = b->site->name;

	vmroam__xtr__reply__init(&r);
	r.item_case = VMROAM__XTR__REPLY__ITEM_SITE;
	r.site = b->site;
	queue_reply(b->cl, &r);
	name = strcpy(xmalloc(strlen(name) + 1), name);
	free(b->site->prefixes);
	arena_free(b->a);
	memset(b->a, 0, sizeof(*b->a));
	vmroam__xtr__site__init(b->site);
	b->site->name = arena_str(b->a, name);
	free((void *)(uintptr_t)name);
	b->site->continued = true;
}

static int build_row(const struct ms_row *row, void *arg)
{
	struct build *b = arg;
	Vmroam__Xtr__SitePrefix *m;
	struct ms_reg_info ri;
	const struct ms_registrant *it;
	struct ms_registrant_info tmp;
	size_t n = 0;

	if (b->filter && !lisp_prefix_contains(&row->p, b->filter))
		return 0;
	m = arena_alloc(b->a, sizeof(*m));
	vmroam__xtr__site_prefix__init(m);
	m->eid_prefix = fmt_eid(b->a, &row->p);
	m->instance_id = row->p.iid;
	m->configured = row->configured;
	m->accept_more_specifics = row->accept_more_specifics;
	m->more_specifics = row->more_specifics;
	m->last_registered_by = arena_str(b->a, "");
	if (row->reg) {
		ms_reg_info(row->reg, &ri);
		m->registered = true;
		m->first_registered = ri.first;
		m->last_registered = ri.last;
		m->last_registered_by = fmt_addr(b->a, &ri.last_by);
		m->proxy_reply = ri.proxy_reply;
		m->want_map_notify = ri.want_map_notify;
		m->ttl = ri.ttl;
		for (it = ms_reg_registrants(row->reg); it; it = ms_registrant_info(it, &tmp))
			n++;
		m->registrants = arena_alloc(b->a, (n + 1) * sizeof(*m->registrants));
		for (it = ms_reg_registrants(row->reg); it;)
			m->registrants[m->n_registrants++] = build_registrant(b->a, &it);
	}
	b->site->prefixes = xreallocarray(b->site->prefixes, b->site->n_prefixes + 1,
					  sizeof(*b->site->prefixes));
	b->site->prefixes[b->site->n_prefixes++] = m;
	if (b->site->n_prefixes == ROWS_PER_RECORD)
		flush_site(b);
	return 0;
}

static Vmroam__Xtr__SiteCounters *build_counters(struct arena *a, const struct ms_site_counters *c)
{
	Vmroam__Xtr__SiteCounters *m = arena_alloc(a, sizeof(*m));

	vmroam__xtr__site_counters__init(m);
	m->registrations = c->registrations;
	m->deregistrations = c->deregistrations;
	m->map_notifies_sent = c->map_notifies_sent;
	m->map_notify_acks = c->map_notify_acks;
	m->map_notify_giveups = c->map_notify_giveups;
	m->auth_failures = c->auth_failures;
	m->allowed_locator_mismatches = c->allowed_locator_mismatches;
	m->prefix_rejects = c->prefix_rejects;
	m->nonce_replays = c->nonce_replays;
	m->expirations = c->expirations;
	m->moves = c->moves;
	m->map_requests_forwarded = c->map_requests_forwarded;
	m->map_requests_proxied = c->map_requests_proxied;
	m->map_requests_negative = c->map_requests_negative;
	m->map_requests_unforwardable = c->map_requests_unforwardable;
	m->nonce_overflows = c->nonce_overflows;
	return m;
}

static void send_site(struct client *cl, const struct ms_site *s, const struct lisp_prefix *filter)
{
	const struct xtr_conf_site *cs = ms_site_conf(s);
	Vmroam__Xtr__Site site;
	struct arena a = { 0 };
	struct build b = { .cl = cl, .a = &a, .site = &site, .filter = filter };

	vmroam__xtr__site__init(&site);
	site.name = arena_str(&a, cs->name);
	site.description = arena_str(&a, cs->description ? cs->description : "");
	site.strict_nonce = cs->strict_nonce;
	site.allowed_locators = arena_alloc(&a, (cs->nallowed + 1) * sizeof(char *));
	for (size_t i = 0; i < cs->nallowed; i++)
		site.allowed_locators[site.n_allowed_locators++] = fmt_addr(&a, &cs->allowed[i]);
	site.counters = build_counters(&a, ms_site_counters(s));
	ms_site_rows(cl->ctl->d->ms, s, build_row, &b);
	if (!site.continued || site.n_prefixes)
		flush_site(&b);
	free(site.prefixes);
	arena_free(&a);
}

static void do_show_site(struct client *cl, const Vmroam__Xtr__ShowSite *req)
{
	const struct ms *ms = cl->ctl->d->ms;
	const struct ms_site *s = NULL;
	struct lisp_prefix p;
	bool by_prefix = req->prefix && req->prefix[0];

	if (req->name && req->name[0]) {
		s = ms_site_by_name(ms, req->name);
		if (!s)
			return queue_end(cl, -ENOENT, "no such site");
	} else if (by_prefix) {
		if (lisp_prefix_parse(req->prefix, req->instance_id, &p) < 0)
			return queue_end(cl, -EINVAL, "not a prefix (host bits must be zero)");
		s = ms_site_by_prefix(ms, &p);
		if (!s)
			return queue_end(cl, -ENOENT, "no site holds that prefix");
	}
	if (s) {
		send_site(cl, s, by_prefix ? &p : NULL);
	} else {
		for (size_t i = 0; i < ms_site_count(ms); i++)
			send_site(cl, ms_site_at(ms, i), NULL);
	}
	queue_end(cl, 0, NULL);
}

/* The dynamic-EID and resolution counters of show lisp statistics. */
static void stats_limits(const struct xtr_daemon *d, Vmroam__Xtr__Statistics *st)
{
	const struct etr_counters *e = etr_counters(d->etr);

	st->dynamic_eids = etr_dyn_count(d->etr);
	st->dynamic_eids_learned = e->dyn_learned;
	st->dynamic_eids_aged = e->dyn_aged;
	st->dynamic_eids_refused = e->dyn_refused;
	st->dynamic_eids_refused_data = e->dyn_refused_data;
	st->dynamic_eids_refused_limit = e->dyn_overflows;
	st->map_requests_outstanding = mc_outstanding(d->mc);
	st->map_requests_limited = mc_counters(d->mc)->requests_limited;
}

/* The ETR's part of show lisp statistics: its answers and its Map-Servers' Map-Notifies. */
static void stats_etr(const struct xtr_daemon *d, Vmroam__Xtr__Statistics *st)
{
	const struct etr_counters *e = etr_counters(d->etr);

	st->etr_map_replies = e->requests_answered;
	st->etr_map_replies_rate_limited = e->replies_rate_limited;
	st->etr_request_records_ignored = e->request_records_ignored;
	st->etr_moved_notifies = e->moved_notifies;
	st->etr_leaving = e->leaving;
	st->etr_leaving_moved = e->leaving_moved;
	st->etr_leaving_stayed = e->leaving_stayed;
	st->etr_leaving_expired = e->leaving_expired;
	st->etr_leaving_refused = e->leaving_refused;
	st->etr_notifies_repeated = e->notifies_repeated;
	st->etr_notifies_stale = e->notifies_stale;
	st->etr_withdrawals_unacked = e->withdrawals_unacked;
	st->etr_notify_auth_failures = e->notify_auth_failures;
}

static void do_show_statistics(struct client *cl)
{
	const struct xtr_counters *c = &cl->ctl->d->counters;
	Vmroam__Xtr__Reply r;
	Vmroam__Xtr__Statistics st;

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__statistics__init(&st);
	st.malformed = c->malformed;
	st.unsupported = c->unsupported;
	st.unknown_eid = c->unknown_eid;
	st.map_requests = c->map_requests;
	st.negative_not_lisp = c->negative_not_lisp;
	st.acks_unmatched = c->acks_unmatched;
	st.map_request_records_ignored = c->map_request_records_ignored;
	st.map_replies_rate_limited = c->map_replies_rate_limited;
	st.map_requests_forward_rate_limited = c->map_requests_forward_rate_limited;
	st.registered_prefixes = ms_reg_count(cl->ctl->d->ms);
	st.pending_notifies = ms_pending_notifies(cl->ctl->d->ms);
	const struct mc_counters *m = mc_counters(cl->ctl->d->mc);

	st.map_cache_entries = mc_count(cl->ctl->d->mc);
	st.map_requests_sent = m->requests_sent;
	st.map_requests_unsendable = m->requests_unsendable;
	st.map_replies = m->replies;
	st.map_replies_unsolicited = m->replies_unsolicited;
	st.map_reply_records_refused = m->records_refused;
	st.smrs_received = m->smrs;
	st.map_cache_expirations = m->expirations;
	st.map_cache_overflows = m->overflows;
	st.itr_subscriptions = mc_sub_count(cl->ctl->d->mc);
	st.itr_subscribe_requests = m->subs_requested;
	st.itr_subscriptions_confirmed = m->subs_confirmed;
	st.itr_subscriptions_unconfirmed = m->subs_unconfirmed;
	st.itr_subscriptions_refused = m->subs_refused;
	st.itr_publications = m->publications;
	st.itr_publications_refused = m->publications_refused;
	st.itr_unsubscribes = m->unsubscribes;
	st.itr_probes_sent = m->probes_sent;
	st.itr_probe_replies = m->probe_replies;
	st.itr_rlocs_down = m->rlocs_down;
	st.itr_rlocs_up = m->rlocs_up;
	const struct ms_pub_counters *pc = ms_pub_counters(cl->ctl->d->ms);

	st.ms_subscriptions = ms_sub_count(cl->ctl->d->ms);
	st.ms_subscribe_unknown_xtr_id = pc->unknown_xtr_id;
	st.ms_subscribe_no_xtr_id = pc->no_xtr_id;
	st.ms_subscribe_not_lisp = pc->not_lisp;
	st.ms_unsubscribe_requests = pc->unsubscribes;
	stats_limits(cl->ctl->d, &st);
	stats_etr(cl->ctl->d, &st);
	if (cl->ctl->d->notify) {
		const struct xtr_notify_counters *nc = xtr_notify_counters(cl->ctl->d->notify);

		st.notify_received = nc->received;
		st.notify_auth_failures = nc->auth_failures;
		st.notify_malformed = nc->malformed;
		st.notify_misdirected = nc->misdirected;
		st.notify_stale_session = nc->stale_session;
		st.notify_replays = nc->replays;
		st.notify_peer_limit = nc->peer_limit;
		st.notify_refused = nc->refused_prefix + nc->refused_policy;
		st.notify_answers_limited = nc->answers_limited;
	}
	r.item_case = VMROAM__XTR__REPLY__ITEM_STATISTICS;
	r.statistics = &st;
	queue_reply(cl, &r);
	queue_end(cl, 0, NULL);
}

static Vmroam__Xtr__DbLocator *build_dblocator(struct arena *a, struct xtr_daemon *d,
					       const struct xtr_conf_locator *cl)
{
	Vmroam__Xtr__DbLocator *l = arena_alloc(a, sizeof(*l));
	struct lisp_addr addr = cl->addr;

	vmroam__xtr__db_locator__init(l);
	l->priority = cl->priority;
	l->weight = cl->weight;
	l->source = arena_str(a, cl->addr.afi ? "cfg-addr" : "cfg-intf");
	l->interface = arena_str(a, cl->ifname);
	l->up = cl->addr.afi || xtr_net_if_addr(d, cl->ifname, cl->if_afi, &addr) == 0;
	l->address = l->up ? fmt_addr(a, &addr) : arena_str(a, "");
	return l;
}

/* A database-mapping, or (dyn not NULL) a dynamic EID learned under one. */
static void send_dbmap(struct client *cl, const struct xtr_conf_dbmap *m,
		       const struct etr_dyn_info *dyn)
{
	struct xtr_daemon *d = cl->ctl->d;
	size_t nv, nr = etr_reg_count(d->etr);
	const struct xtr_conf_locator *v = etr_locset_of(d->conf, m, &nv);
	Vmroam__Xtr__DatabaseMapping dm;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__database_mapping__init(&dm);
	dm.instance_id = m->p.iid;
	dm.eid_prefix = fmt_eid(&a, dyn ? &dyn->p : &m->p);
	if (dyn) {
		dm.dynamic_eid = arena_str(&a, dyn->policy);
		dm.registered = dyn->registered;
		nr = 0;
	}
	dm.locator_set = arena_str(&a, m->locset);
	dm.locators = arena_alloc(&a, (nv + 1) * sizeof(*dm.locators));
	for (size_t i = 0; i < nv; i++)
		dm.locators[dm.n_locators++] = build_dblocator(&a, d, &v[i]);
	dm.registrations = arena_alloc(&a, (nr + 1) * sizeof(*dm.registrations));
	for (size_t i = 0; i < nr; i++) {
		struct etr_reg_info ri;
		Vmroam__Xtr__Registration *g;

		etr_reg_info(d->etr, i, &ri);
		if (ri.dbmap != m)
			continue;
		g = arena_alloc(&a, sizeof(*g));
		vmroam__xtr__registration__init(g);
		g->map_server = fmt_addr(&a, &ri.map_server);
		g->registered = ri.registered;
		g->last_registered = ri.last_ack;
		g->last_sent = ri.last_sent;
		g->attempts = ri.attempts;
		dm.registrations[dm.n_registrations++] = g;
	}
	r.item_case = VMROAM__XTR__REPLY__ITEM_DATABASE_MAPPING;
	r.database_mapping = &dm;
	queue_reply(cl, &r);
	arena_free(&a);
}

struct db_walk {
	struct client *cl;
	bool ipv6;
};

static int send_dyn_db(const struct etr_dyn_info *e, void *arg)
{
	struct db_walk *w = arg;

	if ((e->p.addr.afi == LISP_AFI_IPV6) == w->ipv6)
		send_dbmap(w->cl, e->dbmap, e);
	return 0;
}

static void do_show_database(struct client *cl, bool ipv6)
{
	const struct xtr_conf *c = cl->ctl->d->conf;
	struct db_walk w = { .cl = cl, .ipv6 = ipv6 };

	for (size_t i = 0; i < c->ndbmaps; i++)
		if ((c->dbmaps[i].p.addr.afi == LISP_AFI_IPV6) == ipv6 && c->dbmaps[i].dyn < 0)
			send_dbmap(cl, &c->dbmaps[i], NULL);
	etr_dyn_walk(cl->ctl->d->etr, send_dyn_db, &w);
	queue_end(cl, 0, NULL);
}

static const char *act_name(uint8_t act)
{
	static const char *names[] = { "no-action", "native-forward",	  "send-map-request",
				       "drop",	    "drop-policy-denied", "drop-auth-failure" };

	return act < sizeof(names) / sizeof(names[0]) ? names[act] : "send-map-request";
}

/* The reply records of n locators (of a map-cache or away entry). */
static Vmroam__Xtr__McLocator **build_locators(struct arena *a, const struct mc_locator *locs,
					       uint8_t n)
{
	Vmroam__Xtr__McLocator **v = arena_alloc(a, (n + 1u) * sizeof(*v));

	for (uint8_t i = 0; i < n; i++) {
		Vmroam__Xtr__McLocator *l = v[i] = arena_alloc(a, sizeof(*l));

		vmroam__xtr__mc_locator__init(l);
		l->address = fmt_addr(a, &locs[i].addr);
		l->up = locs[i].up;
		l->priority = locs[i].priority;
		l->weight = locs[i].weight;
		l->since = locs[i].since;
		l->packets_out = locs[i].packets;
		l->bytes_out = locs[i].bytes;
		l->packets_in = locs[i].packets_in;
		l->bytes_in = locs[i].bytes_in;
		l->control_in = locs[i].control_in;
	}
	return v;
}

static int send_mc_entry(const struct mc_info *e, void *arg)
{
	static const char *states[] = {
		[MC_PENDING] = "pending", [MC_COMPLETE] = "complete", [MC_NEGATIVE] = "negative"
	};
	struct client *cl = arg;
	Vmroam__Xtr__MapCacheEntry m;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__map_cache_entry__init(&m);
	m.instance_id = e->p.iid;
	m.eid_prefix = fmt_eid(&a, &e->p);
	m.state = arena_str(&a, states[e->state]);
	m.action = arena_str(&a, e->state == MC_NEGATIVE ? act_name(e->act) : "");
	m.configured = e->is_static;
	m.created = e->created;
	m.expires = e->expires;
	m.locators = build_locators(&a, e->locs, e->nloc);
	m.n_locators = e->nloc;
	r.item_case = VMROAM__XTR__REPLY__ITEM_MAP_CACHE_ENTRY;
	r.map_cache_entry = &m;
	queue_reply(cl, &r);
	arena_free(&a);
	return 0;
}

/* The prefix of a map-cache request; false (and the client answered) when it is bad. */
static bool mc_prefix(struct client *cl, const Vmroam__Xtr__MapCacheRequest *q,
		      struct lisp_prefix *p, bool *all)
{
	*all = !q->prefix || !q->prefix[0];
	if (*all)
		return true;
	if (lisp_prefix_parse(q->prefix, q->instance_id, p) < 0 ||
	    p->addr.afi != (q->ipv6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4)) {
		queue_end(cl, -EINVAL, "not a prefix of that family (host bits must be zero)");
		return false;
	}
	return true;
}

static void do_map_cache(struct client *cl, Vmroam__Xtr__Request *req)
{
	struct xtr_daemon *d = cl->ctl->d;
	double now = ev_now(d->loop);
	Vmroam__Xtr__MapCacheRequest *q = req->show_map_cache	 ? req->show_map_cache
					  : req->clear_map_cache ? req->clear_map_cache
								 : req->lig;
	struct lisp_prefix p;
	char msg[96];
	bool all;
	int rc;

	if (!mc_prefix(cl, q, &p, &all))
		return;
	if (req->cmd_case == VMROAM__XTR__REQUEST__CMD_SHOW_MAP_CACHE) {
		mc_walk(d->mc, q->ipv6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4, all ? NULL : &p,
			send_mc_entry, cl);
		return queue_end(cl, 0, NULL);
	}
	if (cl->uid != 0)
		return queue_end(cl, -EPERM, "needs root");
	if (req->cmd_case == VMROAM__XTR__REQUEST__CMD_CLEAR_MAP_CACHE) {
		snprintf(msg, sizeof(msg), "%d entries cleared", mc_clear(d->mc, all ? NULL : &p));
		return queue_end(cl, 0, msg);
	}
	if (all)
		return queue_end(cl, -EINVAL, "lig needs an EID");
	rc = mc_resolve(d->mc, p.iid, &p.addr, now);
	queue_end(cl, rc == -EEXIST || rc == -EINPROGRESS ? 0 : rc,
		  rc == 0	       ? "Map-Request sent"
		  : rc == -EEXIST      ? "already in the map-cache"
		  : rc == -EINPROGRESS ? "a Map-Request is already out"
		  : rc == -EBUSY ? "too many resolutions outstanding (dataplane map-request-limit)"
				 : "the map-cache is full");
}

/* show lisp subscription: the Map-Server's subscribers, then every subscription. */
static int send_ms_sub(const struct ms_sub_info *e, void *arg)
{
	struct client *cl = arg;
	Vmroam__Xtr__Subscription m;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };
	char id[33], site[24] = "";

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__subscription__init(&m);
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", e->xtr_id[i]);
	if (e->has_site_id)
		snprintf(site, sizeof(site), "%llu", (unsigned long long)e->site_id);
	m.role = arena_str(&a, "map-server");
	m.instance_id = e->p.iid;
	m.eid_prefix = fmt_eid(&a, &e->p);
	m.subscriber = arena_str(&a, e->subscriber);
	m.xtr_id = arena_str(&a, id);
	m.site_id = arena_str(&a, site);
	m.confirmed = e->active;
	m.itr_rloc = fmt_addr(&a, &e->itr);
	m.nonce = e->nonce;
	m.since = e->created;
	m.expires = e->expires;
	m.publications = e->publications;
	m.outstanding = arena_str(&a, e->outstanding ? e->outstanding : "");
	m.tries = (uint32_t)e->tries;
	r.item_case = VMROAM__XTR__REPLY__ITEM_SUBSCRIPTION;
	r.subscription = &m;
	queue_reply(cl, &r);
	arena_free(&a);
	return 0;
}

static int send_itr_sub(const struct mc_sub_info *e, void *arg)
{
	struct client *cl = arg;
	Vmroam__Xtr__Subscription m;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__subscription__init(&m);
	m.role = arena_str(&a, "itr");
	m.instance_id = e->p.iid;
	m.eid_prefix = fmt_eid(&a, &e->p);
	m.confirmed = true;
	m.map_server = fmt_addr(&a, &e->ms);
	m.nonce = e->last;
	m.since = e->since;
	m.publications = e->publications;
	r.item_case = VMROAM__XTR__REPLY__ITEM_SUBSCRIPTION;
	r.subscription = &m;
	queue_reply(cl, &r);
	arena_free(&a);
	return 0;
}

static void do_show_subscription(struct client *cl)
{
	const struct ms_subscriber_counters *c;
	const struct ms_subscriber *w;
	size_t nsubs;

	for (size_t i = 0; (w = ms_subscriber_at(cl->ctl->d->ms, i, &c, &nsubs)); i++) {
		Vmroam__Xtr__Subscriber m;
		Vmroam__Xtr__Reply r;

		vmroam__xtr__reply__init(&r);
		vmroam__xtr__subscriber__init(&m);
		m.name = (char *)(uintptr_t)ms_subscriber_name(w);
		m.subscriptions = nsubs;
		m.limit = ms_subscriber_limit(w);
		m.requests = c->requests;
		m.confirmed = c->confirmed;
		m.renewed = c->renewed;
		m.refused_auth = c->refused_auth;
		m.refused_limit = c->limit_refusals;
		m.publications = c->publications;
		m.retransmissions = c->retransmissions;
		m.acks = c->acks;
		m.ack_auth_failures = c->ack_auth_failures;
		m.dropped_unacknowledged = c->giveups;
		m.unsubscribed = c->unsubscribed;
		m.expired = c->expirations;
		r.item_case = VMROAM__XTR__REPLY__ITEM_SUBSCRIBER;
		r.subscriber = &m;
		queue_reply(cl, &r);
	}
	ms_sub_walk(cl->ctl->d->ms, send_ms_sub, cl);
	mc_sub_walk(cl->ctl->d->mc, send_itr_sub, cl);
	queue_end(cl, 0, NULL);
}

static int send_away(const struct etr_away_info *e, void *arg)
{
	struct client *cl = arg;
	Vmroam__Xtr__AwayEntry m;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };

	vmroam__xtr__reply__init(&r);
	vmroam__xtr__away_entry__init(&m);
	m.instance_id = e->p.iid;
	m.eid_prefix = fmt_eid(&a, &e->p);
	m.map_server = fmt_addr(&a, &e->told_by);
	m.since = e->since;
	m.expires = e->expires;
	m.locators = build_locators(&a, e->locs, e->nloc);
	m.n_locators = e->nloc;
	m.packets = e->packets;
	m.smrs = e->smrs;
	m.last_packet = e->last_packet;
	r.item_case = VMROAM__XTR__REPLY__ITEM_AWAY_ENTRY;
	r.away_entry = &m;
	queue_reply(cl, &r);
	arena_free(&a);
	return 0;
}

struct dyn_filter {
	struct client *cl;
	bool all;
	struct lisp_prefix under;
};

static const char *vrf_of(const struct xtr_conf *c, uint32_t iid)
{
	for (size_t i = 0; i < c->neidtables; i++)
		if (c->eidtables[i].iid == iid)
			return c->eidtables[i].vrf;
	return "";
}

static int send_dyn(const struct etr_dyn_info *e, void *arg)
{
	static const char *sources[] = { "data", "fhr", "operator" };
	struct dyn_filter *f = arg;
	struct client *cl = f->cl;
	Vmroam__Xtr__DynamicEid m;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };

	if (!f->all && !lisp_prefix_contains(&f->under, &e->p))
		return 0;
	vmroam__xtr__reply__init(&r);
	vmroam__xtr__dynamic_eid__init(&m);
	m.instance_id = e->p.iid;
	m.vrf = arena_str(&a, vrf_of(cl->ctl->d->conf, e->p.iid));
	m.eid = fmt_eid(&a, &e->p);
	m.policy = arena_str(&a, e->policy);
	m.interface = arena_str(&a, e->ifname ? e->ifname : "");
	m.source = arena_str(&a, sources[e->source]);
	m.since = e->since;
	m.last_seen = e->last_seen;
	m.last_packet = e->last_packet;
	m.registered = e->registered;
	m.locator_set = arena_str(&a, e->dbmap->locset);
	m.fhr = arena_str(&a, e->who ? e->who : "");
	if (e->leaving_since > 0) {
		size_t bytes;

		m.leaving_until = e->leaving_until;
		m.held_packets = xtr_dp_held_eid(cl->ctl->d, &e->p, &bytes);
		m.held_bytes = bytes;
	}
	r.item_case = VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID;
	r.dynamic_eid = &m;
	queue_reply(cl, &r);
	arena_free(&a);
	return 0;
}

/* One record per dynamic-eid: how it learns, its hosts and counters. */
static void send_policies(struct client *cl)
{
	const struct xtr_daemon *d = cl->ctl->d;

	for (size_t i = 0; i < etr_policy_count(d->etr); i++) {
		struct etr_policy_info pi;
		Vmroam__Xtr__DynamicEidPolicy m;
		Vmroam__Xtr__Reply r;
		struct arena a = { 0 };

		etr_policy_info(d->etr, i, &pi);
		vmroam__xtr__reply__init(&r);
		vmroam__xtr__dynamic_eid_policy__init(&m);
		m.name = arena_str(&a, pi.conf->name);
		m.instance_id = pi.conf->iid;
		m.vrf = arena_str(&a, vrf_of(d->conf, pi.conf->iid));
		m.active = pi.active;
		m.eid_notify = pi.conf->has_notify_key;
		m.data_plane_learning = xtr_conf_learns_data(pi.conf);
		m.learning_timeout = pi.conf->learn_timeout;
		m.host_limit = pi.conf->host_limit;
		m.hosts = pi.hosts;
		m.learned = pi.learned;
		m.aged = pi.aged;
		m.refused_data = pi.refused_data;
		m.refused_limit = pi.refused_limit;
		r.item_case = VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID_POLICY;
		r.dynamic_eid_policy = &m;
		queue_reply(cl, &r);
		arena_free(&a);
	}
}

/* show lisp dynamic-eid [summary] [PREFIX], clear lisp dynamic-eid [PREFIX] */
static void do_dynamic_eid(struct client *cl, const Vmroam__Xtr__DynamicEidRequest *q, bool clear)
{
	struct xtr_daemon *d = cl->ctl->d;
	struct dyn_filter f = { .cl = cl, .all = !q->prefix || !q->prefix[0] };
	char msg[96];

	if (!f.all && lisp_prefix_parse(q->prefix, q->instance_id, &f.under) < 0)
		return queue_end(cl, -EINVAL, "not an EID prefix (host bits must be zero)");
	if (!clear) {
		etr_dyn_walk(d->etr, send_dyn, &f);
		if (f.all)
			send_policies(cl);
		return queue_end(cl, 0, NULL);
	}
	if (cl->uid != 0)
		return queue_end(cl, -EPERM, "needs root");
	snprintf(msg, sizeof(msg), "%d dynamic EIDs cleared",
		 etr_dyn_clear(d->etr, f.all ? NULL : &f.under, ev_now(d->loop)));
	queue_end(cl, 0, msg);
}

static Vmroam__Xtr__Counter *counter(struct arena *a, const char *name, uint64_t packets,
				     uint64_t bytes)
{
	Vmroam__Xtr__Counter *c = arena_alloc(a, sizeof(*c));

	vmroam__xtr__counter__init(c);
	c->name = arena_str(a, name);
	c->packets = packets;
	c->bytes = bytes;
	return c;
}

static void do_show_dataplane(struct client *cl)
{
	const struct xtr_daemon *d = cl->ctl->d;
	struct dp_counters pcs;
	struct xtr_dp_counters ios_;
	const struct dp_counters *pc = &pcs;
	const struct xtr_dp_counters *io = &ios_;
	struct xtr_dp_tun_info tuns[64];
	struct xtr_dp_worker_info wks[XTR_DP_WORKERS_MAX];
	size_t ntuns = xtr_dp_tuns(d, tuns, 64), nwks = xtr_dp_workers(d, wks, XTR_DP_WORKERS_MAX);
	Vmroam__Xtr__Dataplane m;
	Vmroam__Xtr__Reply r;
	struct arena a = { 0 };

	if (!xtr_dp_stats(d, &pcs, &ios_))
		return queue_end(cl, -ENOENT,
				 "no data plane: no itr, etr or proxy role configured");
	vmroam__xtr__reply__init(&r);
	vmroam__xtr__dataplane__init(&m);
	m.pipeline = arena_alloc(&a, DP_R_MAX * sizeof(*m.pipeline));
	for (int i = 0; i < DP_R_MAX; i++)
		m.pipeline[m.n_pipeline++] = counter(&a, dp_reason_name((enum dp_reason)i),
						     pc->packets[i], pc->bytes[i]);
	struct xtr_dp_named ios[XTR_DP_IO_MAX];
	size_t nios = xtr_dp_io_list(io, ios, XTR_DP_IO_MAX);

	m.io = arena_alloc(&a, nios * sizeof(*m.io));
	for (size_t i = 0; i < nios; i++)
		m.io[m.n_io++] = counter(&a, ios[i].name, ios[i].v, 0);
	m.interfaces = arena_alloc(&a, (ntuns + 1) * sizeof(*m.interfaces));
	for (size_t i = 0; i < ntuns; i++) {
		Vmroam__Xtr__DataplaneInterface *t = arena_alloc(&a, sizeof(*t));

		vmroam__xtr__dataplane_interface__init(t);
		t->name = arena_str(&a, tuns[i].name);
		t->instance_id = tuns[i].iid;
		t->mtu = tuns[i].mtu;
		t->held = tuns[i].held;
		m.interfaces[m.n_interfaces++] = t;
	}
	m.workers = arena_alloc(&a, (nwks + 1) * sizeof(*m.workers));
	for (size_t i = 0; i < nwks; i++) {
		Vmroam__Xtr__DataplaneWorker *w = arena_alloc(&a, sizeof(*w));

		vmroam__xtr__dataplane_worker__init(w);
		w->eid_received = wks[i].eid_rx;
		w->eid_sent = wks[i].eid_tx;
		w->rloc_received = wks[i].rloc_rx;
		w->rloc_sent = wks[i].rloc_tx;
		m.workers[m.n_workers++] = w;
	}
	m.held = xtr_dp_held(d);
	m.hold_limit = d->conf->dp.hold_limit;
	m.hold_limit_per_instance_id = d->conf->dp.hold_limit_iid;
	m.dynamic_eids = etr_dyn_count(d->etr);
	r.item_case = VMROAM__XTR__REPLY__ITEM_DATAPLANE;
	r.dataplane = &m;
	queue_reply(cl, &r);
	arena_free(&a);
	queue_end(cl, 0, NULL);
}

static void do_show_eid_notify(struct client *cl)
{
	struct xtr_daemon *d = cl->ctl->d;

	for (size_t i = 0; i < xtr_notify_peer_count(d->notify); i++) {
		struct xtr_notify_peer_info pi;
		Vmroam__Xtr__EidNotifyPeer m;
		Vmroam__Xtr__Reply r;
		struct arena a = { 0 };

		xtr_notify_peer_info(d->notify, i, &pi);
		vmroam__xtr__reply__init(&r);
		vmroam__xtr__eid_notify_peer__init(&m);
		m.id = arena_str(&a, pi.id);
		m.instance_id = pi.iid;
		m.dynamic_eid = arena_str(&a, pi.dynamic_eid);
		m.address = fmt_addr(&a, &pi.addr);
		m.port = pi.port;
		m.up = pi.alive;
		m.last_heard = pi.last_heard;
		m.eids = pi.eids;
		m.pending = pi.pending;
		m.received = pi.c.received;
		m.arrivals = pi.c.arrivals;
		m.departures = pi.c.departures;
		m.resyncs = pi.c.resyncs;
		m.moved_away = pi.c.moved_away;
		m.replays = pi.c.replays;
		m.refused = pi.c.refused_prefix + pi.c.refused_policy;
		m.deaths = pi.c.deaths;
		m.in_sync = pi.in_sync;
		m.older = pi.c.older;
		r.item_case = VMROAM__XTR__REPLY__ITEM_EID_NOTIFY_PEER;
		r.eid_notify_peer = &m;
		queue_reply(cl, &r);
		arena_free(&a);
	}
	queue_end(cl, 0, NULL);
}

static void queue_reply_cb(const Vmroam__Xtr__Reply *r, void *arg)
{
	queue_reply(arg, r);
}

/* show|clear lisp event-history (clearing needs root) */
static void do_event_history(struct client *cl, const Vmroam__Xtr__EventHistoryRequest *q,
			     bool clear)
{
	char msg[96];
	int rc;

	if (clear && cl->uid != 0)
		return queue_end(cl, -EPERM, "needs root");
	rc = evh_serve(cl->ctl->d->evh, q, clear, queue_reply_cb, cl, msg, sizeof(msg));
	queue_end(cl, rc, msg[0] ? msg : NULL);
}

static void do_request(struct client *cl, const uint8_t *msg, size_t len)
{
	Vmroam__Xtr__Request *req = vmroam__xtr__request__unpack(NULL, len, msg);
	char err[512];
	uint32_t cat;
	int rc;

	if (!req)
		return queue_end(cl, -EBADMSG, "malformed request");
	switch (req->cmd_case) {
	case VMROAM__XTR__REQUEST__CMD_SHOW_SITE:
		do_show_site(cl, req->show_site);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_DATABASE:
		do_show_database(cl, req->show_database->ipv6);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_MAP_CACHE:
	case VMROAM__XTR__REQUEST__CMD_CLEAR_MAP_CACHE:
	case VMROAM__XTR__REQUEST__CMD_LIG:
		do_map_cache(cl, req);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_AWAY:
		etr_away_walk(cl->ctl->d->etr, send_away, cl);
		queue_end(cl, 0, NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_STATISTICS:
		do_show_statistics(cl);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_SUBSCRIPTION:
		do_show_subscription(cl);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_DYNAMIC_EID:
		do_dynamic_eid(cl, req->show_dynamic_eid, false);
		break;
	case VMROAM__XTR__REQUEST__CMD_CLEAR_DYNAMIC_EID:
		do_dynamic_eid(cl, req->clear_dynamic_eid, true);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_DATAPLANE:
		do_show_dataplane(cl);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_EID_NOTIFY:
		do_show_eid_notify(cl);
		break;
	case VMROAM__XTR__REQUEST__CMD_SHOW_EVENT_HISTORY:
		do_event_history(cl, req->show_event_history, false);
		break;
	case VMROAM__XTR__REQUEST__CMD_CLEAR_EVENT_HISTORY:
		do_event_history(cl, req->clear_event_history, true);
		break;
	case VMROAM__XTR__REQUEST__CMD_RELOAD:
		if (cl->uid != 0) {
			queue_end(cl, -EPERM, "reload needs root");
			break;
		}
		rc = xtr_reload(cl->ctl->d, err, sizeof(err));
		queue_end(cl, rc, rc < 0 ? err : NULL);
		break;
	case VMROAM__XTR__REQUEST__CMD_LOG_DEBUG:
		cat = log_cat_from_name(req->log_debug->category);
		if (cl->uid != 0)
			queue_end(cl, -EPERM, "log debug needs root");
		else if (req->log_debug->brief)
			queue_end(cl, (log_set_debug(0), 0), NULL);
		else if (!cat)
			queue_end(cl, -EINVAL, "unknown debug category");
		else
			queue_end(cl, (log_set_debug(log_get_debug() | cat), 0), NULL);
		break;
	default:
		queue_end(cl, -EOPNOTSUPP, "unknown request");
		break;
	}
	vmroam__xtr__request__free_unpacked(req, NULL);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = container_of(w, struct client, rio);
	const uint8_t *msg;
	size_t msglen, used;
	ssize_t n;
	int rc;

	(void)loop;
	(void)revents;
	n = read(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_free(cl);
		return;
	}
	cl->inlen += (size_t)n;
	rc = ctl_frame_next(cl->in, cl->inlen, &msg, &msglen, &used);
	if (rc == -EAGAIN && cl->inlen < sizeof(cl->in))
		return;
	if (rc < 0 || msglen > MAX_REQUEST) {
		queue_end(cl, -EMSGSIZE, "request too large");
		return;
	}
	do_request(cl, msg, msglen);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = container_of(w, struct client, wio);
	ssize_t n;

	(void)loop;
	(void)revents;
	n = write(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_free(cl);
		return;
	}
	cl->outoff += (size_t)n;
	if (cl->outoff == cl->outlen)
		client_free(cl); /* one request a connection: all sent */
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = container_of(w, struct client, timeout);

	(void)loop;
	(void)revents;
	log_debug(LOG_CTL, "control: closing a connection idle for %.0f s", CLIENT_TIMEO);
	client_free(cl);
}

static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *c = container_of(w, struct control, pause);

	(void)revents;
	ev_io_start(loop, &c->io);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = container_of(w, struct control, io);
	struct ucred cred;
	socklen_t cl_len = sizeof(cred);
	struct client *cl;
	int fd;

	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
	if (c->nclients >= MAX_CLIENTS) {
		c->busy++;
		log_warn_rl(&c->rl_busy,
			    "control: %d connections open already: one more refused (%" PRIu64
			    " so far)",
			    MAX_CLIENTS, c->busy);
		close(fd);
		return;
	}
	c->nclients++;
	cl = xcalloc(1, sizeof(*cl));
	cl->ctl = c;
	cl->fd = fd;
	cl->uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl_len) == 0)
		cl->uid = cred.uid;
	ev_io_init(&cl->rio, read_cb, fd, EV_READ);
	ev_io_init(&cl->wio, write_cb, fd, EV_WRITE);
	ev_io_start(loop, &cl->rio);
	ev_timer_init(&cl->timeout, timeout_cb, CLIENT_TIMEO, 0);
	ev_timer_start(loop, &cl->timeout);
	cl->next = c->clients;
	c->clients = cl;
	log_debug(LOG_CTL, "control: connection from uid %d", (int)cl->uid);
}

struct control *control_open(struct xtr_daemon *d, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *c;
	char dir[sizeof(sun.sun_path)];
	char *slash;

	if (strlen(path) >= sizeof(sun.sun_path))
		fatal("control: socket path too long: %s", path);
	c = xcalloc(1, sizeof(*c));
	c->d = d;
	strcpy(c->path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			fatal("control: mkdir %s: %s", dir, strerror(errno));
	}
	c->fd = ctl_listen(path, CTL_GROUP, 16); /* 0660, group vmroam: xtrctl for root and them */
	if (c->fd < 0)
		fatal("control: %s: %s", path, strerror(-c->fd));
	ev_io_init(&c->io, accept_cb, c->fd, EV_READ);
	ev_io_start(d->loop, &c->io);
	ev_timer_init(&c->pause, resume_cb, 1.0, 0);
	return c;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	ev_io_stop(c->d->loop, &c->io);
	ev_timer_stop(c->d->loop, &c->pause);
	close(c->fd);
	unlink(c->path);
	free(c);
}
