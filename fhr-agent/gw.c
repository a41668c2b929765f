/*
 * The FHR's side of the eid-notify channel to its gateways (the rules are
 * written in proto/eid_notify.proto): news of the table (eids.c) is sent
 * as events to every gateway of the EID's dynamic-eid, retransmitted
 * until each acknowledges (per EID: only the newest event is kept). Each
 * gateway gets a Hello when we start (its Ack tells us the gateway's
 * session), then the whole table (a Resync snapshot), again whenever it
 * restarts, comes back from silence, or its Keepalive's digest of our
 * table differs from ours. A MovedAway marks the EID moved. No OS calls:
 * datagrams leave through io.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhr-agent/eids_int.h"
#include "lib/evhist.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"

#define RESYNC_CHUNK 64 /* EIDs a Resync datagram */

#define DIGEST_RESYNC_MIN 5.0 /* s between Resyncs a digest mismatch asks for */

void gw_free_all(struct fhr *f)
{
	for (size_t i = 0; i < f->ngws; i++) {
		lisp_auth_key_free(f->gws[i].key);
		notify_tx_free(&f->gws[i].tx);
	}
	free(f->gws);
	f->gws = NULL;
	f->ngws = 0;
}

void gw_configure(struct fhr *f, const struct fhr_conf *conf, double now)
{
	gw_free_all(f);
	for (size_t d = 0; d < conf->ndyneids; d++)
		f->ngws += conf->dyneids[d].ngws;
	f->gws = xcalloc(f->ngws + 1, sizeof(*f->gws));
	f->ngws = 0;
	for (size_t d = 0; d < conf->ndyneids; d++) {
		for (size_t i = 0; i < conf->dyneids[d].ngws; i++) {
			struct gw *g = &f->gws[f->ngws++];
			const struct fhr_conf_gw *c = &conf->dyneids[d].gws[i];

			g->dyn = (int)d;
			g->idx = i;
			g->addr = c->addr;
			g->iid = conf->dyneids[d].iid;
			g->key = lisp_auth_key_new(c->key, c->keylen);
			lisp_addr_format(&c->addr, g->name, sizeof(g->name));
			g->session = f->session;
			notify_tx_init(&g->tx, f->session);
			g->need_hello = true;
			g->last_keepalive = now;
		}
	}
}

static void resend(void *arg, const uint8_t *buf, size_t len)
{
	struct fhr *f = ((void **)arg)[0];
	struct gw *g = ((void **)arg)[1];

	f->io.send(f->io.arg, &g->addr, NOTIFY_PORT, buf, len);
}

/*
 * Packs and sends env to gateway g; reliable ones are kept under key until
 * acknowledged, and sent when the send window has room.
 */
static void send_env(struct fhr *f, struct gw *g, Vmroam__Notify__Envelope *env, bool reliable,
		     const char *key, double now)
{
	void *args[2] = { f, g };
	size_t len;

	env->instance_id = g->iid;
	env->direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY;
	env->sender = (char *)(uintptr_t)f->conf->fhr_id;
	env->receiver = g->name;
	env->session = g->session;
	env->receiver_session = g->rx.session;
	env->dynamic_eid = (char *)(uintptr_t)f->conf->dyneids[g->dyn].name;
	env->seq = reliable ? notify_tx_next_reliable(&g->tx) : notify_tx_next(&g->tx);
	len = notify_pack(g->key, g->iid, env, f->out, sizeof(f->out));
	if (!len)
		return;
	g->sent++;
	if (!reliable)
		f->io.send(f->io.arg, &g->addr, NOTIFY_PORT, f->out, len);
	else if (notify_tx_keep(&g->tx, env->seq, key, f->out, len, now))
		notify_tx_due(&g->tx, now, resend, args);
}

