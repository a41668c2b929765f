/*
 * The hold queue (dataplane/hold.c): packets held while their destination
 * resolves, bounded in total and per table. No I/O.
 */
#ifndef XTR_GATEWAY_DATAPLANE_HOLD_H
#define XTR_GATEWAY_DATAPLANE_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hold_pkt {
	uint8_t *buf; /* the packet is at buf + DP_HEADROOM */
	size_t len;
	uint32_t iid;
	double at;
	bool done; /* set by the caller: sent or given up; hold_compact() removes it */
};
#define HOLD_MAX_AGE 3.0 /* s a packet waits for the Map-Reply of its destination */

struct hold;
/* A queue whose buffers are slot bytes each (DP_HEADROOM of them before the packet). */
struct hold *hold_new(size_t slot);
/* Frees h and the packets it holds; NULL is a no-op. */
void hold_free(struct hold *h);
/*
 * Its limits: packets in total and per instance-id; the newest beyond a
 * lower total go. Returns how many went.
 */
size_t hold_configure(struct hold *h, size_t limit, size_t per_iid);
/* The per-instance-id limit (what -EDQUOT refers to). */
size_t hold_limit_iid(const struct hold *h);
/*
 * Copies the packet pkt (len bytes, table iid). Returns 0, -ENOSPC (the
 * queue is full), -EDQUOT (iid holds its share) or -EMSGSIZE.
 */
int hold_add(struct hold *h, uint32_t iid, const uint8_t *pkt, size_t len, double now);
/* The held packets, oldest first (*n of them): borrowed until the next hold_*() call. */
struct hold_pkt *hold_pkts(struct hold *h, size_t *n);
/* Removes the packets marked done, and those held max_age or longer; returns how many aged. */
size_t hold_compact(struct hold *h, double now, double max_age);

/* What becomes of a held packet after another try (hold_retried). */
enum hold_fate {
	HOLD_KEEP,    /* still resolving and young: it waits on */
	HOLD_SENT,    /* forwarded */
	HOLD_DROPPED, /* another verdict, or HOLD_MAX_AGE old */
};
/*
 * Settles held packet q after another pass through the pipeline at now:
 * forwarded, its destination still resolving (a punt), or neither. Marks
 * q done unless it is kept.
 */
enum hold_fate hold_retried(struct hold_pkt *q, bool forwarded, bool resolving, double now);
/* Packets held: all, or of table iid. */
size_t hold_count(const struct hold *h);
size_t hold_count_iid(const struct hold *h, uint32_t iid);

#endif /* XTR_GATEWAY_DATAPLANE_HOLD_H */
