/*
 * The data-plane pipeline (dataplane/pipeline.c), pure (no I/O): batches
 * of packet buffers in, verdicts and rewritten packets out.
 */
#ifndef XTR_GATEWAY_DATAPLANE_PIPELINE_H
#define XTR_GATEWAY_DATAPLANE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"
#include "xtr-gateway/conf/conf.h"
#include "xtr-gateway/itr/mapcache.h"

struct lpmh;

enum dp_verdict {
	DP_FORWARD, /* send: encapsulated toward next_hop, or decapsulated toward the EID side */
	DP_NATIVE,  /* forward as it is (negative entry, natively-forward) */
	DP_PUNT,    /* to the control plane: resolve the destination */
	DP_DROP,
};

enum dp_reason {
	DP_R_ENCAP,
	DP_R_DECAP,
	DP_R_NATIVE,
	DP_R_MISS,
	DP_R_PENDING,
	DP_R_NEGATIVE_DROP,
	DP_R_NO_LOCATOR,
	DP_R_NO_RLOC,
	DP_R_TOO_BIG,
	DP_R_NO_HEADROOM,
	DP_R_MALFORMED,
	DP_R_NOT_LISP,
	DP_R_AWAY,	   /* for an EID that moved away: encapsulated to its new site */
	DP_R_PETR,	   /* negative entry: encapsulated to the proxy-ETR */
	DP_R_NOT_LOCAL,	   /* decapsulated packet for no EID of ours (and not a proxy-ETR) */
	DP_R_LINK_LOCAL,   /* toward a link-local, multicast or broadcast address: never an EID */
	DP_R_TTL_EXCEEDED, /* for an away EID, but its inner TTL / hop limit ran out */
	DP_R_LEAVING,	   /* decapsulated for a host whose VM is leaving: held (DP_PUNT) */
	DP_R_MAX,
};

/* Flags the pipeline sets for the control plane (the packet's verdict stands). */
#define DP_F_LEARN   0x01 /* source: an unknown host where the data plane learns: aux = source */
/* decapsulated for an away EID, or an unknown host of a dynamic-eid prefix: SMR aux (the outer
 * source RLOC) */
#define DP_F_SMR     0x02
/* decapsulated for an EID of ours from a source with no mapping yet: resolve the source now, so
 * that the answer need not wait for it (a VM that moved in answers the packets held for it at
 * once, each to a peer this site never sent to) */
#define DP_F_RESOLVE 0x04

#define DP_BATCH    64
#define DP_HEADROOM 64 /* room for the largest outer header (IPv6: 56 bytes) */

/* A packet buffer: the packet is buf[off .. off+len); encap grows it into the headroom. */
struct dp_pkt {
	uint8_t *buf;
	size_t off, len;
	uint32_t iid; /* in: the instance-id of the ingress (encap); out: of the packet (decap) */
	struct lisp_addr next_hop; /* out (encap): the RLOC */
	struct lisp_addr aux;	   /* see DP_F_*; in (dp_decap_payload_batch): the outer source */
	size_t inner;		   /* out: offset in buf of the inner packet */
	uint8_t ttl;		   /* in (dp_decap_payload_batch): the outer TTL / hop limit */
	uint8_t verdict;	   /* out: enum dp_verdict */
	uint8_t reason;		   /* out: enum dp_reason */
	uint8_t flags;		   /* out: DP_F_* */
};

struct dp_counters {
	uint64_t packets[DP_R_MAX], bytes[DP_R_MAX];
};

struct dp {
	const struct mapcache *mc;
	const struct lpmh *local;      /* the ETR's (etr_local_table()); NULL: no local checks */
	struct lisp_addr rloc4, rloc6; /* outer source addresses */
	unsigned mtu;		       /* largest outer packet */
	uint16_t sport_mask; /* flow-hash bits in the UDP source port (0x3fff; 0 = all of them) */
	uint32_t nonce;
	bool proxy_etr;	    /* decapsulate for any destination */
	struct mc_fwd petr; /* use-petr locators (nloc 0: none) */
	struct mc_locator petr_locs[XTR_PETR_MAX];
	double now; /* set by the caller before a batch: liveness of local EIDs */
	struct dp_counters c;
};

/* Sets up dp over mc (borrowed) with outer sources rloc4/rloc6 (copied) and outer MTU mtu. */
void dp_init(struct dp *dp, const struct mapcache *mc, const struct lisp_addr *rloc4,
	     const struct lisp_addr *rloc6, unsigned mtu);
/* Inner packets from the EID side (iid set): each gets a verdict; DP_FORWARD ones are encapsulated. */
void dp_encap_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/* Packets from the RLOC side: LISP data packets are checked and decapsulated. */
void dp_decap_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/* The same for UDP payloads (from the LISP header on) with aux and ttl from the outer header. */
void dp_decap_payload_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/*
 * Inner packets (off at the IP header, iid set) that were decapsulated and
 * held: each goes where the local table says now, as decapsulation would
 * send it (DP_FORWARD: DP_R_DECAP here, DP_R_AWAY re-encapsulated; DP_PUNT:
 * still leaving), but flags no SMR (the outer source is not kept).
 */
void dp_deliver_batch(struct dp *dp, struct dp_pkt *pk, size_t n);
/* The use-petr locators of conf (the data plane part of the configuration; read now). */
void dp_set_petrs(struct dp *dp, const struct xtr_conf_dp *conf);
/* The name of r for counters and logs (a static string). */
const char *dp_reason_name(enum dp_reason r);

#endif /* XTR_GATEWAY_DATAPLANE_PIPELINE_H */