static void fill_event(const struct fhr *f, const struct fhr_eid *e, Vmroam__Notify__EventKind kind,
		       Vmroam__Notify__EidEvent *ev, char *eid, size_t eidlen, double now)
{
	static const Vmroam__Notify__Source srcmap[] = {
		VMROAM__NOTIFY__SOURCE__SOURCE_ARP,	   VMROAM__NOTIFY__SOURCE__SOURCE_ND,
		VMROAM__NOTIFY__SOURCE__SOURCE_RARP,	   VMROAM__NOTIFY__SOURCE__SOURCE_DATA,
		VMROAM__NOTIFY__SOURCE__SOURCE_HYPERVISOR, VMROAM__NOTIFY__SOURCE__SOURCE_NEIGHBOR
	};

	vmroam__notify__eid_event__init(ev);
	ev->kind = kind;
	ev->dynamic_eid = (char *)(uintptr_t)f->conf->dyneids[e->dyn].name;
	ev->eid = lisp_addr_format(&e->p.addr, eid, eidlen);
	ev->eid_len = e->p.plen;
	if (e->has_mac) {
		ev->mac.data = (uint8_t *)(uintptr_t)e->mac;
		ev->mac.len = 6;
	}
	ev->interface = (char *)(uintptr_t)e->ifname;
	ev->source = srcmap[e->source];
	ev->timestamp = now;
	ev->event_seq = e->version;
}

void gw_notify(struct fhr *f, struct fhr_eid *e, enum gw_event what, double now)
{
	static const Vmroam__Notify__EventKind kinds[] = {
		[GW_ARRIVED] = VMROAM__NOTIFY__EVENT_KIND__ARRIVED,
		[GW_DEPARTED] = VMROAM__NOTIFY__EVENT_KIND__DEPARTED,
		[GW_REFRESH] = VMROAM__NOTIFY__EVENT_KIND__REFRESH,
		[GW_LEAVING] = VMROAM__NOTIFY__EVENT_KIND__LEAVING,
	};
	static const char *names[] = { [GW_ARRIVED] = "notify-arrived",
				       [GW_DEPARTED] = "notify-departed",
				       [GW_REFRESH] = "notify-refresh",
				       [GW_LEAVING] = "notify-leaving" };
	char eid[LISP_ADDR_STRLEN], key[LISP_PREFIX_STRLEN];
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;

	e->version = ++f->version;
	e->acked = 0;
	fill_event(f, e, kinds[what], &ev, eid, sizeof(eid), now);
	lisp_prefix_format(&e->p, key, sizeof(key));
	for (size_t i = 0; i < f->ngws; i++) {
		if (f->gws[i].dyn != e->dyn || f->gws[i].need_hello || !f->gws[i].rx.session)
			continue; /* (the Resync after the Ack of our Hello carries it) */
		vmroam__notify__envelope__init(&env);
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
		env.eid_event = &ev;
		evh_add(f->io.evh, names[what], &e->p, &f->gws[i].addr, NULL);
		send_env(f, &f->gws[i], &env, true, key, now);
	}
}

struct resync_walk {
	struct fhr *f;
	struct gw *g;
	Vmroam__Notify__EidEvent ev[RESYNC_CHUNK], *evp[RESYNC_CHUNK];
	char eid[RESYNC_CHUNK][LISP_ADDR_STRLEN];
	size_t n;
	uint32_t part;
	double now;
};

static void resync_flush(struct resync_walk *w, bool complete)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Resync rs;
	char key[32];

	vmroam__notify__envelope__init(&env);
	vmroam__notify__resync__init(&rs);
	rs.eids = w->evp;
	rs.n_eids = w->n;
	rs.complete = complete;
	rs.as_of = w->f->version;
	rs.part = ++w->part;
	rs.parts = complete ? w->part : 0;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC;
	env.resync = &rs;
	/* part N of a newer snapshot replaces part N of an older one still waiting */
	snprintf(key, sizeof(key), "resync/%u", rs.part);
	send_env(w->f, w->g, &env, true, key, w->now);
	w->n = 0;
}

static int resync_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct resync_walk *w = arg;
	struct fhr_eid *e = v;

	(void)p;
	if (e->dyn != w->g->dyn || e->state == FHR_EID_MOVED)
		return 0;
	fill_event(w->f, e, VMROAM__NOTIFY__EVENT_KIND__ARRIVED, &w->ev[w->n], w->eid[w->n],
		   sizeof(w->eid[0]), w->now);
	w->evp[w->n] = &w->ev[w->n];
	if (++w->n == RESYNC_CHUNK)
		resync_flush(w, false);
	return 0;
}

/*
 * After a snapshot: the EIDs of g's dynamic-eid that departed lately and
 * are not back, as departures (at their own versions, older than the
 * snapshot's: they undo nothing newer). A gateway that restarted since
 * withdraws what its earlier life registered of them.
 */
