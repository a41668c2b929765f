/*
 * The gateway's end of the eid-notify channel (lib/notify.h): first-hop
 * routers of the dynamic-eids that have an `eid-notify authentication-key`
 * tell us which EIDs arrived or left. Each datagram must verify with the
 * key of a dynamic-eid of its instance-id; the events go through the ETR's
 * one learn function; an EID outside the dynamic-eid's prefixes, or for
 * another dynamic-eid than the key's, is refused and counted. A peer (an
 * FHR) is known by its id and instance-id; its session and replay window
 * are kept; Keepalives go both ways; when the Map-Server says an EID moved
 * away, the FHR that reported it gets a MovedAway (retransmitted until
 * acknowledged). No OS calls: datagrams leave through io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/evhist.h"
#include "lib/notify.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define PEERS_MAX 4096

/* An EID a peer reported, and the newest event about it applied. */
struct peer_eid {
	struct lisp_prefix p;
	uint64_t event_seq;
	bool routed; /* its host route toward this FHR is in place */
};

struct peer {
	char id[64];
	uint32_t iid;
	int dyn; /* the dynamic-eid whose key it uses */
	struct lisp_addr addr;
	uint16_t port;
	struct notify_rx rx;
	struct notify_tx tx;
	double last_heard;
	bool alive;
	struct xtr_notify_peer_counters c;
	struct peer_eid *eids;
	size_t neids, cap;
};

struct xtr_notify {
	struct xtr_notify_io io;
	struct etr *etr;
	const struct xtr_conf *conf;
	struct lisp_auth_key **keys; /* per dynamic-eid, NULL without eid-notify */
	struct peer *peers;
	size_t npeers;
	uint64_t session;
	char name[64]; /* ours, as the sender of what we send */
	struct xtr_notify_counters c;
	struct log_rate rl;
	uint8_t out[NOTIFY_MAX];
};

struct xtr_notify *xtr_notify_new(const struct xtr_notify_io *io, struct etr *etr, const char *name)
{
	struct xtr_notify *n = xcalloc(1, sizeof(*n));
	struct timespec ts;

	n->io = *io;
	n->etr = etr;
	snprintf(n->name, sizeof(n->name), "%s", name);
	clock_gettime(CLOCK_REALTIME, &ts);
	n->session = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	n->peers = xcalloc(PEERS_MAX, sizeof(*n->peers));
	return n;
}

static void free_keys(struct xtr_notify *n)
{
	for (size_t i = 0; n->conf && i < n->conf->ndyneids; i++)
		lisp_auth_key_free(n->keys[i]);
	free(n->keys);
	n->keys = NULL;
}

void xtr_notify_free(struct xtr_notify *n)
{
	if (!n)
		return;
	free_keys(n);
	for (size_t i = 0; i < n->npeers; i++) {
		notify_tx_free(&n->peers[i].tx);
		free(n->peers[i].eids);
	}
	free(n->peers);
	free(n);
}

void xtr_notify_configure(struct xtr_notify *n, const struct xtr_conf *conf)
{
	free_keys(n);
	n->conf = conf;
	n->keys = xcalloc(conf->ndyneids + 1, sizeof(*n->keys));
	for (size_t i = 0; i < conf->ndyneids; i++)
		if (conf->dyneids[i].has_notify_key)
			n->keys[i] = lisp_auth_key_new(conf->dyneids[i].notify_key,
						       conf->dyneids[i].notify_keylen);
	/* peers of dynamic-eids that are gone (or renamed) are forgotten */
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];

		p->dyn = -1;
		for (size_t j = 0; j < conf->ndyneids; j++)
			if (conf->dyneids[j].has_notify_key && conf->dyneids[j].iid == p->iid)
				p->dyn = (int)j;
	}
}

bool xtr_notify_enabled(const struct xtr_conf *conf)
{
	for (size_t i = 0; i < conf->ndyneids; i++)
		if (conf->dyneids[i].has_notify_key)
			return true;
	return false;
}

