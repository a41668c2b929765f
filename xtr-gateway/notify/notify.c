/*
 * The gateway's end of the eid-notify channel (lib/notify.h; its rules are
 * written in proto/eid_notify.proto): first-hop routers of the
 * dynamic-eids that have an `eid-notify authentication-key` tell us which
 * EIDs arrived or left. A peer is one (FHR id, instance-id, dynamic-eid);
 * a datagram must verify with that dynamic-eid's key, be sent to us (the
 * address it arrived at, our current session) in the FHR-to-gateway
 * direction, and pass the peer's replay window before anything it says
 * changes anything, the peer's address included. Per EID of a peer the
 * version applied is kept (also after a departure, for a while), so that
 * nothing older undoes anything newer. Keepalives carry a digest of what
 * we hold of the peer's table (anti-entropy: the FHR resends its table on
 * a mismatch). When the Map-Server says an EID moved away, the FHR that
 * reported it gets a MovedAway (retransmitted until acknowledged). No OS
 * calls: datagrams leave through io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/evhist.h"
#include "lib/notify.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/notify/notify.h"
#include "xtr-gateway/xtr.h"

#define TOMB_LIFE   60.0 /* s a departed EID's version is kept (delayed datagrams) */
#define TOMBS_MAX   4096 /* per peer; the oldest goes first */
/* per dynamic-eid and second: answers to Hellos and to datagrams for an earlier life of ours */
#define ANSWERS_RPS 50.0

/* An EID a peer reported: the version applied; a tombstone when it departed. */
struct peer_eid {
	struct lisp_prefix p;
	uint64_t version;
	uint64_t snapshot; /* the peer's snap_id of the last Resync snapshot that listed it */
	double gone_at;	   /* tombstone since (present false) */
	bool present;
	bool routed; /* its host route toward this FHR is in place */
};

struct peer {
	char id[64];
	uint32_t iid;
	int dyn; /* the dynamic-eid (its key, its name); -1: gone from the configuration */
	char dyn_name[XTR_SITE_NAME_MAX];
	struct lisp_addr addr, local; /* the FHR's address; ours that it sends to */
	uint16_t port;
	struct notify_rx rx;
	struct notify_tx tx;
	double last_heard;
	bool alive;
	struct ptable *eids; /* struct peer_eid */
	size_t present, tombs;
	uint64_t snap_as_of;		/* the Resync snapshot being received: its version, */
	uint64_t snap_id;		/* our number for it, */
	uint32_t snap_seen, snap_parts; /* its parts seen, and how many it has (0: not known) */
	uint64_t their_digest;		/* from its last Keepalive */
	bool their_quiet;		/* nothing was waiting on its side then */
	struct xtr_notify_peer_counters c;
};

/* A token bucket: answers to datagrams that prove nothing about their freshness. */
struct answer_bucket {
	double tokens, at;
};

struct xtr_notify {
	struct xtr_notify_io io;
	struct etr *etr;
	const struct xtr_conf *conf;
	struct lisp_auth_key **keys; /* per dynamic-eid, NULL without eid-notify */
	struct peer **peers;
	size_t npeers, cap;
	uint64_t session;
	uint64_t answer_seq; /* answers to an FHR we have no peer for yet; peers start above */
	char name[64];
	/*
	 * The answers' token buckets, one per dynamic-eid (its key signs what
	 * is answered): a replayed capture of one tenant's Hellos spends only
	 * that tenant's, and their number is the configuration's.
	 */
	struct answer_bucket *buckets;
	struct xtr_notify_counters c;
	struct log_rate rl, rl_info;
	uint8_t out[NOTIFY_MAX];
};

struct xtr_notify *xtr_notify_new(const struct xtr_notify_io *io, struct etr *etr, const char *name)
{
	struct xtr_notify *n = xcalloc(1, sizeof(*n));

	n->io = *io;
	n->etr = etr;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->session = notify_session_now();
	return n;
}

static void free_keys(struct xtr_notify *n)
{
	for (size_t i = 0; n->conf && i < n->conf->ndyneids; i++)
		lisp_auth_key_free(n->keys[i]);
	free(n->keys);
	n->keys = NULL;
	free(n->buckets);
	n->buckets = NULL;
}

static void peer_free(struct peer *p)
{
	notify_tx_free(&p->tx);
	ptable_free(p->eids);
	free(p);
}

void xtr_notify_free(struct xtr_notify *n)
{
	if (!n)
		return;
	free_keys(n);
	for (size_t i = 0; i < n->npeers; i++)
		peer_free(n->peers[i]);
	free(n->peers);
	free(n);
}