static void recent_departures(struct fhr *f, struct gw *g, double now)
{
	char eid[LISP_ADDR_STRLEN], key[LISP_PREFIX_STRLEN];
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;

	for (size_t i = 0; i < FHR_GONE_MAX; i++) {
		const struct fhr_eid *e = &f->gone[i];

		if (!e->version || e->dyn != g->dyn || now - e->last_seen > FHR_GONE_LIFE ||
		    ptable_lookup_exact(f->eids, &e->p))
			continue;
		fill_event(f, e, VMROAM__NOTIFY__EVENT_KIND__DEPARTED, &ev, eid, sizeof(eid), now);
		lisp_prefix_format(&e->p, key, sizeof(key));
		vmroam__notify__envelope__init(&env);
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
		env.eid_event = &ev;
		send_env(f, g, &env, true, key, now);
	}
}

/* Our whole table of g's dynamic-eid, a snapshot at the table's version now. */
static void resync(struct fhr *f, struct gw *g, double now)
{
	static struct resync_walk w;

	w.f = f;
	w.g = g;
	w.n = 0;
	w.part = 0;
	w.now = now;
	ptable_walk(f->eids, NULL, resync_one, &w);
	resync_flush(&w, true);
	recent_departures(f, g, now);
	g->resyncs++;
	g->last_resync = now;
	g->mismatches = 0;
}

/* A Hello: the gateway's Ack tells us its session; the Resync follows then. */
static void hello(struct fhr *f, struct gw *g, double now)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Hello h;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__hello__init(&h);
	h.dynamic_eid = (char *)(uintptr_t)f->conf->dyneids[g->dyn].name;
	h.keepalive_ms = (uint32_t)(NOTIFY_KEEPALIVE * 1000);
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	send_env(f, g, &env, true, "hello", now);
	g->hello_seq = env.seq;
}

/*
 * The gateway that sent a datagram from src for instance-id iid: one of
 * ours at that address whose key verifies it and whose dynamic-eid it
 * names; its decoded envelope in env.
 */
static struct gw *gw_for(struct fhr *f, const struct lisp_addr *src, uint32_t iid,
			 const uint8_t *buf, size_t len, Vmroam__Notify__Envelope **env, int *err)
{
	*err = -ENOENT;
	for (size_t i = 0; i < f->ngws; i++) {
		struct gw *g = &f->gws[i];

		if (g->iid != iid || !lisp_addr_equal(&g->addr, src))
			continue;
		*env = notify_unpack(g->key, buf, len, err);
		if (!*env)
			continue;
		if (strcmp((*env)->dynamic_eid, f->conf->dyneids[g->dyn].name) == 0)
			return g;
		vmroam__notify__envelope__free_unpacked(*env, NULL);
		*env = NULL;
		*err = -EXDEV;
	}
	return NULL;
}

static void mark_acked(struct fhr *f, struct gw *g, const struct lisp_prefix *p)
{
	struct fhr_eid *e = ptable_lookup_exact(f->eids, p);
	uint32_t all = 0;

	if (!e || e->dyn != g->dyn)
		return;
	if (!(e->acked & 1u << g->idx))
		evh_add(f->io.evh, "acked", &e->p, &g->addr, NULL);
	e->acked |= 1u << g->idx;
	for (size_t i = 0; i < f->conf->dyneids[e->dyn].ngws; i++)
		all |= 1u << i;
	if (e->state == FHR_EID_DETECTED && (e->acked & all) == all)
		e->state = FHR_EID_ACKED;
}

/* The Ack of a Resync part we sent (buf): the EIDs it listed are held, but those refused. */
static void resync_acked(struct fhr *f, struct gw *g, const uint8_t *buf, size_t len,
			 const Vmroam__Notify__Ack *ack)
{
	Vmroam__Notify__Envelope *env;
	struct lisp_prefix p;
	struct lisp_addr a;
	int err;

	env = notify_unpack(g->key, buf, len, &err);
	if (!env)
		return;
	for (size_t i = 0; env->resync && i < env->resync->n_eids; i++) {
		bool refused = false;

		for (size_t j = 0; j < ack->n_refused && !refused; j++)
			refused = strcmp(ack->refused[j], env->resync->eids[i]->eid) == 0;
		if (refused || lisp_addr_parse(env->resync->eids[i]->eid, &a) < 0)
			continue;
		lisp_prefix_from_addr(&p, g->iid, &a);
		mark_acked(f, g, &p);
	}
	vmroam__notify__envelope__free_unpacked(env, NULL);
}

