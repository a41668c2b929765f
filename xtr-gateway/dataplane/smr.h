/*
 * Solicit-Map-Requests for away EIDs (dataplane/smr.c): when the data
 * plane decapsulates a packet for an EID of ours that moved away, the ITR
 * that sent it is told its mapping changed (RFC 9301 §6.1; spec §10.5),
 * at most once an interval for one move. No I/O: the message leaves
 * through io.send, and the ETR's away table and our RLOCs are asked
 * through io.
 */
#ifndef XTR_GATEWAY_DATAPLANE_SMR_H
#define XTR_GATEWAY_DATAPLANE_SMR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

#define SMR_SLOTS    4096 /* (ITR, EID) pairs remembered for the rate limit */
#define SMR_INTERVAL 3.0  /* s between SMRs to one ITR for one EID (spec §10.5) */

struct evhist;

struct smr_io {
	/* Sends buf (len bytes) to dst:dport; 0 or -errno. */
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	/* Our RLOC of family afi (the SMR's ITR-RLOC); false if we have none. */
	bool (*local_rloc)(void *arg, uint16_t afi, struct lisp_addr *out);
	/* When the away entry for exactly p was made: 0 and *since, or -ENOENT. */
	int (*away_since)(void *arg, const struct lisp_prefix *p, double *since);
	/* An SMR was sent for away entry p. */
	void (*sent)(void *arg, const struct lisp_prefix *p);
	void *arg;
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
};

struct smr;
/* A new sender with an empty rate-limit table; io is copied. Caller frees: smr_free(). */
struct smr *smr_new(const struct smr_io *io);
/* Frees s; NULL is a no-op. */
void smr_free(struct smr *s);
/*
 * Tells itr that the mapping of eid (ours, instance-id iid, moved away)
 * changed; remote (the inner source) sent to it. Returns 0 (sent),
 * -EAGAIN (rate-limited: sent less than SMR_INTERVAL ago for the same
 * move), -EADDRNOTAVAIL (no RLOC of itr's family) or another -errno.
 */
int smr_send(struct smr *s, const struct lisp_addr *itr, uint32_t iid, const struct lisp_addr *eid,
	     const struct lisp_addr *remote, double now);

#endif /* XTR_GATEWAY_DATAPLANE_SMR_H */