/* The dynamic-eid named name in instance-id iid with an eid-notify key, or -1. */
static int dyn_by_name(const struct xtr_conf *c, uint32_t iid, const char *name)
{
	for (size_t i = 0; i < c->ndyneids; i++)
		if (c->dyneids[i].has_notify_key && c->dyneids[i].iid == iid &&
		    strcmp(c->dyneids[i].name, name) == 0)
			return (int)i;
	return -1;
}

void xtr_notify_configure(struct xtr_notify *n, const struct xtr_conf *conf)
{
	free_keys(n);
	n->conf = conf;
	n->keys = xcalloc(conf->ndyneids + 1, sizeof(*n->keys));
	n->buckets = xcalloc(conf->ndyneids + 1, sizeof(*n->buckets));
	for (size_t i = 0; i < conf->ndyneids; i++)
		n->buckets[i].tokens = ANSWERS_RPS;
	for (size_t i = 0; i < conf->ndyneids; i++)
		if (conf->dyneids[i].has_notify_key)
			n->keys[i] = lisp_auth_key_new(conf->dyneids[i].notify_key,
						       conf->dyneids[i].notify_keylen);
	/* each peer keeps its own dynamic-eid (and so its key), found again by name */
	for (size_t i = 0; i < n->npeers; i++)
		n->peers[i]->dyn = dyn_by_name(conf, n->peers[i]->iid, n->peers[i]->dyn_name);
}

bool xtr_notify_enabled(const struct xtr_conf *conf)
{
	for (size_t i = 0; i < conf->ndyneids; i++)
		if (conf->dyneids[i].has_notify_key)
			return true;
	return false;
}

/*
 * One answer to a datagram of dynamic-eid d that proved nothing about its
 * freshness: within d's token bucket?
 */
static bool answer_allowed(struct xtr_notify *n, int d, double now)
{
	struct answer_bucket *b = &n->buckets[d];

	b->tokens += (now - b->at) * ANSWERS_RPS;
	b->at = now;
	if (b->tokens > ANSWERS_RPS)
		b->tokens = ANSWERS_RPS;
	if (b->tokens < 1) {
		n->c.answers_limited++;
		return false;
	}
	b->tokens--;
	return true;
}

/*
 * Packs env (direction, sender, receiver, sessions, sequence filled here)
 * for the FHR id of session rsession, signed with dynamic-eid d's key, and
 * sends it to dst:port from our address local; the packed length, 0 if it
 * did not fit. seq comes from tx; a reliable env is only packed (the
 * caller keeps it in tx, which sends it).
 */
static size_t pack_send(struct xtr_notify *n, int d, struct notify_tx *tx, const char *id,
			uint64_t rsession, const struct lisp_addr *local,
			const struct lisp_addr *dst, uint16_t port, Vmroam__Notify__Envelope *env,
			bool reliable)
{
	char me[LISP_ADDR_STRLEN] = "";
	size_t len;

	if (local->afi != LISP_AFI_NONE)
		lisp_addr_format(local, me, sizeof(me));
	env->instance_id = n->conf->dyneids[d].iid;
	env->direction = VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR;
	env->sender = me;
	env->receiver = (char *)(uintptr_t)id;
	env->session = n->session;
	env->receiver_session = rsession;
	env->dynamic_eid = (char *)(uintptr_t)n->conf->dyneids[d].name;
	env->seq = reliable ? notify_tx_next_reliable(tx) : notify_tx_next(tx);
	len = notify_pack(n->keys[d], env->instance_id, env, n->out, sizeof(n->out));
	if (len && !reliable)
		n->io.send(n->io.arg, local, dst, port, n->out, len);
	return len;
}

static void resend(void *arg, const uint8_t *buf, size_t len)
{
	struct peer *p = ((void **)arg)[1];
	struct xtr_notify *n = ((void **)arg)[0];

	n->io.send(n->io.arg, &p->local, &p->addr, p->port, buf, len);
}

/*
 * Sends env to p; if reliable, keeps it for retransmission under key, and
 * sends it when the send window has room.
 */
static void send_env(struct xtr_notify *n, struct peer *p, Vmroam__Notify__Envelope *env,
		     bool reliable, const char *key, double now)
{
	void *args[2] = { n, p };
	size_t len = pack_send(n, p->dyn, &p->tx, p->id, p->rx.session, &p->local, &p->addr,
			       p->port, env, reliable);

	if (!len)
		return;
	p->c.sent++;
	if (reliable && notify_tx_keep(&p->tx, env->seq, key, n->out, len, now))
		notify_tx_due(&p->tx, now, resend, args);
}

