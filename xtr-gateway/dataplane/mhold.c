/*
 * The migration hold: see mhold.h. Packets in one array in arrival order;
 * per host and per instance-id counts in small tables, so that every limit
 * is checked in constant time whatever the number of leaving hosts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/dataplane/mhold.h"
#include "xtr-gateway/dataplane/pipeline.h"

struct mhold_use {
	size_t packets, bytes;
};

struct mhold {
	struct mhold_pkt *v; /* n held, oldest first */
	size_t n, cap;
	size_t total, per_iid;
	struct ptable *hosts; /* host -> struct mhold_use */
	struct ptable *iids;  /* instance-id (as a 0-length prefix) -> struct mhold_use */
};

struct mhold *mhold_new(void)
{
	struct mhold *m = xcalloc(1, sizeof(*m));

	m->hosts = ptable_new(free);
	m->iids = ptable_new(free);
	return m;
}

void mhold_free(struct mhold *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].buf);
	free(m->v);
	ptable_free(m->hosts);
	ptable_free(m->iids);
	free(m);
}

static struct lisp_prefix iid_key(uint32_t iid)
{
	struct lisp_prefix p = { .iid = iid, .plen = 0 };

	p.addr.afi = LISP_AFI_IPV4;
	return p;
}

/* The use row of key in t, added (zero) if add. */
static struct mhold_use *use_of(struct ptable *t, const struct lisp_prefix *key, bool add)
{
	struct mhold_use *u = ptable_lookup_exact(t, key);

	if (u || !add)
		return u;
	u = xcalloc(1, sizeof(*u));
	if (ptable_add(t, key, u) < 0) {
		free(u);
		return NULL;
	}
	return u;
}

static void unuse(struct ptable *t, const struct lisp_prefix *key, size_t len)
{
	struct mhold_use *u = ptable_lookup_exact(t, key);

	if (!u)
		return;
	u->packets--;
	u->bytes -= len;
	if (!u->packets)
		ptable_del(t, key);
}

/* Forgets held packet q (its counts; the caller moves the array). */
static void drop(struct mhold *m, struct mhold_pkt *q)
{
	struct lisp_prefix k = iid_key(q->iid);

	unuse(m->hosts, &q->eid, q->len);
	unuse(m->iids, &k, q->len);
	free(q->buf);
	q->buf = NULL;
}

size_t mhold_configure(struct mhold *m, size_t total, size_t per_iid)
{
	size_t gone = 0;

	m->total = total;
	m->per_iid = per_iid;
	while (m->n > total) {
		drop(m, &m->v[--m->n]);
		gone++;
	}
	return gone;
}

int mhold_add(struct mhold *m, const struct lisp_prefix *eid, const struct mhold_quota *q,
	      const uint8_t *pkt, size_t len, unsigned worker, double now)
{
	struct lisp_prefix k = iid_key(eid->iid);
	struct mhold_use *h = use_of(m->hosts, eid, false), *i = use_of(m->iids, &k, false);
	struct mhold_pkt *p;

	if (!len || len > 65535)
		return -EMSGSIZE;
	if (m->n >= m->total)
		return -ENOSPC;
	if (i && i->packets >= m->per_iid)
		return -EDQUOT;
	if (h && (h->packets >= q->packets || h->bytes + len > q->bytes))
		return -EFBIG;
	if (!h && len > q->bytes)
		return -EFBIG;
	if (!(h = use_of(m->hosts, eid, true)))
		return -ENOSPC;
	if (!(i = use_of(m->iids, &k, true))) {
		if (!h->packets)
			ptable_del(m->hosts, eid);
		return -ENOSPC;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	p = &m->v[m->n++];
	*p = (struct mhold_pkt){ .buf = xmalloc(DP_HEADROOM + len),
				 .len = len,
				 .iid = eid->iid,
				 .eid = *eid,
				 .worker = worker,
				 .at = now };
	memcpy(p->buf + DP_HEADROOM, pkt, len);
	h->packets++;
	h->bytes += len;
	i->packets++;
	i->bytes += len;
	return 0;
}

uint8_t *mhold_take(struct mhold *m, struct mhold_pkt *q)
{
	uint8_t *buf = q->buf;

	(void)m;
	q->buf = NULL; /* (drop() frees NULL) */
	q->done = true;
	return buf;
}

struct mhold_pkt *mhold_pkts(struct mhold *m, size_t *n)
{
	*n = m->n;
	return m->v;
}

size_t mhold_compact(struct mhold *m, double now, double max_age)
{
	size_t keep = 0, aged = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct mhold_pkt *q = &m->v[i];

		if (!q->done && now - q->at < max_age) {
			m->v[keep++] = *q;
			continue;
		}
		aged += !q->done;
		drop(m, q);
	}
	m->n = keep;
	return aged;
}

size_t mhold_count(const struct mhold *m)
{
	return m->n;
}

size_t mhold_count_iid(const struct mhold *m, uint32_t iid)
{
	struct lisp_prefix k = iid_key(iid);
	const struct mhold_use *u = ptable_lookup_exact(m->iids, &k);

	return u ? u->packets : 0;
}

size_t mhold_count_eid(const struct mhold *m, const struct lisp_prefix *eid, size_t *bytes)
{
	const struct mhold_use *u = ptable_lookup_exact(m->hosts, eid);

	if (bytes)
		*bytes = u ? u->bytes : 0;
	return u ? u->packets : 0;
}
