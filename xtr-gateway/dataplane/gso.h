/*
 * Segmentation offload between the TUN (IFF_VNET_HDR) and the pipeline
 * (dataplane/gso.c): TSO/USO segments cut, TCP/UDP flows gathered. No OS calls.
 */
#ifndef XTR_GATEWAY_DATAPLANE_GSO_H
#define XTR_GATEWAY_DATAPLANE_GSO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gso_out {
	uint8_t **bufs;	 /* where the segments go, cap bytes each */
	size_t *lens;	 /* out: their lengths */
	size_t cap, max; /* bytes per buffer, buffers */
	size_t n;	 /* out: segments written */
};
/*
 * Cuts the packet pkt (len bytes, as read after its virtio-net header vh)
 * into ordinary packets: a TSO segment (TCPV4/TCPV6) into MSS-sized TCP
 * packets with their own headers and full checksums, a UDP segment (USO)
 * into its datagrams likewise; a plain packet whose
 * checksum the kernel left to us (NEEDS_CSUM) completed. Returns how many,
 * or -EINVAL (malformed), -EPROTONOSUPPORT (a GSO type we did not ask for),
 * -EMSGSIZE (does not fit out).
 */
int gso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, struct gso_out *out);

/* One write to the TUN: buf == NULL means pkts[0] as it is (a zero virtio-net header). */
struct gro_unit {
	struct virtio_net_hdr vh;
	const uint8_t *buf;
	size_t len;
};
/*
 * Gathers pkts[0] and the packets after it that continue its TCP flow in
 * order (same addresses, ports, ack, window, options, TOS/TTL; ACK or
 * PSH only; equal payloads but the last) into one TSO segment in buf (cap
 * bytes) with its virtio-net header in u; with udp (the TUN takes USO),
 * UDP datagrams of one flow, equal in size but the last, likewise into one
 * UDP segment. Returns how many packets u carries (1: pkts[0] alone,
 * u->buf NULL).
 */
size_t gro_build(const uint8_t *const *pkts, const size_t *lens, size_t n, struct gro_unit *u,
		 uint8_t *buf, size_t cap, bool udp);

#endif /* XTR_GATEWAY_DATAPLANE_GSO_H */