static void init_ack(Vmroam__Notify__Envelope *env, Vmroam__Notify__Ack *ack, uint64_t seq,
		     int status)
{
	vmroam__notify__envelope__init(env);
	vmroam__notify__ack__init(ack);
	ack->seq = seq;
	ack->status = status;
	env->body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env->ack = ack;
}

static void send_ack(struct xtr_notify *n, struct peer *p, uint64_t seq, int status, double now)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Ack ack;

	init_ack(&env, &ack, seq, status);
	send_env(n, p, &env, false, NULL, now);
}

static struct peer_eid *peer_eid(struct peer *p, const struct lisp_prefix *e)
{
	return ptable_lookup_exact(p->eids, e);
}

static struct peer_eid *peer_eid_add(struct peer *p, const struct lisp_prefix *e)
{
	struct peer_eid *x = xcalloc(1, sizeof(*x));

	x->p = *e;
	if (ptable_add(p->eids, &x->p, x) < 0) {
		free(x);
		return NULL;
	}
	return x;
}

struct tomb_walk {
	double now, oldest;
	struct lisp_prefix drop[64], oldest_p;
	size_t n;
	bool all;
};

static int tomb_one(const struct lisp_prefix *pfx, void *v, void *arg)
{
	struct tomb_walk *w = arg;
	const struct peer_eid *x = v;

	if (x->present)
		return 0;
	if (w->oldest == 0 || x->gone_at < w->oldest) {
		w->oldest = x->gone_at;
		w->oldest_p = *pfx;
	}
	if ((w->all || w->now - x->gone_at >= TOMB_LIFE) && w->n < 64)
		w->drop[w->n++] = *pfx;
	return 0;
}

/* Drops tombstones older than TOMB_LIFE (all with all); with full, the oldest one too. */
static void tombs_prune(struct peer *p, double now, bool all, bool full)
{
	struct tomb_walk w;

	do {
		memset(&w, 0, sizeof(w));
		w.now = now;
		w.all = all;
		ptable_walk(p->eids, NULL, tomb_one, &w);
		if (full && w.n == 0 && w.oldest != 0)
			w.drop[w.n++] = w.oldest_p;
		full = false;
		for (size_t i = 0; i < w.n; i++)
			ptable_del(p->eids, &w.drop[i]);
		p->tombs -= w.n;
	} while (w.n == 64);
}

/* x leaves (departed, moved away, absent from a snapshot): a tombstone at version v. */
static void eid_gone(struct xtr_notify *n, struct peer *p, struct peer_eid *x, uint64_t v,
		     double now)
{
	const char *owner = etr_dyn_owner(n->etr, &x->p);

	if (x->present && owner && strcmp(owner, p->id) == 0)
		etr_dyn_clear(n->etr, &x->p, now); /* (another FHR's is not ours to clear) */
	if (x->present) {
		p->present--;
		p->tombs++;
	}
	x->present = false;
	x->routed = false;
	x->version = v;
	x->gone_at = now;
}

/* True if host lies in one of dynamic-eid d's database-mapping prefixes. */
static bool in_policy(const struct xtr_conf *c, int d, const struct lisp_prefix *host)
{
	for (size_t i = 0; i < c->ndbmaps; i++)
		if (c->dbmaps[i].dyn == d && lisp_prefix_contains(&c->dbmaps[i].p, host))
			return true;
	return false;
}

/* Checks an event's EID against p's dynamic-eid: 0 with host set, or why it is refused. */
static int event_host(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__EidEvent *ev,
		      struct lisp_prefix *host)
{
	const struct xtr_conf_dyneid *d = &n->conf->dyneids[p->dyn];
	char buf[LISP_PREFIX_STRLEN];
	struct lisp_addr a;

	if (ev->dynamic_eid[0] && strcmp(ev->dynamic_eid, d->name) != 0) {
		p->c.refused_policy++;
		n->c.refused_policy++;
		return -EPERM; /* another dynamic-eid than the channel's */
	}
	if (lisp_addr_parse(ev->eid, &a) < 0 ||
	    (a.afi != LISP_AFI_IPV4 && a.afi != LISP_AFI_IPV6) ||
	    ev->eid_len != lisp_afi_max_plen(a.afi) || ev->event_seq == 0) {
		p->c.malformed++;
		n->c.malformed++;
		return -EINVAL;
	}
	lisp_prefix_from_addr(host, p->iid, &a);
	if (!in_policy(n->conf, p->dyn, host)) {
		p->c.refused_prefix++;
		n->c.refused_prefix++;
		log_warn_rl(&n->rl, "eid-notify: %s: %s is outside dynamic-eid %s: refused", p->id,
			    lisp_prefix_format(host, buf, sizeof(buf)), d->name);
		return -EDOM;
	}
	return 0;
}

