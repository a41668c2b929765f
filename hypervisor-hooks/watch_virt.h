/*
 * vmroam-virtwatch's engine (watch_virt.c): the libvirt connection, its
 * lifecycle events turned into HypervisorEvents, and their delivery to the
 * FHRs. The daemon (main_virt.c) and the tests drive it.
 */
#ifndef HYPERVISOR_HOOKS_WATCH_VIRT_H
#define HYPERVISOR_HOOKS_WATCH_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <libvirt/libvirt.h>

#include "hypervisor-hooks/hv.h"

struct vw_counters {
	uint64_t connects, events, sent, acked, refused, retransmits, send_errors;
	uint64_t unroutable, bad_xml, bad_acks;
	/* migrations whose switchover we led; paused by us; without the FHR's Ack; failed */
	uint64_t led, switched, switch_unconfirmed, switch_failed;
	/* of them, with the guest's frames steered to its FHR; taps not steered or unsteered */
	uint64_t steered, steer_failed;
};

struct vw;
/* conf stays the caller's. Libvirt's event loop must run on loop (virt_ev_register). */
struct vw *vw_new(struct ev_loop *loop, const char *uri, struct hv_conf *conf);
/* Connects (and reconnects whenever the connection closes). */
void vw_start(struct vw *w);
/*
 * A reloaded configuration: w uses conf from now on (the caller frees the
 * one it returns); FHRs of tenants still there get the new key for what is
 * sent from now on, retransmissions included.
 */
struct hv_conf *vw_reconfigure(struct vw *w, struct hv_conf *conf);
void vw_free(struct vw *w);
bool vw_connected(const struct vw *w);
const struct vw_counters *vw_counters(const struct vw *w);
/* Events sent and not yet acknowledged. */
size_t vw_pending(const struct vw *w);
/*
 * One lifecycle event of dom (what libvirt's callback gets): translated
 * (hv_lifecycle_kind) and told to the domain's FHR. Exposed so that tests
 * replay recorded migration sequences through the daemon's own path.
 */
void vw_lifecycle(struct vw *w, virDomainPtr dom, int event, int detail);
/*
 * A live migration of dom away from here began pass iteration (libvirt's
 * MIGRATION_ITERATION): from the second on, HV_PAUSING to its FHR.
 */
void vw_iteration(struct vw *w, virDomainPtr dom, int iteration);

#endif /* HYPERVISOR_HOOKS_WATCH_VIRT_H */
