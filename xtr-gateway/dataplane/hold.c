/*
 * The data plane's hold queue: the first packets toward a destination
 * being resolved wait here for the Map-Reply (the glue passes them through
 * the pipeline again; hold_retried() says which went, which wait on and
 * which are given up after HOLD_MAX_AGE). Bounded in total (dataplane
 * hold-queue-limit) and per instance-id (its per-instance-id share), so one
 * tenant's misses cannot take the room of the others. Buffers are made
 * when first needed and kept. No I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "xtr-gateway/dataplane/hold.h"
#include "xtr-gateway/dataplane/pipeline.h"

struct hold_iid {
	uint32_t iid;
	size_t n;
};

struct hold {
	struct hold_pkt *v; /* the first n are held, oldest first; the rest spare buffers */
	size_t n, nbuf, slot;
	size_t limit, per_iid;
	struct hold_iid *per; /* packets held per instance-id (n 0: a free row) */
	size_t nper;
};

struct hold *hold_new(size_t slot)
{
	struct hold *h = xcalloc(1, sizeof(*h));

	h->slot = slot;
	return h;
}

void hold_free(struct hold *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nbuf; i++)
		free(h->v[i].buf);
	free(h->v);
	free(h->per);
	free(h);
}

/* The count of iid's packets (a new row when add and there is none). */
static size_t *per_iid(struct hold *h, uint32_t iid, bool add)
{
	struct hold_iid *free_row = NULL;

	for (size_t i = 0; i < h->nper; i++) {
		if (h->per[i].n && h->per[i].iid == iid)
			return &h->per[i].n;
		if (!h->per[i].n && !free_row)
			free_row = &h->per[i];
	}
	if (!add)
		return NULL;
	if (!free_row) {
		h->per = xreallocarray(h->per, h->nper + 1, sizeof(*h->per));
		free_row = &h->per[h->nper++];
	}
	*free_row = (struct hold_iid){ .iid = iid };
	return &free_row->n;
}

/* Counts the packets per instance-id again (after a compaction). */
static void recount(struct hold *h)
{
	for (size_t i = 0; i < h->nper; i++)
		h->per[i].n = 0;
	for (size_t i = 0; i < h->n; i++)
		(*per_iid(h, h->v[i].iid, true))++;
}

size_t hold_configure(struct hold *h, size_t limit, size_t per_iid_limit)
{
	size_t held = h->n;

	h->per_iid = per_iid_limit;
	if (limit < h->n)
		h->n = limit; /* the newest go */
	for (size_t i = limit; i < h->nbuf; i++)
		free(h->v[i].buf);
	if (h->nbuf > limit)
		h->nbuf = limit;
	h->v = xreallocarray(h->v, limit, sizeof(*h->v));
	h->limit = limit;
	recount(h);
	return held - h->n;
}

size_t hold_limit_iid(const struct hold *h)
{
	return h->per_iid;
}

int hold_add(struct hold *h, uint32_t iid, const uint8_t *pkt, size_t len, double now)
{
	size_t *n;
	struct hold_pkt *q;

	if (len > h->slot - DP_HEADROOM)
		return -EMSGSIZE;
	if (h->n >= h->limit)
		return -ENOSPC;
	n = per_iid(h, iid, true);
	if (*n >= h->per_iid)
		return -EDQUOT;
	if (h->n == h->nbuf)
		h->v[h->nbuf++].buf = xmalloc(h->slot);
	q = &h->v[h->n++];
	memcpy(q->buf + DP_HEADROOM, pkt, len);
	q->len = len;
	q->iid = iid;
	q->at = now;
	q->done = false;
	(*n)++;
	return 0;
}

enum hold_fate hold_retried(struct hold_pkt *q, bool forwarded, bool resolving, double now)
{
	if (forwarded) {
		q->done = true;
		return HOLD_SENT;
	}
	if (!resolving || now - q->at >= HOLD_MAX_AGE) {
		q->done = true;
		return HOLD_DROPPED;
	}
	return HOLD_KEEP;
}

struct hold_pkt *hold_pkts(struct hold *h, size_t *n)
{
	*n = h->n;
	return h->v;
}

size_t hold_compact(struct hold *h, double now, double max_age)
{
	size_t keep = 0, aged = 0;

	for (size_t i = 0; i < h->n; i++) {
		struct hold_pkt t;

		if (!h->v[i].done && now - h->v[i].at >= max_age) {
			aged++;
			continue;
		}
		if (h->v[i].done)
			continue;
		t = h->v[keep]; /* swap: the buffers stay owned */
		h->v[keep++] = h->v[i];
		h->v[i] = t;
	}
	h->n = keep;
	recount(h);
	return aged;
}

size_t hold_count(const struct hold *h)
{
	return h->n;
}

size_t hold_count_iid(const struct hold *h, uint32_t iid)
{
	for (size_t i = 0; i < h->nper; i++)
		if (h->per[i].n && h->per[i].iid == iid)
			return h->per[i].n;
	return 0;
}