/* An ARRIVED (or a snapshot's entry, with snapshot) the versions let through: learn it. */
static int arrive(struct xtr_notify *n, struct peer *p, struct peer_eid *x,
		  const struct lisp_prefix *host, uint64_t v, bool snapshot, double now)
{
	const char *owner = etr_dyn_owner(n->etr, host);
	char key[LISP_PREFIX_STRLEN];
	int rc = 0;

	/* a snapshot does not take an EID from the FHR that reported it since: only news does */
	if (!(snapshot && owner && owner[0] && strcmp(owner, p->id) != 0)) {
		struct lisp_addr a = host->addr;

		rc = etr_dyn_learn(n->etr, p->iid, &a, ETR_SRC_FHR, p->id, now);
		if (rc < 0) {
			p->c.refused_prefix++;
			n->c.refused_prefix++;
			return rc;
		}
	}
	if (!x && !(x = peer_eid_add(p, host)))
		return -ENOSPC;
	if (!x->present) {
		if (x->gone_at > 0)
			p->tombs--;
		p->present++;
	}
	x->present = true;
	x->version = v;
	x->gone_at = 0;
	/* across subnets it is not where its subnet is routed: toward this FHR, also when the
	 * data plane saw its packets first (known already, rc 0); once per EID and FHR */
	if (n->io.route && (rc > 0 || !x->routed) && etr_dyn_owner(n->etr, host))
		n->io.route(n->io.arg, host, &p->addr, true);
	x->routed = true;
	/* a MovedAway still waiting is older news than this arrival */
	notify_tx_cancel(&p->tx, lisp_prefix_format(host, key, sizeof(key)));
	return 0;
}

/*
 * One EID event from p (or an entry of a Resync snapshot): 0 applied, or
 * older than what was applied (ignored), or why it is refused.
 */
static int apply_event(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__EidEvent *ev,
		       bool snapshot, double now)
{
	bool departed = ev->kind == VMROAM__NOTIFY__EVENT_KIND__DEPARTED;
	bool leaving = ev->kind == VMROAM__NOTIFY__EVENT_KIND__LEAVING;
	struct lisp_prefix host;
	struct peer_eid *x;
	int rc = event_host(n, p, ev, &host);

	if (rc < 0)
		return rc;
	x = peer_eid(p, &host);
	if (x && snapshot)
		x->snapshot = p->snap_id; /* listed (whatever its version says) */
	/* nothing older undoes anything newer; a snapshot re-learns what we lost since */
	if (x && (ev->event_seq < x->version || (ev->event_seq == x->version && !snapshot))) {
		p->c.older++;
		return 0;
	}
	if (x && ev->event_seq == x->version && !x->present)
		return 0;
	if (departed && snapshot)
		return -EINVAL; /* a snapshot lists what is there */
	if (leaving && !snapshot) {
		/* its VM paused to leave: hold its packets (only an EID this FHR has here) */
		const char *owner = etr_dyn_owner(n->etr, &host);
		bool ours = x && x->present && owner && strcmp(owner, p->id) == 0;

		if (x && x->present)
			x->version = ev->event_seq;
		evh_add(n->io.evh, "fhr-leaving", &host, &p->addr, "from %s v%llu%s", p->id,
			(unsigned long long)ev->event_seq, ours ? "" : ": not held here");
		if (ours)
			etr_dyn_leaving(n->etr, &host, true, now);
		p->c.leaving++;
		return 0;
	}
	evh_add(n->io.evh, departed ? "fhr-departed" : "fhr-arrived", &host, &p->addr,
		"from %s v%llu%s", p->id, (unsigned long long)ev->event_seq,
		snapshot ? " (resync)" : "");
	if (!departed) {
		rc = arrive(n, p, x, &host, ev->event_seq, snapshot, now);
		if (rc == 0 && !snapshot)
			p->c.arrivals++;
		/* newer news than a leaving notice: it runs there still (a failed migration) */
		if (rc == 0 && etr_dyn_owner(n->etr, &host) &&
		    strcmp(etr_dyn_owner(n->etr, &host), p->id) == 0)
			etr_dyn_leaving(n->etr, &host, false, now);
		if (rc == 0 && snapshot && (x = peer_eid(p, &host)) != NULL)
			x->snapshot = p->snap_id;
		return rc;
	}
	if (!x) {
		if (p->tombs >= TOMBS_MAX)
			tombs_prune(p, now, false, true);
		if (!(x = peer_eid_add(p, &host)))
			return -ENOSPC;
		p->tombs++;
		x->version = ev->event_seq;
		x->gone_at = now;
		/* never heard of in this life of ours: an earlier one may have registered it */
		if (!etr_dyn_owner(n->etr, &host))
			etr_dyn_withdraw(n->etr, &host, now);
	} else {
		eid_gone(n, p, x, ev->event_seq, now);
	}
	p->c.departures++;
	return 0;
}