static void on_ack(struct fhr *f, struct gw *g, const Vmroam__Notify__Ack *ack, double now)
{
	void *args[2] = { f, g };
	char key[64] = "", a[LISP_ADDR_STRLEN];
	struct lisp_prefix p;
	uint8_t *buf;
	size_t len;

	if (ack->status == -ESTALE && ack->min_session >= g->session) {
		/* our session is older than one the gateway has seen: our clock went back */
		log_warn("fhr: gateway %s knows a later session of ours: starting above it",
			 lisp_addr_format(&g->addr, a, sizeof(a)));
		g->session = ack->min_session + 1;
		notify_tx_clear(&g->tx);
		memset(&g->rx, 0, sizeof(g->rx));
		g->need_hello = true;
		return;
	}
	if (ack->status == -ESTALE)
		return; /* it did not know our session: its own, new, is in the envelope */
	buf = notify_tx_take(&g->tx, ack->seq, key, sizeof(key), &len);
	if (!buf)
		return;
	g->acked++;
	notify_tx_due(&g->tx, now, resend, args); /* the room it made in the send window */
	if (ack->status < 0) {
		f->c.refused_by_gw++;
		log_warn_rl(&f->rl, "fhr: gateway %s refused %s: %s",
			    lisp_addr_format(&g->addr, a, sizeof(a)), key[0] ? key : "a message",
			    strerror(-ack->status));
	}
	if (strncmp(key, "resync/", 7) == 0)
		resync_acked(f, g, buf, len, ack);
	else if (ack->status >= 0 && strcmp(key, "hello") != 0 &&
		 lisp_prefix_parse(key + (key[0] == '[' ? strcspn(key, "]") + 2 : 0), g->iid, &p) ==
			 0)
		mark_acked(f, g, &p);
	free(buf);
}

static void on_moved_away(struct fhr *f, struct gw *g, const Vmroam__Notify__MovedAway *m,
			  double now)
{
	char a[LISP_ADDR_STRLEN], b[LISP_PREFIX_STRLEN];
	const char *where = m->n_locators ? m->locators[0] : "?";
	struct lisp_prefix p;
	struct fhr_eid *e;

	if (lisp_prefix_parse(m->eid, g->iid, &p) < 0 ||
	    (e = ptable_lookup_exact(f->eids, &p)) == NULL || e->state == FHR_EID_MOVED)
		return;
	/* (a leaving EID's MovedAway may name its version before the LEAVING: the gateway got the
	 * Map-Notify first; it went all the same) */
	if (m->version && e->version > m->version && !(e->leaving && m->version >= e->leave_from)) {
		f->c.moves_stale++; /* about an older state of ours: it came back since */
		return;
	}
	e->state = FHR_EID_MOVED;
	e->moved_at = now;
	f->c.moves_told++;
	evh_add(f->io.evh, "moved-away", &p, &g->addr, "now at %s", where);
	/*
	 * One probe to its MAC: a VM that is still here answers, and that
	 * answer is a detection (it re-asserts itself). A stale claim from
	 * another site (an old registration refreshed at a Map-Server that lost
	 * its state) cannot take a live VM away. From the gateway MAC, which
	 * FHRP isolation keeps local.
	 */
	if (e->has_mac) {
		f->c.move_checks++;
		if (f->io.probe)
			f->io.probe(f->io.arg, e->ifname, &e->p.addr, e->mac);
	}
	if (f->io.known) /* its first packet here again is a detection */
		f->io.known(f->io.arg, e->ifname, &e->p.addr, e->has_mac ? e->mac : NULL,
			    FHR_KNOWN_AWAY);
	log_info("fhr: %s moved away (gateway %s: now at %s)", lisp_prefix_format(&p, b, sizeof(b)),
		 lisp_addr_format(&g->addr, a, sizeof(a)), where);
	fhr_leaving_moved(f, e);
}

struct digest_walk {
	const struct gw *g;
	uint64_t d;
	uint32_t n;
};

static int digest_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct digest_walk *w = arg;
	const struct fhr_eid *e = v;

	if (e->dyn == w->g->dyn && e->state != FHR_EID_MOVED && (e->acked & 1u << w->g->idx)) {
		w->d = notify_digest_add(w->d, p);
		w->n++;
	}
	return 0;
}

