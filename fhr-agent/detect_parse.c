/*
 * Frames that announce a host, parsed (pure, bounds-checked): ARP
 * requests and replies (the sender speaks for its address), gratuitous
 * ARP (sender = target), ARP probes (sender 0.0.0.0: the target is being
 * claimed), RARP (QEMU's announcement after a live migration: only the
 * MAC), IPv6 neighbour solicitations (from a host: its source; DAD, from
 * ::, its target) and advertisements (the target).
 */
#include <errno.h>
#include <string.h>

#include "fhr-agent/detect.h"
#include "lib/buf.h"

#define ETH_HLEN 14

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int parse_arp(const uint8_t *a, size_t len, bool rarp, struct fhr_frame *out)
{
	uint16_t op;

	if (len < 28)
		return -EBADMSG;
	if (buf_load_be16(a) != 1 || buf_load_be16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4)
		return -ENOENT; /* not Ethernet/IPv4 */
	op = buf_load_be16(a + 6);
	memcpy(out->mac, a + 8, 6);
	if (rarp) {
		if (op != 3 && op != 4)
			return -ENOENT;
		out->kind = FHR_FRAME_RARP;
		if (op == 4) /* a reply: the target is the host being told its address */
			memcpy(out->mac, a + 18, 6);
		return 0;
	}
	if (op != 1 && op != 2)
		return -ENOENT;
	out->kind = FHR_FRAME_ARP;
	out->addr.afi = out->target.afi = out->sender.afi = LISP_AFI_IPV4;
	memcpy(out->target.u.v4, a + 24, 4);
	memcpy(out->sender.u.v4, a + 14, 4);
	out->solicit = op == 1 && !zero(a + 14, 4) && memcmp(a + 14, a + 24, 4) != 0;
	if (zero(a + 14, 4)) /* a probe: sender 0.0.0.0 claims the target */
		memcpy(out->addr.u.v4, a + 24, 4);
	else
		memcpy(out->addr.u.v4, a + 14, 4);
	if (zero(out->addr.u.v4, 4) || out->addr.u.v4[0] >= 224)
		return -ENOENT;
	out->has_addr = true;
	return 0;
}

static int parse_nd(const uint8_t *ip, size_t len, const uint8_t *eth_src, struct fhr_frame *out)
{
	const uint8_t *icmp = ip + 40;
	size_t plen;

	if (len < 40)
		return -EBADMSG;
	plen = buf_load_be16(ip + 4);
	if ((ip[0] >> 4) != 6 || ip[6] != 58 || plen + 40 > len)
		return len < 40 + plen ? -EBADMSG : -ENOENT;
	if (plen < 24)
		return -EBADMSG; /* type, code, checksum, reserved/flags, target */
	if (icmp[0] != 135 && icmp[0] != 136)
		return -ENOENT;
	out->kind = FHR_FRAME_ND;
	memcpy(out->mac, eth_src, 6);
	/* an option with our link-layer address (1: source, 2: target) names the MAC */
	for (size_t off = 24; off + 8 <= plen;) {
		size_t olen = (size_t)icmp[off + 1] * 8;

		if (olen == 0 || off + olen > plen)
			return -EBADMSG;
		if ((icmp[off] == 1 || icmp[off] == 2) && olen >= 8)
			memcpy(out->mac, icmp + off + 2, 6);
		off += olen;
	}
	if (icmp[0] == 135 && !zero(ip + 8, 16)) { /* NS from a host: it speaks for its source */
		lisp_addr_set_v6(&out->addr, ip + 8);
		lisp_addr_set_v6(&out->sender, ip + 8);
		lisp_addr_set_v6(&out->target, icmp + 8);
		out->solicit = memcmp(ip + 8, icmp + 8, 16) != 0;
	} else /* DAD (from ::) or an advertisement: the target */
		lisp_addr_set_v6(&out->addr, icmp + 8);
	if (out->addr.u.v6[0] == 0xff || zero(out->addr.u.v6, 16))
		return -ENOENT;
	out->has_addr = true;
	return 0;
}

int fhr_parse_frame(const uint8_t *f, size_t len, struct fhr_frame *out)
{
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (len < ETH_HLEN)
		return -EBADMSG;
	type = buf_load_be16(f + 12);
	switch (type) {
	case 0x0806:
		return parse_arp(f + ETH_HLEN, len - ETH_HLEN, false, out);
	case 0x8035:
		return parse_arp(f + ETH_HLEN, len - ETH_HLEN, true, out);
	case 0x86dd:
		return parse_nd(f + ETH_HLEN, len - ETH_HLEN, f + 6, out);
	default:
		return -ENOENT;
	}
}