/* The snapshot's peer: as_of and id of the snapshot being completed. */
struct sweep {
	uint64_t as_of, id;
};

/* An EID present before the snapshot that it did not list and that has not changed since. */
static bool swept(const struct lisp_prefix *pfx, void *v, void *arg)
{
	const struct sweep *w = arg;
	const struct peer_eid *x = v;

	(void)pfx;
	return x->present && x->snapshot != w->id && x->version <= w->as_of;
}

/* Every part of snapshot as_of arrived: what it did not list, unchanged since, is gone. */
static void snapshot_done(struct xtr_notify *n, struct peer *p, double now)
{
	struct sweep w = { .as_of = p->snap_as_of, .id = p->snap_id };
	struct lisp_prefix *gone;
	size_t ngone = ptable_collect(p->eids, NULL, swept, &w, &gone, NULL);

	for (size_t i = 0; i < ngone; i++) {
		struct peer_eid *x = peer_eid(p, &gone[i]);

		evh_add(n->io.evh, "fhr-resync-gone", &x->p, &p->addr, "from %s", p->id);
		eid_gone(n, p, x, p->snap_as_of, now);
	}
	free(gone);
	p->snap_parts = 0;
	p->c.resyncs++;
}

/* A part of a Resync snapshot; the EIDs refused are appended to refused (count in *nref). */
static int apply_resync(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__Resync *r,
			char **refused, size_t *nref, double now)
{
	bool current;
	int rc = 0;

	if (r->as_of > p->snap_as_of || (r->as_of == p->snap_as_of && p->snap_seen == 0)) {
		p->snap_as_of = r->as_of; /* a newer snapshot: its parts are counted from here */
		p->snap_id++;
		p->snap_seen = p->snap_parts = 0;
	}
	current = r->as_of == p->snap_as_of;
	for (size_t i = 0; i < r->n_eids; i++) {
		int e = current ? apply_event(n, p, r->eids[i], true, now) : 0;

		if (!current) { /* an older snapshot's part: only what is newer than we know */
			struct lisp_prefix host;
			struct peer_eid *x;

			if ((e = event_host(n, p, r->eids[i], &host)) == 0 &&
			    (!(x = peer_eid(p, &host)) || r->eids[i]->event_seq > x->version))
				e = arrive(n, p, x, &host, r->eids[i]->event_seq, true, now);
		}
		if (e < 0) {
			refused[(*nref)++] = r->eids[i]->eid;
			rc = rc ? rc : e;
		}
	}
	if (current) {
		p->snap_seen++;
		if (r->complete)
			p->snap_parts = r->parts ? r->parts : 1;
		if (p->snap_parts && p->snap_seen >= p->snap_parts)
			snapshot_done(n, p, now);
	}
	return rc;
}

static struct peer *peer_find(struct xtr_notify *n, const char *id, uint32_t iid, int d)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i]->iid == iid && n->peers[i]->dyn == d &&
		    strcmp(n->peers[i]->id, id) == 0)
			return n->peers[i];
	return NULL;
}

/* A new peer (id, iid, d), within the dynamic-eid's peer-limit; NULL when full. */
static struct peer *peer_new(struct xtr_notify *n, const char *id, uint32_t iid, int d)
{
	const struct xtr_conf_dyneid *dy = &n->conf->dyneids[d];
	size_t count = 0;
	struct peer *p;

	for (size_t i = 0; i < n->npeers; i++)
		count += n->peers[i]->dyn == d;
	if (count >= dy->notify_peer_limit)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->dyn_name, sizeof(p->dyn_name), "%s", dy->name);
	p->iid = iid;
	p->dyn = d;
	p->eids = ptable_new(free);
	notify_tx_init(&p->tx, n->session);
	p->tx.seq = n->answer_seq;
	if (n->npeers == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 16;
		n->peers = xreallocarray(n->peers, n->cap, sizeof(*n->peers));
	}
	n->peers[n->npeers++] = p;
	return p;
}

