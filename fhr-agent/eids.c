/*
 * The FHR's EID table and its side of the eid-notify channel (the rules
 * are written in proto/eid_notify.proto). Detections (ARP, RARP, ND, ...)
 * call fhr_detect(); a new EID, or one that comes back, takes the next
 * version of the table and is sent as an ARRIVED event to every gateway of
 * its dynamic-eid, retransmitted until each acknowledges (per EID: only
 * the newest event is kept). Each gateway gets a Hello when we start (its
 * Ack tells us the gateway's session), then the whole table (a Resync
 * snapshot), again whenever it restarts, comes back from silence, or its
 * Keepalive's digest of our table differs from ours. A MovedAway marks the
 * EID moved; a MAC other than the known one claiming a known EID is
 * refused (hijack guard). Each dynamic-eid keeps at most eid-limit EIDs.
 * No OS calls: datagrams leave through io.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhr-agent/fhr.h"
#include "lib/evhist.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"

#define RESYNC_CHUNK 64 /* EIDs a Resync datagram */

struct fhr_eid {
	struct lisp_prefix p;
	int dyn;
	char ifname[FHR_NAME_MAX];
	uint8_t mac[6];
	bool has_mac;
	enum fhr_source source;
	enum fhr_eid_state state;
	double since, last_seen;
	uint64_t version; /* of the table, at its last change */
	uint32_t acked;	  /* bit i: gateway i of its dynamic-eid holds its newest state */
	unsigned probes;  /* unanswered liveness probes (across-subnet mode, or contested) */
	double last_probe;
	bool contested; /* another MAC claimed it: probe the known one, it keeps it while it answers */
	double moved_at;       /* a gateway said it moved away (then it was probed) */
	double conflict_since; /* the first of its conflicts in this minute */
	unsigned conflicts;    /* still here right after another site claimed it, this minute */
	double hold_until;     /* flapping between sites: not re-asserted before */
};

struct gw {
	int dyn;
	size_t idx; /* in the dynamic-eid's eid-notify list */
	struct lisp_addr addr;
	char name[LISP_ADDR_STRLEN]; /* its address: the receiver we name, the sender it names */
	uint32_t iid;
	struct lisp_auth_key *key;
	uint64_t session;    /* ours on this channel (raised above a gateway's min_session) */
	struct notify_rx rx; /* rx.session: the gateway's, 0 until the Ack of our Hello */
	struct notify_tx tx;
	double last_heard, last_keepalive, last_resync;
	bool up, heard, need_hello;
	unsigned mismatches; /* Keepalives in a row whose digest differs from ours */
	uint64_t hello_seq;  /* of our Hello waiting for its Ack; 0: none */
	uint64_t sent, acked, resyncs, digest_resyncs;
	uint64_t replays, refused; /* its datagrams (by address and key): replayed; not for us */
};

#define DIGEST_RESYNC_MIN 5.0 /* s between Resyncs a digest mismatch asks for */

struct fhr {
	struct fhr_io io;
	const struct fhr_conf *conf;
	struct ptable *eids;
	size_t *neids;	   /* per dynamic-eid */
	uint64_t *refused; /* per dynamic-eid: new EIDs refused at its eid-limit */
	struct gw *gws;
	size_t ngws;
	uint64_t session;
	uint64_t version;     /* of the table: one more for every change */
	double last_liveness; /* the liveness walk runs once a second, not every tick */
	struct fhr_counters c;
	struct log_rate rl, rl_info, rl_limit;
	uint8_t out[NOTIFY_MAX];
};

static const char *src_names[] = { "arp", "nd", "rarp", "data", "hypervisor", "neighbor" };

const char *fhr_source_name(enum fhr_source s)
{
	return (unsigned)s < sizeof(src_names) / sizeof(src_names[0]) ? src_names[s] : "?";
}