/* The digest of what gateway g should hold of our table: our EIDs it acknowledged. */
static uint64_t gw_digest(const struct fhr *f, const struct gw *g, uint32_t *count)
{
	struct digest_walk w = { .g = g };

	ptable_walk(f->eids, NULL, digest_one, &w);
	if (count)
		*count = w.n;
	return w.d;
}

/* Anti-entropy: both ends quiet and the digests differ twice in a row: our table again. */
static void on_keepalive(struct fhr *f, struct gw *g, const Vmroam__Notify__Keepalive *ka,
			 double now)
{
	char a[LISP_ADDR_STRLEN];

	if (g->tx.n || ka->pending || gw_digest(f, g, NULL) == ka->digest) {
		g->mismatches = 0;
		return;
	}
	if (++g->mismatches < 2 || now - g->last_resync < DIGEST_RESYNC_MIN)
		return;
	g->digest_resyncs++;
	log_warn_rl(&f->rl,
		    "fhr: gateway %s holds %u EIDs of dynamic-eid %s, not the ones we "
		    "have: sending our table again",
		    lisp_addr_format(&g->addr, a, sizeof(a)), ka->eids,
		    f->conf->dyneids[g->dyn].name);
	evh_add(f->io.evh, "resync-digest", NULL, &g->addr, "it holds %u", ka->eids);
	resync(f, g, now);
}

/* Acknowledges a reliable message from g (again, with the status it had, if a retransmission). */
static void ack_gw(struct fhr *f, struct gw *g, uint64_t seq, int status, double now)
{
	Vmroam__Notify__Envelope reply;
	Vmroam__Notify__Ack ack;

	vmroam__notify__envelope__init(&reply);
	vmroam__notify__ack__init(&ack);
	ack.seq = seq;
	ack.status = status;
	reply.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	reply.ack = &ack;
	send_env(f, g, &reply, false, NULL, now);
}

/* Checks what binds env to us: 0, or the refusal counted and logged. */
static int bound_to_us(struct fhr *f, struct gw *g, const Vmroam__Notify__Envelope *env,
		       const struct lisp_addr *src)
{
	char a[LISP_ADDR_STRLEN];
	int rc = notify_bound(env, VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR, f->conf->fhr_id,
			      g->session);

	if (rc == 0 && strcmp(env->sender, g->name) != 0)
		rc = -EXDEV;
	if (rc == 0)
		return 0;
	if (rc == -ESTALE)
		f->c.stale_session++;
	else
		f->c.misdirected++;
	g->refused++;
	log_warn_rl(&f->rl, "fhr: datagram from %s refused (%s)",
		    lisp_addr_format(src, a, sizeof(a)),
		    rc == -ESTALE  ? "for an earlier life of ours"
		    : rc == -EPERM ? "wrong direction"
				   : "for another receiver, or from another gateway");
	return rc;
}

void fhr_input(struct fhr *f, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	       size_t len, double now)
{
	char a[LISP_ADDR_STRLEN];
	Vmroam__Notify__Envelope *env = NULL;
	struct gw *g;
	uint32_t iid;
	int32_t status;
	int err, rc;

	(void)sport;
	f->c.received++;
	if (notify_peek_iid(buf, len, &iid) < 0) {
		f->c.malformed++;
		return;
	}
	g = gw_for(f, src, iid, buf, len, &env, &err);
	if (!g) {
		if (err == -EACCES)
			f->c.auth_failures++;
		else
			f->c.malformed++;
		log_warn_rl(&f->rl, "fhr: datagram from %s refused (%s)",
			    lisp_addr_format(src, a, sizeof(a)),
			    err == -EACCES ? "authentication failed"
					   : "not from a gateway of ours");
		return;
	}
	if (bound_to_us(f, g, env, src) < 0)
		goto out;
	/* the Ack of the Hello we wait on is fresh whatever its session: the gateway's life now */
	if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_ACK && g->hello_seq &&
	    env->ack->seq == g->hello_seq && env->ack->status == 0 &&
	    env->session != g->rx.session) {
		memset(&g->rx, 0, sizeof(g->rx));
		g->hello_seq = 0;
	}
	rc = notify_rx_accept(&g->rx, env->session, env->seq, notify_is_reliable(env));
	if (rc < 0) {
		f->c.replays++;
		g->replays++;
		if (rc == -EALREADY &&
		    env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_MOVED_AWAY &&
		    env->session == g->rx.session &&
		    notify_rx_status(&g->rx, env->seq, &status) == 0)
			ack_gw(f, g, env->seq, status, now);
		goto out;
	}
	g->last_heard = now;
	if (!g->up) {
		log_info("fhr: gateway %s up", lisp_addr_format(src, a, sizeof(a)));
		evh_add(f->io.evh, "gateway-up", NULL, src, NULL);
	}
	if (rc == NOTIFY_RX_NEW_SESSION || (g->heard && !g->up)) {
		/* its first word, it restarted, or it comes back from silence: our whole table */
		if (rc == NOTIFY_RX_NEW_SESSION && g->heard)
			evh_add(f->io.evh, "gateway-restarted", NULL, src, NULL);
		notify_tx_clear(&g->tx);
		g->need_hello = false;
		g->hello_seq = 0;
		g->heard = g->up = true;
		if (!(env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_ACK &&
		      env->ack->min_session))
			resync(f, g, now);
	}
	g->heard = g->up = true;
	switch (env->body_case) {
	case VMROAM__NOTIFY__ENVELOPE__BODY_ACK:
		on_ack(f, g, env->ack, now);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_MOVED_AWAY:
		on_moved_away(f, g, env->moved_away, now);
		notify_rx_done(&g->rx, env->seq, 0);
		ack_gw(f, g, env->seq, 0, now);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE:
		on_keepalive(f, g, env->keepalive, now);
		break;
	default:
		break;
	}
