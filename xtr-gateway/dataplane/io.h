/*
 * The data plane's I/O (dataplane/io.c): TUN devices, UDP 4341 and raw
 * sockets around the pipeline, for the daemon (main.c), the control socket
 * and the metrics.
 */
#ifndef XTR_GATEWAY_DATAPLANE_IO_H
#define XTR_GATEWAY_DATAPLANE_IO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"
#include "xtr-gateway/dataplane/pipeline.h"
#include "xtr-gateway/etr/etr.h"

struct xtr_daemon;
struct xtr_conf;

struct xtr_dp;
struct xtr_dp_counters {
	uint64_t tun_rx, tun_tx, tun_errors, rloc_rx, rloc_tx, send_errors;
	uint64_t held, held_sent, hold_drops, native_drops, unknown_iid;
	uint64_t learn_punts, smr_sent, smr_ratelimited, smr_errors, route_errors;
	uint64_t hold_refused_iid; /* not held: its instance-id's share of the queue is full */
	uint64_t resolved_ahead;   /* Map-Requests for the source of a packet to a host of ours */
	uint64_t tun_reads, tun_tso, tun_writes, tun_gro; /* syscalls; TSO segments in, GRO out */
	uint64_t rloc_reads, rloc_gro, gso_errors;	  /* recvmmsg calls; coalesced datagrams */
	uint64_t gso_sends;				  /* UDP GSO sends (many datagrams each) */
	uint64_t oversize; /* datagrams larger than a packet buffer, dropped */
	/* the migration hold: packets for a host whose VM is leaving */
	uint64_t mhold_held, mhold_sent_away, mhold_delivered, mhold_refused, mhold_dropped;
};
struct xtr_dp_tun_info {
	char name[IF_NAMESIZE];
	uint32_t iid;
	unsigned mtu;
	size_t held; /* packets of its instance-id waiting for a Map-Reply */
};
/* Opens the data plane if the configuration has a data-plane role; fatal() when it cannot. */
void xtr_dp_open(struct xtr_daemon *d);
/* Stops the workers, removes our routes, closes and frees it all (no data plane: nothing). */
void xtr_dp_close(struct xtr_daemon *d);
/* After a reload (old: the previous configuration): routes, PETRs, proxy-ETR. */
void xtr_dp_reconfigure(struct xtr_daemon *d, const struct xtr_conf *old);
/* Each second: outer source addresses, held packets aged. */
void xtr_dp_tick(struct xtr_daemon *d);
/* A host EID behind a first-hop router: a route toward it (the kernel's next hop to fhr). */
void xtr_dp_host_route(void *arg, const struct lisp_prefix *p, const struct lisp_addr *fhr,
		       bool add);
/* etr_io.event and mc_io.installed (arg: the daemon). */
void xtr_dp_event(void *arg, enum etr_event ev, const struct lisp_prefix *p, const char *ifname);
void xtr_dp_installed(void *arg);
/* Every worker's counters summed; false if there is no data plane. */
bool xtr_dp_stats(const struct xtr_daemon *d, struct dp_counters *pc, struct xtr_dp_counters *io);
/* The I/O counters as `show lisp dataplane` and the metrics name them. */
struct xtr_dp_named {
	const char *name;
	uint64_t v;
};
#define XTR_DP_IO_MAX 32
/* Fills out with up to max of them; returns how many. */
size_t xtr_dp_io_list(const struct xtr_dp_counters *io, struct xtr_dp_named *out, size_t max);
struct xtr_dp_worker_info {
	uint64_t eid_rx, eid_tx, rloc_rx, rloc_tx;
};
/* Per worker packet counters (up to max); returns how many workers. */
size_t xtr_dp_workers(const struct xtr_daemon *d, struct xtr_dp_worker_info *out, size_t max);
/* The TUN devices (up to max); returns how many. */
size_t xtr_dp_tuns(const struct xtr_daemon *d, struct xtr_dp_tun_info *out, size_t max);
/* Packets in the hold queue (0 without a data plane). */
size_t xtr_dp_held(const struct xtr_daemon *d);
/* Packets (and their bytes) the migration hold has for host p (0 without a data plane). */
size_t xtr_dp_held_eid(const struct xtr_daemon *d, const struct lisp_prefix *p, size_t *bytes);
/* The migration hold's limits: packets in total and per instance-id. */
#define XTR_MHOLD_TOTAL	  32768
#define XTR_MHOLD_PER_IID 8192
#define XTR_MHOLD_MAX_AGE (XTR_MHOLD_MS_MAX / 1000.0 + 2) /* s: a backstop; hosts end sooner */

#endif /* XTR_GATEWAY_DATAPLANE_IO_H */