struct fhr *fhr_new(const struct fhr_io *io, uint64_t session)
{
	struct fhr *f = xcalloc(1, sizeof(*f));

	f->io = *io;
	f->session = session;
	f->eids = ptable_new(free);
	return f;
}

static void free_gws(struct fhr *f)
{
	for (size_t i = 0; i < f->ngws; i++) {
		lisp_auth_key_free(f->gws[i].key);
		notify_tx_free(&f->gws[i].tx);
	}
	free(f->gws);
	f->gws = NULL;
	f->ngws = 0;
}

void fhr_free(struct fhr *f)
{
	if (!f)
		return;
	free_gws(f);
	ptable_free(f->eids);
	free(f->neids);
	free(f->refused);
	free(f);
}

/* Packs and sends env to gateway g; reliable ones are kept under key until acknowledged. */
static void send_env(struct fhr *f, struct gw *g, Vmroam__Notify__Envelope *env, bool reliable,
		     const char *key, double now)
{
	size_t len;

	env->instance_id = g->iid;
	env->direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY;
	env->sender = (char *)(uintptr_t)f->conf->fhr_id;
	env->receiver = g->name;
	env->session = g->session;
	env->receiver_session = g->rx.session;
	env->dynamic_eid = (char *)(uintptr_t)f->conf->dyneids[g->dyn].name;
	env->seq = notify_tx_next(&g->tx);
	len = notify_pack(g->key, g->iid, env, f->out, sizeof(f->out));
	if (!len)
		return;
	f->io.send(f->io.arg, &g->addr, NOTIFY_PORT, f->out, len);
	g->sent++;
	if (reliable)
		notify_tx_keep(&g->tx, env->seq, key, f->out, len, now);
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

/* Tells every gateway of e's dynamic-eid (reliably, superseding older news of e). */
static void notify(struct fhr *f, struct fhr_eid *e, Vmroam__Notify__EventKind kind, double now)
{
	char eid[LISP_ADDR_STRLEN], key[LISP_PREFIX_STRLEN];
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;

	e->version = ++f->version;
	e->acked = 0;
	fill_event(f, e, kind, &ev, eid, sizeof(eid), now);
	lisp_prefix_format(&e->p, key, sizeof(key));
	for (size_t i = 0; i < f->ngws; i++) {
		if (f->gws[i].dyn != e->dyn || f->gws[i].need_hello || !f->gws[i].rx.session)
			continue; /* (the Resync after the Ack of our Hello carries it) */
		vmroam__notify__envelope__init(&env);
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
		env.eid_event = &ev;
		evh_add(kind == VMROAM__NOTIFY__EVENT_KIND__DEPARTED ? "notify-departed"
								     : "notify-arrived",
			&e->p, &f->gws[i].addr, NULL);
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

/* How many EIDs of each dynamic-eid the table holds (after a configuration). */
static int count_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct fhr *f = arg;
	const struct fhr_eid *e = v;

	(void)p;
	if (e->dyn >= 0 && (size_t)e->dyn < f->conf->ndyneids)
		f->neids[e->dyn]++;
	return 0;
}

void fhr_configure(struct fhr *f, const struct fhr_conf *conf, double now)
{
	free_gws(f);
	f->conf = conf;
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
	free(f->neids);
	f->neids = xcalloc(conf->ndyneids + 1, sizeof(*f->neids));
	free(f->refused);
	f->refused = xcalloc(conf->ndyneids + 1, sizeof(*f->refused));
	ptable_walk(f->eids, NULL, count_one, f);
}

/* The dynamic-eid of interface ifname, or -1. */
static int iface_dyn(const struct fhr_conf *c, const char *ifname)
{
	for (size_t i = 0; i < c->nifaces; i++) {
		if (strcmp(c->ifaces[i].name, ifname) != 0)
			continue;
		for (size_t d = 0; d < c->ndyneids; d++)
			if (strcmp(c->dyneids[d].name, c->ifaces[i].mobility) == 0)
				return (int)d;
	}
	return -1;
}

/*
 * A moved-away EID detected again: is its re-assertion held? Detected
 * within FHR_CONFLICT_GAP of the MovedAway, it is still here while
 * another site claims it (a duplicate address, or two gateways of one
 * site registering other locators): from the FHR_CONFLICTS-th time in a
 * minute the re-assertion waits 2, 4 ... 60 s, so that two sites do not
 * take the EID from each other at wire speed.
 */
static bool conflict_held(struct fhr *f, struct fhr_eid *e, double now)
{
	char b[LISP_PREFIX_STRLEN];
	double hold;

	if (e->state != FHR_EID_MOVED)
		return false;
	if (now < e->hold_until) {
		f->c.conflicts_held++;
		return true;
	}
	if (e->hold_until > 0 || now - e->moved_at > FHR_CONFLICT_GAP) {
		e->hold_until = 0; /* held long enough, or a VM that came back later */
		return false;
	}
	if (now - e->conflict_since > 60.0) {
		e->conflict_since = now;
		e->conflicts = 0;
	}
	if (++e->conflicts < FHR_CONFLICTS)
		return false;
	hold = 2.0 * (double)(1u << (e->conflicts - FHR_CONFLICTS < 5 ? e->conflicts - FHR_CONFLICTS
								      : 5));
	e->hold_until = now + (hold > 60.0 ? 60.0 : hold);
	f->c.conflicts_held++;
	log_warn_rl(&f->rl,
		    "fhr: %s is here but another site claimed it %u times in %.0f s (a "
		    "duplicate address?): not re-asserted for %.0f s",
		    lisp_prefix_format(&e->p, b, sizeof(b)), e->conflicts, now - e->conflict_since,
		    e->hold_until - now);
	evh_add("conflict-held", &e->p, NULL, "%u claims, held %.0f s", e->conflicts,
		e->hold_until - now);
	return true;
}

int fhr_detect(struct fhr *f, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
	       enum fhr_source src, double now)
{
	char b[LISP_PREFIX_STRLEN];
	int d = iface_dyn(f->conf, ifname);
	const struct fhr_conf_dyneid *dyn;
	struct lisp_prefix host;
	struct fhr_eid *e;
	bool inside = false;

	f->c.detections++;
	if (d < 0)
		return -ENOENT;
	dyn = &f->conf->dyneids[d];
	lisp_prefix_from_addr(&host, dyn->iid, a);
	for (size_t i = 0; i < dyn->nprefixes && !inside; i++)
		inside = lisp_prefix_contains(&dyn->prefixes[i], &host);
	if (!inside) {
		f->c.out_of_prefix++;
		return -ENOENT;
	}
	e = ptable_lookup_exact(f->eids, &host);
	if (e && mac && e->has_mac && memcmp(e->mac, mac, 6) != 0 && e->state != FHR_EID_MOVED) {
		f->c.hijacks++;
		e->contested = true; /* the liveness probes decide: fhr_tick() */
		log_warn_rl(&f->rl,
			    "fhr: %s claimed by %02x:%02x:%02x:%02x:%02x:%02x, known at "
			    "%02x:%02x:%02x:%02x:%02x:%02x: not notified",
			    lisp_prefix_format(&host, b, sizeof(b)), mac[0], mac[1], mac[2], mac[3],
			    mac[4], mac[5], e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
			    e->mac[5]);
		return -EEXIST;
	}
	if (e && e->state != FHR_EID_MOVED) {
		e->last_seen = now;
		e->probes = 0; /* alive */
		e->contested = false;
		if (mac && !e->has_mac) {
			memcpy(e->mac, mac, 6);
			e->has_mac = true;
		}
		f->c.refreshes++;
		return 0;
	}
	if (e && conflict_held(f, e, now))
		return -EAGAIN;
	if (!e) {
		if (f->neids[d] >= dyn->eid_limit) {
			f->c.eid_limit++;
			f->refused[d]++;
			log_warn_rl(
				&f->rl_limit,
				"fhr: dynamic-eid %s holds %u EIDs (eid-limit): %s on %s refused",
				dyn->name, dyn->eid_limit, lisp_prefix_format(&host, b, sizeof(b)),
				ifname);
			return -ENOSPC;
		}
		e = xcalloc(1, sizeof(*e));
		e->p = host;
		if (ptable_add(f->eids, &e->p, e) < 0) {
			free(e);
			return -ENOSPC;
		}
		f->neids[d]++;
	}
	if (e->dyn != d) { /* (back on an interface of another dynamic-eid) */
		f->neids[e->dyn]--;
		f->neids[d]++;
	}
	e->dyn = d;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	if (mac) {
		memcpy(e->mac, mac, 6);
		e->has_mac = true;
	}
	e->source = src;
	e->state = FHR_EID_DETECTED;
	e->since = e->last_seen = now;
	e->probes = 0;
	f->c.arrivals++;
	if (f->io.known)
		f->io.known(f->io.arg, e->ifname, &e->p.addr, true);
	log_info_rl(&f->rl_info, "fhr: dynamic-eid %s: %s arrived on %s (%s)", dyn->name,
		    lisp_prefix_format(&host, b, sizeof(b)), ifname, fhr_source_name(src));
	evh_add("detected", &host, NULL, "%s on %s", fhr_source_name(src), ifname);
	notify(f, e, VMROAM__NOTIFY__EVENT_KIND__ARRIVED, now);
	return 1;
}

struct mac_walk {
	const uint8_t *mac;
	struct lisp_prefix found[16];
	size_t n;
};

static int by_mac(const struct lisp_prefix *p, void *v, void *arg)
{
	struct mac_walk *w = arg;
	const struct fhr_eid *e = v;

	if (e->has_mac && memcmp(e->mac, w->mac, 6) == 0 && w->n < 16)
		w->found[w->n++] = *p;
	return 0;
}

int fhr_detect_mac(struct fhr *f, const char *ifname, const uint8_t *mac, double now)
{
	struct mac_walk w = { .mac = mac };
	int n = 0;

	ptable_walk(f->eids, NULL, by_mac, &w);
	for (size_t i = 0; i < w.n; i++) {
		const struct fhr_eid *e = ptable_lookup_exact(f->eids, &w.found[i]);
		struct lisp_addr a = e->p.addr;

		if (fhr_detect(f, ifname, &a, mac, FHR_SRC_RARP, now) >= 0)
			n++;
	}
	return n;
}

int fhr_depart_mac(struct fhr *f, const uint8_t *mac, double now)
{
	struct mac_walk w = { .mac = mac };
	int n = 0;

	ptable_walk(f->eids, NULL, by_mac, &w);
	for (size_t i = 0; i < w.n; i++)
		n += fhr_clear(f, &w.found[i], now);
	return n;
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
		evh_add("acked", &e->p, &g->addr, NULL);
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

static void on_ack(struct fhr *f, struct gw *g, const Vmroam__Notify__Ack *ack)
{
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
	if (m->version && e->version > m->version) {
		f->c.moves_stale++; /* about an older state of ours: it came back since */
		return;
	}
	e->state = FHR_EID_MOVED;
	e->moved_at = now;
	f->c.moves_told++;
	evh_add("moved-away", &p, &g->addr, "now at %s", where);
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
		f->io.known(f->io.arg, e->ifname, &e->p.addr, false);
	log_info("fhr: %s moved away (gateway %s: now at %s)", lisp_prefix_format(&p, b, sizeof(b)),
		 lisp_addr_format(&g->addr, a, sizeof(a)), where);
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
	evh_add("resync-digest", NULL, &g->addr, "it holds %u", ka->eids);
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
	rc = notify_rx_accept(&g->rx, env->session, env->seq);
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
		evh_add("gateway-up", NULL, src, NULL);
	}
	if (rc == NOTIFY_RX_NEW_SESSION || (g->heard && !g->up)) {
		/* its first word, it restarted, or it comes back from silence: our whole table */
		if (rc == NOTIFY_RX_NEW_SESSION && g->heard)
			evh_add("gateway-restarted", NULL, src, NULL);
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
		on_ack(f, g, env->ack);
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

static void resend(void *arg, const uint8_t *buf, size_t len)
{
	struct fhr *f = ((void **)arg)[0];
	struct gw *g = ((void **)arg)[1];

	f->io.send(f->io.arg, &g->addr, NOTIFY_PORT, buf, len);
}

static void fhr_tick_channel(struct fhr *f, double now);

/* The interface configuration named ifname, or NULL. */
static const struct fhr_conf_iface *iface_conf(const struct fhr_conf *c, const char *ifname)
{
	for (size_t i = 0; i < c->nifaces; i++)
		if (strcmp(c->ifaces[i].name, ifname) == 0)
			return &c->ifaces[i];
	return NULL;
}

bool fhr_proxy_arp(const struct fhr *f, const char *ifname, const struct lisp_addr *target,
		   const struct lisp_addr *requester)
{
	const struct fhr_conf_iface *x = iface_conf(f->conf, ifname);
	int d = iface_dyn(f->conf, ifname);
	const struct fhr_eid *e;
	struct lisp_prefix host;
	bool inside = false;

	if (!x || !x->proxy_arp || d < 0 || lisp_addr_equal(target, requester))
		return false;
	lisp_prefix_from_addr(&host, f->conf->dyneids[d].iid, target);
	for (size_t i = 0; i < f->conf->dyneids[d].nprefixes && !inside; i++)
		inside = lisp_prefix_contains(&f->conf->dyneids[d].prefixes[i], &host);
	e = inside ? ptable_lookup_exact(f->eids, &host) : NULL;
	return inside && (!e || e->state == FHR_EID_MOVED);
}

struct live_walk {
	struct fhr *f;
	double now;
	struct lisp_prefix gone[64];
	size_t ngone;
};

/* Across-subnet mode: probe the EIDs that went quiet, note the ones that stopped answering. */
static int liveness_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct live_walk *w = arg;
	struct fhr_eid *e = v;
	const struct fhr_conf_iface *x = iface_conf(w->f->conf, e->ifname);

	if (e->state == FHR_EID_MOVED && e->hold_until > 0 && w->now >= e->hold_until &&
	    e->has_mac && w->now - e->last_probe >= FHR_PROBE_EVERY) {
		e->last_probe = w->now; /* its hold is over: still here? its answer re-asserts it */
		w->f->c.probes++;
		if (w->f->io.probe)
			w->f->io.probe(w->f->io.arg, e->ifname, &p->addr, e->mac);
		return 0;
	}
	if (e->state == FHR_EID_MOVED || !e->has_mac ||
	    (!e->contested && (!x || !x->proxy_arp || w->now - e->last_seen < FHR_PROBE_AFTER)) ||
	    (e->probes && w->now - e->last_probe < FHR_PROBE_EVERY))
		return 0;
	if (e->probes >= FHR_PROBES) {
		if (w->ngone < 64)
			w->gone[w->ngone++] = *p;
		return 0;
	}
	e->probes++;
	e->last_probe = w->now;
	w->f->c.probes++;
	if (w->f->io.probe)
		w->f->io.probe(w->f->io.arg, e->ifname, &p->addr, e->mac);
	return 0;
}

void fhr_tick(struct fhr *f, double now)
{
	static struct live_walk w;
	char b[LISP_PREFIX_STRLEN];

	w.f = f;
	w.now = now;
	w.ngone = 0;
	if (now - f->last_liveness >= 1.0) {
		f->last_liveness = now;
		ptable_walk(f->eids, NULL, liveness_one, &w);
	}
	for (size_t i = 0; i < w.ngone; i++) {
		log_info("fhr: %s stopped answering (%d probes): departed",
			 lisp_prefix_format(&w.gone[i], b, sizeof(b)), FHR_PROBES);
		f->c.departures++;
		evh_add("departed", &w.gone[i], NULL, "no answer to %d probes", FHR_PROBES);
		fhr_clear(f, &w.gone[i], now);
	}
	fhr_tick_channel(f, now);
}

static void fhr_tick_channel(struct fhr *f, double now)
{
	char a[LISP_ADDR_STRLEN];

	for (size_t i = 0; i < f->ngws; i++) {
		struct gw *g = &f->gws[i];
		void *args[2] = { f, g };

		if (g->up && now - g->last_heard > NOTIFY_DEAD) {
			g->up = false;
			g->need_hello =
				true; /* its answer may be from a new life, of any session */
			evh_add("gateway-down", NULL, &g->addr, NULL);
			log_warn("fhr: gateway %s silent for %.1f s: down",
				 lisp_addr_format(&g->addr, a, sizeof(a)), now - g->last_heard);
		}
		if (g->need_hello) {
			g->need_hello = false;
			hello(f, g, now);
		}
		notify_tx_due(&g->tx, now, resend, args);
		if (g->rx.session && now - g->last_keepalive >= NOTIFY_KEEPALIVE) {
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

struct clear_walk {
	struct lisp_prefix v[256];
	size_t n;
};

static int clear_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct clear_walk *w = arg;

	(void)v;
	if (w->n == 256)
		return 1;
	w->v[w->n++] = *p;
	return 0;
}

int fhr_clear(struct fhr *f, const struct lisp_prefix *under, double now)
{
	static struct clear_walk w;
	int n = 0;

	do {
		w.n = 0;
		ptable_walk(f->eids, under, clear_one, &w);
		for (size_t i = 0; i < w.n; i++) {
			struct fhr_eid *e = ptable_lookup_exact(f->eids, &w.v[i]);

			if (e->state != FHR_EID_MOVED) {
				notify(f, e, VMROAM__NOTIFY__EVENT_KIND__DEPARTED, now);
				if (f->io.known)
					f->io.known(f->io.arg, e->ifname, &e->p.addr, false);
			}
			f->neids[e->dyn]--;
			ptable_del(f->eids, &w.v[i]);
			n++;
		}
	} while (w.n == 256);
	return n;
}

struct info_walk {
	const struct fhr *f;
	fhr_eid_fn fn;
	void *arg;
};

static int info_one(const struct lisp_prefix *p, void *v, void *arg)
{
	struct info_walk *w = arg;
	const struct fhr_eid *e = v;
	struct fhr_eid_info i = { .p = *p,
				  .policy = w->f->conf->dyneids[e->dyn].name,
				  .ifname = e->ifname,
				  .has_mac = e->has_mac,
				  .source = e->source,
				  .state = e->state,
				  .since = e->since,
				  .last_seen = e->last_seen,
				  .probes = e->probes };

	memcpy(i.mac, e->mac, 6);
	return w->fn(&i, w->arg);
}

int fhr_eid_walk(const struct fhr *f, fhr_eid_fn fn, void *arg)
{
	struct info_walk w = { .f = f, .fn = fn, .arg = arg };

	return ptable_walk(f->eids, NULL, info_one, &w);
}

void fhr_dyn_info(const struct fhr *f, size_t d, size_t *eids, uint64_t *refused)
{
	*eids = f->neids[d];
	*refused = f->refused[d];
}

size_t fhr_eid_count(const struct fhr *f)
{
	return ptable_count(f->eids);
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

const struct fhr_counters *fhr_counters(const struct fhr *f)
{
	return &f->c;
}
