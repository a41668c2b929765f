/*
 * The frames bound for a guest in its switchover, steered from its tap to
 * its FHR (hypervisor-hooks/steer.c), so that nothing reaches the paused
 * guest, whoever sends it and from wherever (the hosts of an extended
 * subnet's other site among them): the FHR holds them with the rest and
 * sends them on to the guest's new site, or back to it if it stays.
 *
 * nftables, table netdev vmroam_steer (owned by the watcher's socket: it
 * goes when the watcher does), a chain per tap on its egress hook:
 *	ether type ip|ip6 ether daddr VM ether saddr set BRIDGE ether daddr set FHR
 *		counter fwd to BRIDGE
 * BRIDGE being the tap's bridge (its MAC, so that no switch learns a sender
 * anywhere but where it is), which sends the frame on toward the FHR's MAC.
 */
#ifndef HYPERVISOR_HOOKS_STEER_H
#define HYPERVISOR_HOOKS_STEER_H

#include <stdbool.h>
#include <stdint.h>

struct hv_steer;
/* The table (a leftover one replaced): 0, or -errno. */
int hv_steer_open(struct hv_steer **out);
void hv_steer_close(struct hv_steer *t);
/*
 * tap's frames to vm go to fhr from now on: 0, or -errno (-ENODEV: tap not in a bridge;
 * -EHOSTUNREACH: fhr is the MAC of the tap's bridge, the FHR on this host's bridge itself).
 * but_fhr: those from fhr itself reach the guest (ether saddr != FHR): once the guest runs
 * here again, what the FHR held goes to it first, what others send still through the FHR
 * behind it, until hv_steer_off().
 */
int hv_steer_on(struct hv_steer *t, const char *tap, const uint8_t vm[6], const uint8_t fhr[6],
		bool but_fhr);
/* tap's frames go to the guest again (0 also when tap, and so its chain, are gone). */
int hv_steer_off(struct hv_steer *t, const char *tap);

#endif /* HYPERVISOR_HOOKS_STEER_H */