/* Packs and sends env to p; if reliable, keeps it for retransmission under key. */
static void send_env(struct xtr_notify *n, struct peer *p, Vmroam__Notify__Envelope *env,
		     bool reliable, const char *key, double now)
{
	size_t len;

	env->instance_id = p->iid;
	env->sender = n->name;
	env->session = n->session;
	env->seq = notify_tx_next(&p->tx);
	len = notify_pack(n->keys[p->dyn], p->iid, env, n->out, sizeof(n->out));
	if (!len)
		return;
	n->io.send(n->io.arg, &p->addr, p->port, n->out, len);
	p->c.sent++;
	if (reliable)
		notify_tx_keep(&p->tx, env->seq, key, n->out, len, now);
}

static void send_ack(struct xtr_notify *n, struct peer *p, uint64_t seq, int status, double now)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Ack ack;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__ack__init(&ack);
	ack.seq = seq;
	ack.status = status;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	send_env(n, p, &env, false, NULL, now);
}

static struct peer_eid *peer_eid(struct peer *p, const struct lisp_prefix *e, bool add)
{
	for (size_t i = 0; i < p->neids; i++)
		if (lisp_prefix_equal(&p->eids[i].p, e))
			return &p->eids[i];
	if (!add)
		return NULL;
	if (p->neids == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->eids = xreallocarray(p->eids, p->cap, sizeof(*p->eids));
	}
	p->eids[p->neids] = (struct peer_eid){ .p = *e };
	return &p->eids[p->neids++];
}

static void peer_eid_del(struct peer *p, const struct lisp_prefix *e)
{
	struct peer_eid *x = peer_eid(p, e, false);

	if (x)
		*x = p->eids[--p->neids];
}

/* True if host lies in one of dynamic-eid d's database-mapping prefixes. */
static bool in_policy(const struct xtr_conf *c, int d, const struct lisp_prefix *host)
{
	for (size_t i = 0; i < c->ndbmaps; i++)
		if (c->dbmaps[i].dyn == d && lisp_prefix_contains(&c->dbmaps[i].p, host))
			return true;
	return false;
}

/* One EID event from p: 0 applied (or older than one applied), or why it is refused. */
static int apply_event(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__EidEvent *ev,
		       double now)
{
	const struct xtr_conf_dyneid *d = &n->conf->dyneids[p->dyn];
	char buf[LISP_PREFIX_STRLEN];
	struct lisp_prefix host;
	struct lisp_addr a;
	struct peer_eid *x;
	int rc;

	if (ev->dynamic_eid[0] && strcmp(ev->dynamic_eid, d->name) != 0) {
		p->c.refused_policy++;
		n->c.refused_policy++;
		return -EPERM; /* another dynamic-eid than the key's */
	}
	if (lisp_addr_parse(ev->eid, &a) < 0 ||
	    (a.afi != LISP_AFI_IPV4 && a.afi != LISP_AFI_IPV6) ||
	    ev->eid_len != lisp_afi_max_plen(a.afi)) {
		p->c.malformed++;
		n->c.malformed++;
		return -EINVAL;
	}
	lisp_prefix_from_addr(&host, p->iid, &a);
	if (!in_policy(n->conf, p->dyn, &host)) {
		p->c.refused_prefix++;
		n->c.refused_prefix++;
		log_warn_rl(&n->rl, "eid-notify: %s: %s is outside dynamic-eid %s: refused", p->id,
			    lisp_prefix_format(&host, buf, sizeof(buf)), d->name);
		return -EDOM;
	}
	x = peer_eid(p, &host, ev->kind != VMROAM__NOTIFY__EVENT_KIND__DEPARTED);
	if (x && ev->event_seq && ev->event_seq <= x->event_seq)
		return 0; /* an older event overtaken by a newer one */
	evh_add(ev->kind == VMROAM__NOTIFY__EVENT_KIND__DEPARTED ? "fhr-departed" : "fhr-arrived",
		&host, &p->addr, "from %s", p->id);
	if (ev->kind == VMROAM__NOTIFY__EVENT_KIND__DEPARTED) {
		etr_dyn_clear(n->etr, &host, now);
		peer_eid_del(p, &host);
		p->c.departures++;
		return 0;
	}
	rc = etr_dyn_learn(n->etr, p->iid, &a, ETR_SRC_FHR, p->id, now);
	if (rc < 0) {
		p->c.refused_prefix++;
		n->c.refused_prefix++;
		return rc;
	}
	/* across subnets it is not where its subnet is routed: toward this FHR, also when the
	 * data plane saw its packets first (known already, rc 0); once per EID and FHR */
	if (n->io.route && (rc > 0 || !x->routed))
		n->io.route(n->io.arg, &host, &p->addr, true);
	x->routed = true;
	x->event_seq = ev->event_seq;
	p->c.arrivals++;
	return 0;
}

