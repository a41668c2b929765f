/*
 * Frames, parsed and built (pure, bounds-checked). Parsed: those that
 * announce a host, ARP
 * requests and replies (the sender speaks for its address), gratuitous
 * ARP (sender = target), ARP probes (sender 0.0.0.0: the target is being
 * claimed), RARP (QEMU's announcement after a live migration: only the
 * MAC), IPv6 neighbour solicitations (from a host: its source; DAD, from
 * ::, its target) and advertisements (the target); and the addresses of
 * an IPv4 or IPv6 packet (a moved-in VM's, sent to a MAC not here). Built:
 * the ARP and neighbour discovery frames the agent sends.
 */
#include <errno.h>
#include <string.h>

#include "fhr-agent/detect.h"
#include "lib/buf.h"
#include "lib/ippkt.h"

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
	if (zero(a + 14, 4)) { /* a probe: sender 0.0.0.0 claims the target */
		memcpy(out->addr.u.v4, a + 24, 4);
		out->tentative = true;
	} else {
		memcpy(out->addr.u.v4, a + 14, 4);
	}
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
	} else { /* DAD (from ::) or an advertisement: the target */
		lisp_addr_set_v6(&out->addr, icmp + 8);
		out->tentative = icmp[0] == 135;
	}
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

int fhr_parse_ip(const uint8_t *f, size_t len, struct fhr_ip *out)
{
	const uint8_t *ip = f + ETH_HLEN;
	size_t room, tot;

	memset(out, 0, sizeof(*out));
	if (len < ETH_HLEN)
		return -EBADMSG;
	room = len - ETH_HLEN;
	switch (buf_load_be16(f + 12)) {
	case 0x0800:
		if (room < 20 || (ip[0] >> 4) != 4 || (ip[0] & 15) < 5)
			return -EBADMSG;
		tot = buf_load_be16(ip + 2);
		if (tot < (size_t)(ip[0] & 15) * 4 || tot > room)
			return -EBADMSG;
		lisp_addr_set_v4(&out->src, ip + 12);
		lisp_addr_set_v4(&out->dst, ip + 16);
		out->ttl = ip[8];
		break;
	case 0x86dd:
		if (room < 40 || (ip[0] >> 4) != 6)
			return -EBADMSG;
		tot = 40 + (size_t)buf_load_be16(ip + 4);
		if (tot > room)
			return -EBADMSG;
		lisp_addr_set_v6(&out->src, ip + 8);
		lisp_addr_set_v6(&out->dst, ip + 24);
		out->ttl = ip[7];
		break;
	default:
		return -ENOENT;
	}
	out->off = ETH_HLEN;
	out->len = tot;
	return 0;
}

size_t fhr_build_arp(uint8_t *f, uint16_t op, const uint8_t eth_dst[6], const uint8_t eth_src[6],
		     const uint8_t sha[6], const uint8_t sip[4], const uint8_t tha[6],
		     const uint8_t tip[4])
{
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, eth_src, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4;
	f[20] = (uint8_t)(op >> 8), f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, sip, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tip, 4);
	return FHR_ARP_LEN;
}

size_t fhr_build_nd(uint8_t *f, uint8_t type, uint8_t flags, const uint8_t eth_dst[6],
		    const uint8_t eth_src[6], const uint8_t src[16], const uint8_t dst[16],
		    const uint8_t target[16], const uint8_t lladdr[6])
{
	uint8_t *ip = f + ETH_HLEN, *icmp = f + ETH_HLEN + 40;
	uint32_t sum;
	uint16_t c;

	memset(f, 0, FHR_ND_LEN);
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, eth_src, 6);
	f[12] = 0x86, f[13] = 0xdd;
	ip[0] = 0x60, ip[5] = 32, ip[6] = 58, ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = type == 135 ? 1 : 2, icmp[25] = 1; /* source / target link-layer address */
	memcpy(icmp + 26, lladdr, 6);
	/* the checksum over the pseudo-header (addresses, length, next header) and the message */
	sum = ippkt_csum_add(0, ip + 8, 32);
	sum += 32 + 58;
	sum = ippkt_csum_add(sum, icmp, 32);
	c = ippkt_csum_fold(sum);
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	return FHR_ND_LEN;
}
