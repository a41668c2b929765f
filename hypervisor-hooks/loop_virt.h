/* libvirt's event loop driven by libev (loop_virt.c). */
#ifndef HYPERVISOR_HOOKS_LOOP_VIRT_H
#define HYPERVISOR_HOOKS_LOOP_VIRT_H

#include <stddef.h>

#include <ev.h>

/* Registers libev as libvirt's event implementation; call before virConnectOpen. */
void virt_ev_register(struct ev_loop *loop);
/* Handles and timeouts libvirt holds now (for tests: none are left after a close). */
size_t virt_ev_active(void);

#endif /* HYPERVISOR_HOOKS_LOOP_VIRT_H */
