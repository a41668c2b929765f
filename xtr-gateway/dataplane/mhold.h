/*
 * The migration hold (dataplane/mhold.c): packets for hosts whose VM is
 * leaving (a live migration's switchover), held in arrival order until it is
 * known where the host went. Bounded per host (packets and bytes), per
 * instance-id and in total; each buffer is the packet's size. No I/O.
 */
#ifndef XTR_GATEWAY_DATAPLANE_MHOLD_H
#define XTR_GATEWAY_DATAPLANE_MHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

struct mhold_pkt {
	uint8_t *buf; /* the packet is at buf + DP_HEADROOM (room to re-encapsulate it) */
	size_t len;
	uint32_t iid;
	struct lisp_prefix eid; /* the leaving host it waits for */
	unsigned worker;	/* the caller's: who received it (who sends it on) */
	double at;
	bool done; /* set by the caller: sent or given up; mhold_compact() frees it */
};

/* Per host: at most packets and bytes held. */
struct mhold_quota {
	size_t packets, bytes;
};

struct mhold;
struct mhold *mhold_new(void);
/* Frees m and what it holds; NULL is a no-op. */
void mhold_free(struct mhold *m);
/* Its limits in packets: in total and per instance-id (the newest beyond go; returns how many). */
size_t mhold_configure(struct mhold *m, size_t total, size_t per_iid);
/*
 * Copies packet pkt (len bytes) for host eid under quota q. Returns 0,
 * -ENOSPC (the hold is full), -EDQUOT (the instance-id holds its share),
 * -EFBIG (the host holds its quota) or -EMSGSIZE (len is 0 or over 65535).
 */
int mhold_add(struct mhold *m, const struct lisp_prefix *eid, const struct mhold_quota *q,
	      const uint8_t *pkt, size_t len, unsigned worker, double now);
/* Takes held packet q's buffer from m (the caller frees it) and marks it done. */
uint8_t *mhold_take(struct mhold *m, struct mhold_pkt *q);
/* The held packets, oldest first (*n of them): borrowed until the next mhold_*() call. */
struct mhold_pkt *mhold_pkts(struct mhold *m, size_t *n);
/* Frees the packets marked done, and the others held max_age or longer (returns how many). */
size_t mhold_compact(struct mhold *m, double now, double max_age);
/* Packets held in total, of instance-id iid, of host eid (and its bytes if bytes is set). */
size_t mhold_count(const struct mhold *m);
size_t mhold_count_iid(const struct mhold *m, uint32_t iid);
size_t mhold_count_eid(const struct mhold *m, const struct lisp_prefix *eid, size_t *bytes);

#endif /* XTR_GATEWAY_DATAPLANE_MHOLD_H */