out:
	vmroam__notify__envelope__free_unpacked(env, NULL);
}

void gw_tick(struct fhr *f, double now)
{
	char a[LISP_ADDR_STRLEN];

	for (size_t i = 0; i < f->ngws; i++) {
		struct gw *g = &f->gws[i];
		void *args[2] = { f, g };

		if (g->up && now > g->last_heard + NOTIFY_DEAD) {
			g->up = false;
			g->need_hello =
				true; /* its answer may be from a new life, of any session */
			evh_add(f->io.evh, "gateway-down", NULL, &g->addr, NULL);
			log_warn("fhr: gateway %s silent for %.1f s: down",
				 lisp_addr_format(&g->addr, a, sizeof(a)), now - g->last_heard);
		}
		if (g->need_hello) {
			g->need_hello = false;
			hello(f, g, now);
		}
		notify_tx_due(&g->tx, now, resend, args);
		if (g->rx.session && now >= g->last_keepalive + NOTIFY_KEEPALIVE) {
			Vmroam__Notify__Envelope env;
			Vmroam__Notify__Keepalive ka;

			vmroam__notify__envelope__init(&env);
			vmroam__notify__keepalive__init(&ka);
			ka.digest = gw_digest(f, g, &ka.eids);
			ka.pending = (uint32_t)g->tx.n;
			env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE;
			env.keepalive = &ka;
			send_env(f, g, &env, false, NULL, now);
			g->last_keepalive = now;
		}
	}
}

double gw_next_due(const struct fhr *f)
{
	double due = INFINITY;

	for (size_t i = 0; i < f->ngws; i++) {
		const struct gw *g = &f->gws[i];

		if (g->need_hello)
			return 0; /* (at once) */
		if (g->up)
			due = due_min(due, g->last_heard + NOTIFY_DEAD); /* (down just after) */
		if (g->rx.session)
			due = due_min(due, g->last_keepalive + NOTIFY_KEEPALIVE);
		due = due_min(due, notify_tx_next_due(&g->tx));
	}
	return due;
}

size_t fhr_gw_count(const struct fhr *f)
{
	return f->ngws;
}

void fhr_gw_info(const struct fhr *f, size_t i, struct fhr_gw_info *out)
{
	const struct gw *g = &f->gws[i];

	out->addr = g->addr;
	out->iid = g->iid;
	out->policy = f->conf->dyneids[g->dyn].name;
	out->up = g->up;
	out->last_heard = g->last_heard;
	out->pending = g->tx.n;
	out->sent = g->sent;
	out->acked = g->acked;
	out->retransmits = g->tx.retransmits;
	out->resyncs = g->resyncs;
	out->digest_resyncs = g->digest_resyncs;
	out->replays = g->replays;
	out->refused = g->refused;
	gw_digest(f, g, &out->eids);
	out->in_sync = g->up && g->mismatches == 0;
}