/* Verifies buf with the keys of its instance-id; the envelope and its dynamic-eid, or NULL. */
static Vmroam__Notify__Envelope *unpack(struct xtr_notify *n, const struct lisp_addr *src,
					const uint8_t *buf, size_t len, int *d)
{
	Vmroam__Notify__Envelope *env = NULL;
	char a[LISP_ADDR_STRLEN];
	uint32_t iid;
	int err = -ENOKEY, k = -1;

	if (notify_peek_iid(buf, len, &iid) < 0) {
		n->c.malformed++;
		return NULL;
	}
	for (size_t i = 0; i < n->conf->ndyneids && !env; i++) {
		if (!n->keys[i] || n->conf->dyneids[i].iid != iid)
			continue;
		env = notify_unpack(n->keys[i], buf, len, &err);
		k = (int)i;
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
		return NULL;
	}
	/* the channel is the dynamic-eid it names, whose key must be the one that verified it */
	*d = dyn_by_name(n->conf, iid, env->dynamic_eid);
	if (*d < 0 || n->conf->dyneids[*d].notify_keylen != n->conf->dyneids[k].notify_keylen ||
	    memcmp(n->conf->dyneids[*d].notify_key, n->conf->dyneids[k].notify_key,
		   n->conf->dyneids[k].notify_keylen) != 0) {
		n->c.refused_policy++;
		log_warn_rl(&n->rl,
			    "eid-notify: from %s: dynamic-eid \"%.64s\" unknown or not keyed so",
			    lisp_addr_format(src, a, sizeof(a)), env->dynamic_eid);
		vmroam__notify__envelope__free_unpacked(env, NULL);
		return NULL;
	}
	return env;
}

/*
 * A Hello, or a datagram for an earlier life of ours: answered with an Ack
 * (-ESTALE for the latter) from the address it was sent to, to where it
 * came from, carrying our session; nothing else changes. A Hello from a
 * session older than the peer's known one is answered -ESTALE with the
 * session to start above (its clock went back across a restart).
 */
static void answer(struct xtr_notify *n, const Vmroam__Notify__Envelope *in, int d,
		   const struct lisp_addr *src, uint16_t sport, const struct lisp_addr *dst,
		   double now)
{
	struct peer *p = peer_find(n, in->sender, in->instance_id, d);
	struct notify_tx one = { .seq = n->answer_seq };
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Ack ack;

	if (!answer_allowed(n, d, now))
		return;
	init_ack(&env, &ack, in->seq, 0);
	if (in->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_HELLO) {
		n->c.hellos++;
		if (p && in->session < p->rx.session) {
			ack.status = -ESTALE;
			ack.min_session = p->rx.session;
		}
	} else {
		ack.status = -ESTALE;
	}
	/* the sequence numbers an FHR sees from us keep growing: the peer's, or one above all */
	pack_send(n, d, p ? &p->tx : &one, in->sender, in->session, dst, src, sport, &env, false);
	n->answer_seq = one.seq;
}

/* Our digest of what we hold of p's table (its EIDs registered here, by it or since by another). */
struct digest_walk {
	const struct etr *etr;
	uint64_t d;
	uint32_t n;
};

static int digest_one(const struct lisp_prefix *pfx, void *v, void *arg)
{
	struct digest_walk *w = arg;
	const struct peer_eid *x = v;

	if (x->present && etr_dyn_owner(w->etr, pfx)) {
		w->d = notify_digest_add(w->d, pfx);
		w->n++;
	}
	return 0;
}

static void peer_digest(const struct xtr_notify *n, const struct peer *p, uint64_t *d, uint32_t *c)
{
	struct digest_walk w = { .etr = n->etr };

	ptable_walk(p->eids, NULL, digest_one, &w);
	*d = w.d;
	*c = w.n;
}

static int reset_one(const struct lisp_prefix *pfx, void *v, void *arg)
{
	struct peer_eid *x = v;

	(void)pfx;
	(void)arg;
	x->version = 0;
	x->snapshot = 0;
	return 0;
}

/* The peer restarted: versions of its previous life mean nothing now; its snapshot follows. */
static void peer_new_session(struct xtr_notify *n, struct peer *p, double now)
{
	if (p->last_heard > 0) {
		log_info("eid-notify: %s restarted", p->id);
		evh_add(n->io.evh, "fhr-restarted", NULL, &p->addr, "%s", p->id);
	}
	notify_tx_clear(&p->tx);
	tombs_prune(p, now, true, false);
	ptable_walk(p->eids, NULL, reset_one, NULL);
	p->snap_as_of = 0;
	p->snap_seen = p->snap_parts = 0;
}