/* A Resync: the peer's whole table; with complete, what it does not list is gone. */
static int apply_resync(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__Resync *r,
			double now)
{
	int rc = 0;

	for (size_t i = 0; i < r->n_eids; i++) {
		int e = apply_event(n, p, r->eids[i], now);

		rc = rc ? rc : e;
	}
	if (!r->complete)
		return rc;
	for (size_t i = 0; i < p->neids;) {
		bool listed = false;

		for (size_t j = 0; j < r->n_eids && !listed; j++) {
			struct lisp_addr a;

			listed = lisp_addr_parse(r->eids[j]->eid, &a) == 0 &&
				 lisp_addr_equal(&a, &p->eids[i].p.addr);
		}
		if (listed) {
			i++;
			continue;
		}
		etr_dyn_clear(n->etr, &p->eids[i].p, now);
		p->eids[i] = p->eids[--p->neids];
	}
	p->c.resyncs++;
	return rc;
}

/* The peer (id, iid) after its message authenticated with dynamic-eid d's key; NULL if full. */
static struct peer *peer_for(struct xtr_notify *n, const char *id, uint32_t iid, int d,
			     const struct lisp_addr *src, uint16_t sport)
{
	struct peer *p = NULL;

	for (size_t i = 0; i < n->npeers && !p; i++)
		if (n->peers[i].iid == iid && strcmp(n->peers[i].id, id) == 0)
			p = &n->peers[i];
	if (!p) {
		if (n->npeers == PEERS_MAX)
			return NULL;
		p = &n->peers[n->npeers++];
		memset(p, 0, sizeof(*p));
		snprintf(p->id, sizeof(p->id), "%s", id);
		p->iid = iid;
		notify_tx_init(&p->tx, n->session);
	}
	p->dyn = d;
	p->addr = *src;
	p->port = sport;
	return p;
}

void xtr_notify_input(struct xtr_notify *n, const struct lisp_addr *src, uint16_t sport,
		      const uint8_t *buf, size_t len, double now)
{
	Vmroam__Notify__Envelope *env = NULL;
	char a[LISP_ADDR_STRLEN];
	struct peer *p;
	uint32_t iid;
	int err = -ENOKEY, d = -1, rc;

	n->c.received++;
	if (notify_peek_iid(buf, len, &iid) < 0) {
		n->c.malformed++;
		return;
	}
	/* the key of a dynamic-eid of that instance-id must verify it */
	for (size_t i = 0; i < n->conf->ndyneids && !env; i++) {
		if (!n->keys[i] || n->conf->dyneids[i].iid != iid)
			continue;
		env = notify_unpack(n->keys[i], buf, len, &err);
		d = (int)i;
	}
	if (!env) {
		if (err == -EACCES || err == -ENOKEY)
			n->c.auth_failures++;
		else
			n->c.malformed++;
		log_warn_rl(&n->rl, "eid-notify: from %s: %s", lisp_addr_format(src, a, sizeof(a)),
			    err == -ENOKEY   ? "no eid-notify key for its instance-id"
			    : err == -EACCES ? "authentication failed"
					     : "malformed");
		return;
	}
	p = env->sender[0] ? peer_for(n, env->sender, iid, d, src, sport) : NULL;
	if (!p) {
		n->c.malformed++;
		goto out;
	}
	p->c.received++;
	rc = notify_rx_accept(&p->rx, env->session, env->seq);
	if (rc < 0) {
		p->c.replays++;
		n->c.replays++;
		goto out;
	}
	if (rc == NOTIFY_RX_NEW_SESSION && p->last_heard > 0) {
		log_info("eid-notify: %s restarted", p->id);
		notify_tx_clear(&p->tx);
	}
	p->last_heard = now;
	if (!p->alive) {
		log_info("eid-notify: %s (instance-id %u, dynamic-eid %s) up at %s", p->id, iid,
			 n->conf->dyneids[d].name, lisp_addr_format(src, a, sizeof(a)));
		evh_add("fhr-up", NULL, src, "%s", p->id);
	}
	p->alive = true;
	switch (env->body_case) {
	case VMROAM__NOTIFY__ENVELOPE__BODY_HELLO:
		send_ack(n, p, env->seq, 0, now);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT:
		send_ack(n, p, env->seq, apply_event(n, p, env->eid_event, now), now);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC:
		send_ack(n, p, env->seq, apply_resync(n, p, env->resync, now), now);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_ACK:
		notify_tx_ack(&p->tx, env->ack->seq, NULL, 0);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE:
		break;
	default:
		p->c.malformed++;
		break;
	}
out:
	vmroam__notify__envelope__free_unpacked(env, NULL);
}

