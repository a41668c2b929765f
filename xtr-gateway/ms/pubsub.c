/*
 * Publish/subscribe at the Map-Server (RFC 9437): subscriptions taken
 * from Map-Requests with the N bit, confirmed and published by Map-Notify,
 * acknowledged by Map-Notify-Ack.
 *
 * Who may subscribe: a configured subscriber (subscriber NAME), by the
 * xTR-ID (and Site-ID) the request carries after its records; every IPv4
 * and IPv6 ITR-RLOC it names must be one of the subscriber's itr-rloc
 * lines. Otherwise the request is answered with a negative Map-Reply,
 * ACT 5 (Drop/Auth-Failure) for an identity that does not hold, ACT 4
 * (Drop/Policy-Denied) for the subscriber's subscription-limit reached.
 * A request with the N bit for an EID in no site of ours is answered as
 * usual and subscribes nothing (no Map-Notify: the ITR falls back to SMRs).
 *
 * Nothing changes on a Map-Request alone, since a Map-Request carries no
 * authentication: a subscription is on once the Map-Notify that confirms
 * it (nonce: the request's, to the ITR-RLOC, signed with the subscriber's
 * key) is acknowledged by a Map-Notify-Ack the key signs. A renewal
 * replaces the confirmed one only when acknowledged too, so a replayed or
 * forged request can neither move a subscription nor stop it. Likewise an
 * unsubscription (N bit, ITR-RLOC AFI 0) sends the current mapping to the
 * subscriber: one that acknowledges still holds it and keeps it; one that
 * stays silent has gone, and is dropped after the tries.
 *
 * Publication: every change of a registration (new, other locators,
 * withdrawn or expired: TTL 0) is sent to each confirmed subscription of
 * that prefix or a covering one: a Map-Notify with the record, the next
 * nonce of the subscription (the confirmed one plus one a publication, so
 * the ITR refuses anything not above the last it took), retransmitted
 * until acknowledged; a newer one supersedes it. A subscriber that
 * acknowledges none of MS_PUB_TRIES sends is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/evhist.h"
#include "lib/lisp_auth.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/ms/ms_int.h"

/* Wait after the n-th send of a Map-Notify to a subscriber, s. */
static const double pub_wait[MS_PUB_TRIES] = { 0.5, 1, 2, 4 };