/* Answers a retransmission (its Ack was lost) with the status it had. */
static void ack_again(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__Envelope *env,
		      double now)
{
	int32_t status;

	if ((env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT ||
	     env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC) &&
	    env->session == p->rx.session && notify_rx_status(&p->rx, env->seq, &status) == 0)
		send_ack(n, p, env->seq, status, now);
}

static void dispatch(struct xtr_notify *n, struct peer *p, const Vmroam__Notify__Envelope *env,
		     double now)
{
	Vmroam__Notify__Envelope out;
	Vmroam__Notify__Ack ack;
	char **refused;
	int rc;

	switch (env->body_case) {
	case VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT:
		rc = apply_event(n, p, env->eid_event, false, now);
		notify_rx_done(&p->rx, env->seq, rc);
		send_ack(n, p, env->seq, rc, now);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC:
		refused = xcalloc(env->resync->n_eids + 1, sizeof(*refused));
		init_ack(&out, &ack, env->seq, 0);
		ack.refused = refused;
		rc = apply_resync(n, p, env->resync, refused, &ack.n_refused, now);
		ack.status = rc;
		notify_rx_done(&p->rx, env->seq, rc);
		send_env(n, p, &out, false, NULL, now);
		free(refused);
		break;
	case VMROAM__NOTIFY__ENVELOPE__BODY_ACK: {
		void *args[2] = { n, p };

		if (notify_tx_ack(&p->tx, env->ack->seq, NULL, 0))
			notify_tx_due(&p->tx, now, resend, args); /* the room it made */
		break;
	}
	case VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE:
		p->their_digest = env->keepalive->digest;
		p->their_quiet = env->keepalive->pending == 0;
		break;
	default:
		p->c.malformed++;
		break;
	}
}

void xtr_notify_input(struct xtr_notify *n, const struct lisp_addr *src, uint16_t sport,
		      const struct lisp_addr *dst, const uint8_t *buf, size_t len, double now)
{
	Vmroam__Notify__Envelope *env;
	char a[LISP_ADDR_STRLEN], me[LISP_ADDR_STRLEN];
	struct peer *p;
	int d = -1, rc;

	n->c.received++;
	if (!(env = unpack(n, src, buf, len, &d)))
		return;
	/* ours: this direction, sent to the address it arrived at */
	if (dst->afi != LISP_AFI_NONE)
		lisp_addr_format(dst, me, sizeof(me));
	rc = notify_bound(env, VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY,
			  dst->afi != LISP_AFI_NONE ? me : NULL, 0);
	if (rc < 0 || !env->sender[0]) {
		n->c.misdirected++;
		log_warn_rl(&n->rl, "eid-notify: from %s to %s: %s%.64s: refused",
			    lisp_addr_format(src, a, sizeof(a)), dst->afi ? me : "?",
			    rc == -EPERM ? "wrong direction" : "for another receiver: ",
			    rc == -EPERM ? "" : env->receiver);
		goto out;
	}
	if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_HELLO) {
		answer(n, env, d, src, sport, dst, now);
		goto out;
	}
	/* for an earlier life of ours (a capture replayed, or an FHR that missed our restart) */
	if (env->receiver_session != n->session) {
		n->c.stale_session++;
		answer(n, env, d, src, sport, dst, now);
		goto out;
	}
	p = peer_find(n, env->sender, env->instance_id, d);
	if (!p && !(p = peer_new(n, env->sender, env->instance_id, d))) {
		n->c.peer_limit++;
		log_warn_rl(&n->rl,
			    "eid-notify: %s: dynamic-eid %s has %u first-hop routers "
			    "(eid-notify peer-limit): refused",
			    env->sender, n->conf->dyneids[d].name,
			    n->conf->dyneids[d].notify_peer_limit);
		goto out;
	}
	rc = notify_rx_accept(&p->rx, env->session, env->seq, notify_is_reliable(env));
	if (rc < 0) {
		p->c.replays++;
		n->c.replays++;
		if (rc == -EALREADY)
			ack_again(n, p, env, now);
		goto out;
	}
	/* accepted: only now does anything it says count, where it comes from included */
	if (rc == NOTIFY_RX_NEW_SESSION)
		peer_new_session(n, p, now);
	p->c.received++;
	p->addr = *src;
	p->port = sport;
	p->local = *dst;
	p->last_heard = now;
	if (!p->alive) {
		log_info("eid-notify: %s (instance-id %u, dynamic-eid %s) up at %s", p->id, p->iid,
			 p->dyn_name, lisp_addr_format(src, a, sizeof(a)));
		evh_add(n->io.evh, "fhr-up", NULL, src, "%s", p->id);
	}
	p->alive = true;
	dispatch(n, p, env, now);