static void resend(void *arg, const uint8_t *buf, size_t len)
{
	struct peer *p = ((void **)arg)[1];
	struct xtr_notify *n = ((void **)arg)[0];

	n->io.send(n->io.arg, &p->addr, p->port, buf, len);
}

void xtr_notify_tick(struct xtr_notify *n, double now)
{
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		void *args[2] = { n, p };
		Vmroam__Notify__Envelope env;
		Vmroam__Notify__Keepalive ka;

		if (p->dyn < 0)
			continue;
		if (p->alive && now - p->last_heard > NOTIFY_DEAD) {
			p->alive = false;
			p->c.deaths++;
			evh_add("fhr-down", NULL, &p->addr, "%s", p->id);
			log_warn(
				"eid-notify: %s silent for %.1f s: down (its EIDs stay registered)",
				p->id, now - p->last_heard);
		}
		if (!p->alive)
			continue;
		notify_tx_due(&p->tx, now, resend, args);
		vmroam__notify__envelope__init(&env);
		vmroam__notify__keepalive__init(&ka);
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE;
		env.keepalive = &ka;
		send_env(n, p, &env, false, NULL, now);
	}
}

void xtr_notify_event(struct xtr_notify *n, enum etr_event ev, const struct lisp_prefix *e,
		      double now)
{
	struct etr_away_info away;
	char key[LISP_PREFIX_STRLEN], locs[ETR_AWAY_LOCS][LISP_ADDR_STRLEN];
	char *locp[ETR_AWAY_LOCS];

	if (ev == ETR_EV_DYN_DOWN && n->io.route) {
		for (size_t i = 0; i < n->npeers; i++)
			if (peer_eid(&n->peers[i], e, false))
				n->io.route(n->io.arg, e, &n->peers[i].addr, false);
		return;
	}
	if (ev != ETR_EV_AWAY_UP || etr_away_get(n->etr, e, &away) < 0)
		return;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		Vmroam__Notify__Envelope env;
		Vmroam__Notify__MovedAway m;
		char eid[LISP_ADDR_STRLEN];

		if (p->dyn < 0 || !peer_eid(p, e, false))
			continue;
		vmroam__notify__envelope__init(&env);
		vmroam__notify__moved_away__init(&m);
		lisp_addr_format(&e->addr, eid, sizeof(eid));
		m.eid = eid;
		m.eid_len = e->plen;
		for (uint8_t j = 0; j < away.nloc && j < ETR_AWAY_LOCS; j++) {
			lisp_addr_format(&away.locs[j].addr, locs[j], sizeof(locs[j]));
			locp[j] = locs[j];
		}
		m.n_locators = away.nloc;
		m.locators = locp;
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_MOVED_AWAY;
		env.moved_away = &m;
		evh_add("moved-away-sent", e, &p->addr, "to %s", p->id);
		send_env(n, p, &env, true, lisp_prefix_format(e, key, sizeof(key)), now);
		peer_eid_del(p, e);
		p->c.moved_away++;
	}
}

const struct xtr_notify_counters *xtr_notify_counters(const struct xtr_notify *n)
{
	return &n->c;
}

size_t xtr_notify_peer_count(const struct xtr_notify *n)
{
	return n->npeers;
}

void xtr_notify_peer_info(const struct xtr_notify *n, size_t i, struct xtr_notify_peer_info *out)
{
	const struct peer *p = &n->peers[i];

	out->id = p->id;
	out->iid = p->iid;
	out->dynamic_eid = p->dyn >= 0 ? n->conf->dyneids[p->dyn].name : "";
	out->addr = p->addr;
	out->port = p->port;
	out->alive = p->alive;
	out->last_heard = p->last_heard;
	out->session = p->rx.session;
	out->eids = p->neids;
	out->pending = p->tx.n;
	out->c = p->c;
}