static const char *hex_id(const uint8_t id[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
	return out;
}

static void out_unlink(struct ms *ms, struct ms_sub *s)
{
	if (s->out == SUB_OUT_NONE)
		return;
	if (s->oprev)
		s->oprev->onext = s->onext;
	else
		ms->outstanding = s->onext;
	if (s->onext)
		s->onext->oprev = s->oprev;
	s->onext = s->oprev = NULL;
	s->out = SUB_OUT_NONE;
	free(s->msg);
	s->msg = NULL;
	s->len = 0;
}

static void sub_del(struct ms *ms, struct ms_sub *s)
{
	struct ms_subs *at = s->at;
	struct ms_sub **pp = &at->list;

	out_unlink(ms, s);
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	s->who->nsubs--;
	s->who->npending -= !s->active;
	ms->nsub--;
	if (s->active)
		ms->dirty = true;
	free(s);
	if (!at->list)
		ptable_del(ms->subs, &at->p);
}

static void subs_free(void *v)
{
	free(v); /* its subscriptions are deleted first */
}

/* The configured subscriber with xTR-ID id, and the identity entry, or NULL. */
static struct ms_subscriber *subscriber_of(const struct ms *ms, const uint8_t *id,
					   const struct xtr_conf_xtr_id **x)
{
	for (size_t i = 0; i < ms->nsubscribers; i++) {
		const struct xtr_conf_subscriber *c = ms->subscribers[i]->conf;

		for (size_t j = 0; ms->subscribers[i]->alive && j < c->nids; j++) {
			if (memcmp(c->ids[j].id, id, 16) == 0) {
				*x = &c->ids[j];
				return ms->subscribers[i];
			}
		}
	}
	return NULL;
}

static bool rloc_allowed(const struct xtr_conf_subscriber *c, const struct lisp_addr *a)
{
	for (size_t i = 0; i < c->nrlocs; i++)
		if (lisp_addr_equal(&c->rlocs[i], a))
			return true;
	return false;
}

/*
 * Who the request's xTR-ID and Site-ID name, if every IP ITR-RLOC it gives
 * is theirs; NULL otherwise (counted, logged).
 */
static struct ms_subscriber *identify(struct ms *ms, const struct lisp_addr *src,
				      const struct lisp_map_request *req)
{
	const struct xtr_conf_xtr_id *x = NULL;
	struct ms_subscriber *who = subscriber_of(ms, req->xtr_id, &x);
	char a[LISP_ADDR_STRLEN], id[33];
	const char *why = NULL;

	if (!who) {
		ms->pc.unknown_xtr_id++;
		why = "no subscriber has that xTR-ID";
	} else if (x->has_site_id && (!req->site_id_present || req->site_id != x->site_id)) {
		why = "its Site-ID is not the subscriber's";
	} else {
		for (unsigned i = 0; i < req->itr_rloc_count && !why; i++) {
			const struct lisp_addr *r = &req->itr_rlocs[i];

			if ((r->afi == LISP_AFI_IPV4 || r->afi == LISP_AFI_IPV6) &&
			    !rloc_allowed(who->conf, r))
				why = "it names an ITR-RLOC the subscriber may not use";
		}
	}
	if (!why)
		return who;
	if (who)
		who->c.refused_auth++;
	log_warn_rl(&ms->rl_pub, "ms: subscription from %s (xTR-ID %s%s%s) refused: %s",
		    lisp_addr_format(src, a, sizeof(a)), hex_id(req->xtr_id, id),
		    who ? ", subscriber " : "", who ? who->name : "", why);
	return NULL;
}

static struct ms_sub *sub_find(struct ms_subs *at, const uint8_t *id)
{
	for (struct ms_sub *s = at ? at->list : NULL; s; s = s->next)
		if (memcmp(s->xtr_id, id, 16) == 0)
			return s;
	return NULL;
}

/* Encodes and signs a Map-Notify of rec with nonce into ms->out; its length, or 0. */
static size_t notify_encode(struct ms *ms, struct ms_subscriber *who, uint64_t nonce,
			    const struct lisp_eid_record *rec)
{
	struct lisp_map_notify m = { .nonce = nonce,
				     .auth = { .alg_id = LISP_ALG_HMAC_SHA256_128 } };
	struct buf_writer w;

	buf_writer_init(&w, ms->out, sizeof(ms->out));
	if (lisp_msg_encode_map_notify(&w, &m, rec, 1) < 0 ||
	    lisp_auth_sign(who->key, ms->out, w.off) < 0)
		return 0;
	return w.off;
}

/* Sends s a Map-Notify of rec (kind, nonce, to dst:port), replacing what it had outstanding. */
static void out_send(struct ms *ms, struct ms_sub *s, uint8_t kind, uint64_t nonce,
		     const struct lisp_addr *dst, uint16_t port, const struct lisp_eid_record *rec,
		     double now)
{
	size_t len = notify_encode(ms, s->who, nonce, rec);

	if (!len)
		return;
	if (s->out == SUB_OUT_NONE) {
		s->onext = ms->outstanding;
		s->oprev = NULL;
		if (ms->outstanding)
			ms->outstanding->oprev = s;
		ms->outstanding = s;
	}
	free(s->msg);
	s->msg = xmalloc(len);
	memcpy(s->msg, ms->out, len);
	s->len = len;
	s->out = kind;
	s->out_nonce = nonce;
	s->out_dst = *dst;
	s->out_port = port;
	s->out_withdraws = rec->ttl == 0 && lisp_prefix_equal(&rec->eid, &s->at->p);
	s->sent = 1;
	s->next_at = now + pub_wait[0];
	ms->io.send(ms->io.arg, dst, port, s->msg, s->len);
}

/* The current record of registered prefix p: its locators, or TTL 0 when it is not registered. */
static void pub_record(struct ms *ms, const struct lisp_prefix *p, struct lisp_eid_record *rec)
{
	const struct ms_reg *reg = ptable_lookup_exact(ms->regs, p);

	memset(rec, 0, sizeof(*rec));
	rec->eid = *p;
	rec->authoritative = true;
	if (reg)
		ms_reg_record(ms, reg, ms->pub_locs, rec);
}

/* Unsubscription (N bit, no ITR-RLOC): what the subscriber acknowledges, it keeps. */
static void unsubscribe(struct ms *ms, struct ms_subscriber *who, const uint8_t *id,
			const struct lisp_prefix *eid, double now)
{
	struct ms_sub *s = sub_find(ptable_lookup_exact(ms->subs, eid), id);
	const struct ms_reg *reg;
	struct lisp_eid_record rec;

	ms->pc.unsubscribes++;
	if (!s || s->who != who || !s->active || s->out != SUB_OUT_NONE)
		return; /* nothing confirmed, or a Map-Notify already out: its ack tells */
	reg = ptable_lookup_exact(ms->regs, &s->at->p);
	if (!reg)
		reg = ptable_lookup_covering(ms->regs, &s->at->p, NULL);
	if (!ms_answer_record(ms, &s->at->p, reg, ms->pub_locs, &rec)) {
		sub_del(ms, s); /* no site holds the prefix any more */
		return;
	}
	rec.eid = s->at->p; /* what it asked about, as it caches it */
	out_send(ms, s, SUB_OUT_PROBE, ++s->nonce, &s->itr, s->port, &rec, now);
}

int ms_pub_request(struct ms *ms, const struct lisp_addr *src, const struct lisp_map_request *req,
		   const struct lisp_prefix *eid, const struct ms_reg *reg, uint16_t dport,
		   double now)
{
	const struct lisp_addr *itr = NULL;
	struct ms_subscriber *who;
	struct lisp_eid_record rec;
	struct ms_subs *at;
	struct ms_sub *s;

	if (!req->xtr_id_present) {
		ms->pc.no_xtr_id++; /* RFC 9437 wants it: answered, nothing subscribed */
		return 0;
	}
	who = identify(ms, src, req);
	if (!who)
		return LISP_ACT_DROP_AUTH;
	for (unsigned i = 0; i < req->itr_rloc_count && !itr; i++)
		if (req->itr_rlocs[i].afi == LISP_AFI_IPV4 ||
		    req->itr_rlocs[i].afi == LISP_AFI_IPV6)
			itr = &req->itr_rlocs[i];
	if (!itr) {
		unsubscribe(ms, who, req->xtr_id, eid, now);
		return -1;
	}
	if (!ms_answer_record(ms, eid, reg, ms->pub_locs, &rec)) {
		ms->pc.not_lisp++;
		return 0; /* not a LISP EID: answered as usual, nothing to subscribe to */
	}
	who->c.requests++;
	at = ptable_lookup_exact(ms->subs, &rec.eid);
	s = sub_find(at, req->xtr_id);
	if (!s) {
		char p[LISP_PREFIX_STRLEN];

		if (who->nsubs >= who->conf->limit || ms->nsub >= MS_SUB_MAX ||
		    who->npending >= MS_SUB_PENDING_MAX) {
			who->c.limit_refusals++;
			log_warn_rl(&ms->rl_pub,
				    "ms: subscriber %s: subscription to %s refused: %s reached",
				    who->name, lisp_prefix_format(&rec.eid, p, sizeof(p)),
				    who->nsubs >= who->conf->limit ? "its subscription-limit"
				    : ms->nsub >= MS_SUB_MAX	   ? "the Map-Server's limit"
							     : "its limit of unconfirmed ones");
			return LISP_ACT_DROP_POLICY;
		}
		if (!at) {
			at = xcalloc(1, sizeof(*at));
			at->p = rec.eid;
			if (ptable_add(ms->subs, &at->p, at) < 0) {
				free(at);
				return 0;
			}
		}
		s = xcalloc(1, sizeof(*s));
		s->at = at;
		s->who = who;
		memcpy(s->xtr_id, req->xtr_id, 16);
		s->created = now;
		s->next = at->list;
		at->list = s;
		who->nsubs++;
		who->npending++;
		ms->nsub++;
	}
	/* the confirmation is an answer to the ITR-RLOC: rate-limited as Map-Replies are */
	if (!ms_answer_allowed(ms, itr, now, &ms->gc->map_replies_rate_limited,
			       "subscription confirmation")) {
		if (!s->active)
			sub_del(ms, s);
		return 0;
	}
	s->has_site_id = req->site_id_present;
	s->site_id = req->site_id;
	s->life = xtr_ttl_seconds(rec.ttl) + MS_SUB_GRACE;
	if (!s->active)
		s->expires = now + s->life;
	/* the confirmation; a publication outstanding for the confirmed one is superseded */
	out_send(ms, s, SUB_OUT_CONFIRM, req->nonce, itr, dport, &rec, now);
	evh_add(ms->io.evh, "subscribe", &rec.eid, itr, "subscriber %s%s", who->name,
		s->active ? ", renewal" : "");
	return 0;
}

void ms_pub_changed(struct ms *ms, const struct lisp_prefix *p, double now)
{
	struct lisp_prefix q = *p;
	struct lisp_eid_record rec;
	struct ms_subs *at;
	bool built = false;

	if (!ms->nsub)
		return;
	at = ptable_lookup_exact(ms->subs, &q);
	if (!at)
		at = ptable_lookup_covering(ms->subs, &q, &q);
	while (at) {
		for (struct ms_sub *s = at->list; s; s = s->next) {
			if (!s->active || !s->who->alive)
				continue; /* a confirmation outstanding gets its ack first */
			if (!built) {
				pub_record(ms, p, &rec);
				built = true;
			}
			out_send(ms, s, SUB_OUT_PUBLISH, ++s->nonce, &s->itr, s->port, &rec, now);
			s->who->c.publications++;
			s->publications++;
			ms->dirty = true; /* the nonce: kept across a restart */
			evh_add(ms->io.evh, "publish", p, &s->itr, "subscriber %s%s", s->who->name,
				rec.ttl ? "" : ", withdrawn");
		}
		at = ptable_lookup_covering(ms->subs, &at->p, NULL);
	}
}

bool ms_pub_ack(struct ms *ms, const struct lisp_addr *src, const uint8_t *buf, size_t len,
		const struct lisp_map_notify *m, double now)
{
	struct ms_sub *s;

	for (s = ms->outstanding; s; s = s->onext)
		if (s->out_nonce == m->nonce && lisp_addr_equal(&s->out_dst, src))
			break;
	if (!s)
		return false;
	if (lisp_auth_verify(s->who->key, buf, len) < 0) {
		s->who->c.ack_auth_failures++;
		return true;
	}
	s->who->c.acks++;
	switch (s->out) {
	case SUB_OUT_CONFIRM:
		s->who->c.confirmed += !s->active;
		s->who->c.renewed += s->active;
		s->who->npending -= !s->active;
		s->active = true;
		s->nonce = s->out_nonce;
		s->itr = s->out_dst;
		s->port = s->out_port;
		s->expires = now + s->life;
		ms->dirty = true;
		break;
	case SUB_OUT_PUBLISH:
		if (s->out_withdraws) { /* the prefix is gone: so is the subscription */
			sub_del(ms, s);
			return true;
		}
		break;
	default: /* a probe acknowledged: the unsubscription was not the subscriber's */
		break;
	}
	out_unlink(ms, s);
	return true;
}

/* Collect filter: subscriptions at a prefix whose time has come (arg: now). */
static bool any_expired(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct ms_subs *at = v;

	(void)p;
	for (const struct ms_sub *s = at->list; s; s = s->next)
		if (s->expires <= *(const double *)arg)
			return true;
	return false;
}

void ms_pub_tick(struct ms *ms, double now)
{
	struct ms_sub *s = ms->outstanding, *next;
	char a[LISP_ADDR_STRLEN];

	for (; s; s = next) {
		next = s->onext;
		if (s->next_at > now)
			continue;
		if (s->sent < MS_PUB_TRIES) {
			ms->io.send(ms->io.arg, &s->out_dst, s->out_port, s->msg, s->len);
			s->who->c.retransmissions++;
			s->next_at = now + pub_wait[s->sent++];
			continue;
		}
		if (s->out == SUB_OUT_CONFIRM && s->active) {
			out_unlink(ms,
				   s); /* a renewal nobody acknowledged: the confirmed one holds */
			continue;
		}
		if (s->out == SUB_OUT_PROBE)
			s->who->c.unsubscribed++;
		else
			s->who->c.giveups++;
		log_info_rl(&ms->rl_pub,
			    "ms: subscriber %s at %s: no Map-Notify-Ack after %d tries: "
			    "subscription dropped",
			    s->who->name, lisp_addr_format(&s->out_dst, a, sizeof(a)), s->sent);
		sub_del(ms, s);
	}
	if (now < ms->sub_scan)
		return;
	ms->sub_scan = now + 1.0;
	if (ms->nsub) {
		void **v;
		size_t n = ptable_collect(ms->subs, NULL, any_expired, &now, NULL, &v);

		for (size_t i = 0; i < n; i++) {
			struct ms_subs *at = v[i];
			struct ms_sub *x, *xn;

			for (x = at->list; x; x = xn) {
				xn = x->next;
				if (x->expires > now)
					continue;
				x->who->c.expirations++;
				sub_del(ms, x); /* the last one frees at: x->next read first */
			}
		}
		free(v);
	}
}

/* Collect filter: every prefix holding subscriptions. */
static bool all(const struct lisp_prefix *p, void *v, void *arg)
{
	(void)p;
	(void)v;
	(void)arg;
	return true;
}

/* Drops the subscriptions whose subscriber is gone or no longer allows them (dead: all). */
static void drop_disallowed_subs(struct ms *ms, bool everything)
{
	void **v;
	size_t n = ms->subs ? ptable_collect(ms->subs, NULL, all, NULL, NULL, &v) : 0;

	for (size_t i = 0; i < n; i++) {
		struct ms_subs *at = v[i];
		struct ms_sub *x, *xn;

		for (x = at->list; x; x = xn) {
			const struct xtr_conf_xtr_id *id;
			bool keep;

			xn = x->next;
			keep = !everything && x->who->alive &&
			       subscriber_of(ms, x->xtr_id, &id) == x->who &&
			       (!id->has_site_id ||
				(x->has_site_id && x->site_id == id->site_id)) &&
			       (!x->active || rloc_allowed(x->who->conf, &x->itr));
			if (!keep)
				sub_del(ms, x);
		}
	}
	if (n)
		free(v);
}

void ms_pub_configure(struct ms *ms, const struct xtr_conf_msmr *conf)
{
	size_t keep = 0;

	if (!ms->subs)
		ms->subs = ptable_new(subs_free);
	for (size_t i = 0; i < ms->nsubscribers; i++)
		ms->subscribers[i]->alive = false;
	for (size_t i = 0; i < conf->nsubscribers; i++) {
		const struct xtr_conf_subscriber *c = conf->subscribers[i];
		struct ms_subscriber *w = NULL;

		for (size_t j = 0; j < ms->nsubscribers && !w; j++)
			if (strcmp(ms->subscribers[j]->name, c->name) == 0)
				w = ms->subscribers[j];
		if (!w) {
			w = xcalloc(1, sizeof(*w));
			snprintf(w->name, sizeof(w->name), "%s", c->name);
			ms->subscribers = xreallocarray(ms->subscribers, ms->nsubscribers + 1,
							sizeof(*ms->subscribers));
			ms->subscribers[ms->nsubscribers++] = w;
		}
		lisp_auth_key_free(w->key);
		w->key = lisp_auth_key_new(c->key, c->keylen);
		w->conf = c;
		w->alive = true;
	}
	drop_disallowed_subs(ms, false);
	for (size_t i = 0; i < ms->nsubscribers; i++) {
		struct ms_subscriber *w = ms->subscribers[i];

		if (w->alive) {
			ms->subscribers[keep++] = w;
		} else {
			lisp_auth_key_free(w->key);
			free(w);
		}
	}
	ms->nsubscribers = keep;
}

void ms_pub_free(struct ms *ms)
{
	drop_disallowed_subs(ms, true);
	for (size_t i = 0; i < ms->nsubscribers; i++) {
		lisp_auth_key_free(ms->subscribers[i]->key);
		free(ms->subscribers[i]);
	}
	free(ms->subscribers);
	ptable_free(ms->subs);
}

/* The state file */

static int format_at(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct ms_subs *at = v;
	char pb[LISP_PREFIX_STRLEN], ab[LISP_ADDR_STRLEN], id[33];
	struct lisp_prefix bare = *p;
	FILE *f = arg;

	bare.iid = 0;
	for (const struct ms_sub *s = at->list; s; s = s->next) {
		if (!s->active)
			continue;
		fprintf(f, "S %s %u %s %s ", s->who->name, p->iid,
			lisp_prefix_format(&bare, pb, sizeof(pb)), hex_id(s->xtr_id, id));
		if (s->has_site_id)
			fprintf(f, "%llu", (unsigned long long)s->site_id);
		else
			fputc('-', f);
		fprintf(f, " %s %u %016llx %.6f %.6f %u\n",
			lisp_addr_format(&s->itr, ab, sizeof(ab)), s->port,
			(unsigned long long)s->nonce, s->created, s->expires, s->life);
	}
	return 0;
}

void ms_pub_format(const struct ms *ms, FILE *f)
{
	if (ms->subs)
		ptable_walk(ms->subs, NULL, format_at, f);
}

static bool word_u64(const char *w, int base, uint64_t *out)
{
	char *end;

	if (!*w || *w == '-' || *w == '+')
		return false;
	errno = 0;
	*out = strtoull(w, &end, base);
	return !errno && !*end;
}

static bool word_time(const char *w, double *out)
{
	char *end;

	*out = strtod(w, &end);
	return *w && !*end && *out >= 0 && *out < 1e11;
}

int ms_pub_load(struct ms *ms, char **w, size_t n, double now, bool apply)
{
	const struct xtr_conf_xtr_id *x;
	struct ms_subscriber *who;
	struct lisp_prefix p;
	struct lisp_addr itr;
	uint64_t iid, site = 0, port, nonce, life;
	double created, expires;
	uint8_t id[16];
	bool has_site = n > 5 && strcmp(w[5], "-") != 0;
	struct ms_subs *at;
	struct ms_sub *s;

	if (n != 12 || !word_u64(w[2], 10, &iid) || iid > 0xffffffffu ||
	    lisp_prefix_parse(w[3], (uint32_t)iid, &p) < 0 || strlen(w[4]) != 32 ||
	    strspn(w[4], "0123456789abcdef") != 32 || (has_site && !word_u64(w[5], 10, &site)) ||
	    lisp_addr_parse(w[6], &itr) < 0 ||
	    (itr.afi != LISP_AFI_IPV4 && itr.afi != LISP_AFI_IPV6) || !word_u64(w[7], 10, &port) ||
	    port > 65535 || strlen(w[8]) != 16 || !word_u64(w[8], 16, &nonce) ||
	    !word_time(w[9], &created) || !word_time(w[10], &expires) ||
	    !word_u64(w[11], 10, &life) || life > 0xffffffffu)
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		sscanf(w[4] + 2 * i, "%2hhx", &id[i]);
	if (!apply || expires <= now)
		return 1;
	who = subscriber_of(ms, id, &x);
	if (!who || strcmp(who->name, w[1]) != 0 || !rloc_allowed(who->conf, &itr) ||
	    (x->has_site_id && (!has_site || site != x->site_id)) ||
	    who->nsubs >= who->conf->limit || ms->nsub >= MS_SUB_MAX)
		return 1;
	at = ptable_lookup_exact(ms->subs, &p);
	if (sub_find(at, id))
		return 1;
	if (!at) {
		at = xcalloc(1, sizeof(*at));
		at->p = p;
		if (ptable_add(ms->subs, &at->p, at) < 0) {
			free(at);
			return -ENOMEM;
		}
	}
	s = xcalloc(1, sizeof(*s));
	*s = (struct ms_sub){ .at = at,
			      .who = who,
			      .site_id = site,
			      .has_site_id = has_site,
			      .active = true,
			      .port = (uint16_t)port,
			      .itr = itr,
			      .nonce = nonce + MS_SUB_NONCE_GAP,
			      .life = (uint32_t)life,
			      .created = created,
			      .expires = expires,
			      .next = at->list };
	memcpy(s->xtr_id, id, 16);
	at->list = s;
	who->nsubs++;
	ms->nsub++;
	return 1;
}

/* Read access */

size_t ms_sub_count(const struct ms *ms)
{
	return ms->nsub;
}

size_t ms_subscriber_count(const struct ms *ms)
{
	return ms->nsubscribers;
}

const struct ms_subscriber *ms_subscriber_at(const struct ms *ms, size_t i,
					     const struct ms_subscriber_counters **c, size_t *nsubs)
{
	if (i >= ms->nsubscribers)
		return NULL;
	*c = &ms->subscribers[i]->c;
	*nsubs = ms->subscribers[i]->nsubs;
	return ms->subscribers[i];
}

const char *ms_subscriber_name(const struct ms_subscriber *w)
{
	return w->name;
}

unsigned ms_subscriber_limit(const struct ms_subscriber *w)
{
	return w->conf->limit;
}

const struct ms_pub_counters *ms_pub_counters(const struct ms *ms)
{
	return &ms->pc;
}

struct sub_walk {
	ms_sub_fn fn;
	void *arg;
};

static int walk_at(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct ms_subs *at = v;
	struct sub_walk *w = arg;
	int rc;

	for (const struct ms_sub *s = at->list; s; s = s->next) {
		struct ms_sub_info i = { .p = *p,
					 .subscriber = s->who->name,
					 .has_site_id = s->has_site_id,
					 .site_id = s->site_id,
					 .active = s->active,
					 .itr = s->active ? s->itr : s->out_dst,
					 .port = s->active ? s->port : s->out_port,
					 .nonce = s->nonce,
					 .created = s->created,
					 .expires = s->expires,
					 .publications = s->publications,
					 .outstanding = s->out == SUB_OUT_CONFIRM   ? "confirm"
							: s->out == SUB_OUT_PUBLISH ? "publication"
							: s->out == SUB_OUT_PROBE   ? "unsubscribe"
										    : NULL,
					 .tries = s->sent };

		memcpy(i.xtr_id, s->xtr_id, 16);
		rc = w->fn(&i, w->arg);
		if (rc)
			return rc;
	}
	return 0;
}

int ms_sub_walk(const struct ms *ms, ms_sub_fn fn, void *arg)
{
	struct sub_walk w = { .fn = fn, .arg = arg };

	return ms->subs ? ptable_walk(ms->subs, NULL, walk_at, &w) : 0;
}