out:
	vmroam__notify__envelope__free_unpacked(env, NULL);
}

static void keepalive(struct xtr_notify *n, struct peer *p, double now)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Keepalive ka;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__keepalive__init(&ka);
	peer_digest(n, p, &ka.digest, &ka.eids);
	ka.pending = (uint32_t)p->tx.n;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE;
	env.keepalive = &ka;
	send_env(n, p, &env, false, NULL, now);
}

void xtr_notify_tick(struct xtr_notify *n, double now)
{
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		void *args[2] = { n, p };

		if (p->tombs)
			tombs_prune(p, now, false, false);
		if (p->dyn < 0)
			continue;
		if (p->alive && now - p->last_heard > NOTIFY_DEAD) {
			p->alive = false;
			p->c.deaths++;
			evh_add(n->io.evh, "fhr-down", NULL, &p->addr, "%s", p->id);
			log_warn(
				"eid-notify: %s silent for %.1f s: down (its EIDs stay registered)",
				p->id, now - p->last_heard);
		}
		if (!p->alive)
			continue;
		notify_tx_due(&p->tx, now, resend, args);
		keepalive(n, p, now);
	}
}

void xtr_notify_event(struct xtr_notify *n, enum etr_event ev, const struct lisp_prefix *e,
		      double now)
{
	struct etr_away_info away;
	char key[LISP_PREFIX_STRLEN], locs[ETR_AWAY_LOCS][LISP_ADDR_STRLEN];
	char *locp[ETR_AWAY_LOCS];

	if (ev == ETR_EV_DYN_DOWN && n->io.route) {
		for (size_t i = 0; i < n->npeers; i++) {
			struct peer_eid *x = peer_eid(n->peers[i], e);

			if (x && x->routed) {
				n->io.route(n->io.arg, e, &n->peers[i]->addr, false);
				x->routed = false;
			}
		}
		return;
	}
	if (ev != ETR_EV_AWAY_UP || etr_away_get(n->etr, e, &away) < 0)
		return;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		struct peer_eid *x = peer_eid(p, e);
		Vmroam__Notify__Envelope env;
		Vmroam__Notify__MovedAway m;
		char eid[LISP_ADDR_STRLEN];

		if (p->dyn < 0 || !x || !x->present)
			continue;
		vmroam__notify__envelope__init(&env);
		vmroam__notify__moved_away__init(&m);
		lisp_addr_format(&e->addr, eid, sizeof(eid));
		m.eid = eid;
		m.eid_len = e->plen;
		m.version = x->version;
		for (uint8_t j = 0; j < away.nloc && j < ETR_AWAY_LOCS; j++) {
			lisp_addr_format(&away.locs[j].addr, locs[j], sizeof(locs[j]));
			locp[j] = locs[j];
		}
		m.n_locators = away.nloc;
		m.locators = locp;
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_MOVED_AWAY;
		env.moved_away = &m;
		evh_add(n->io.evh, "moved-away-sent", e, &p->addr, "to %s", p->id);
		send_env(n, p, &env, true, lisp_prefix_format(e, key, sizeof(key)), now);
		/* gone from this channel (the ETR has turned it into an away entry already) */
		p->present--;
		p->tombs++;
		x->present = false;
		x->routed = false;
		x->gone_at = now;
		p->c.moved_away++;
	}
}

const struct xtr_notify_counters *xtr_notify_counters(const struct xtr_notify *n)
{
	return &n->c;
}

uint64_t xtr_notify_session(const struct xtr_notify *n)
{
	return n->session;
}

size_t xtr_notify_peer_count(const struct xtr_notify *n)
{
	return n->npeers;
}

void xtr_notify_peer_info(const struct xtr_notify *n, size_t i, struct xtr_notify_peer_info *out)
{
	const struct peer *p = n->peers[i];
	uint64_t digest;
	uint32_t count;

	peer_digest(n, p, &digest, &count);
	out->id = p->id;
	out->iid = p->iid;
	out->dynamic_eid = p->dyn_name;
	out->addr = p->addr;
	out->port = p->port;
	out->alive = p->alive;
	out->last_heard = p->last_heard;
	out->session = p->rx.session;
	out->eids = count;
	out->pending = p->tx.n;
	out->in_sync = p->their_quiet && p->tx.n == 0 ? p->their_digest == digest : true;
	out->c = p->c;
}
