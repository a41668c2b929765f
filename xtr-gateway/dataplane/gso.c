/*
 * Segmentation offload between the TUN device and the pipeline
 * (dataplane/gso.h). With IFF_VNET_HDR and TSO the kernel hands the data plane
 * TCP segments of up to 64 KiB with a virtio-net header; gso_split() cuts
 * one into MSS-sized packets with their own IP and TCP headers and full
 * checksums, each in its own buffer, as if the host had sent them, so the
 * pipeline sees ordinary packets. The other way, gro_build() gathers
 * consecutive decapsulated TCP packets of one flow back into one segment
 * with a virtio-net header, so that one write() to the TUN carries many
 * (Linux's own GRO rules: same flow, in order, same headers but lengths,
 * sequence and checksums, only ACK/PSH set). No OS calls.
 */
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/ippkt.h"
#include "xtr-gateway/dataplane/gso.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* (Linux 5.18; Debian 12's headers predate it) */
#endif
#define UDP_SEGS_MAX                                                                               \
	8 /* datagrams in one UDP segment we build: a receiver without UDP_GRO gets
			 * them all at once (more overflowed its default socket buffer) */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* Where the TCP header of an IPv4/IPv6 packet starts, or 0 when it is not a plain TCP packet. */
static size_t tcp_at(const uint8_t *p, size_t len, bool *v4)
{
	size_t ihl;

	if (len >= IPPKT_V4_HDR_LEN && p[0] >> 4 == 4) {
		ihl = (size_t)(p[0] & 0x0f) * 4;
		if (ihl < IPPKT_V4_HDR_LEN || p[9] != 6 || (buf_load_be16(p + 6) & 0x3fff))
			return 0; /* not TCP, or a fragment */
		*v4 = true;
	} else if (len >= IPPKT_V6_HDR_LEN && p[0] >> 4 == 6) {
		if (p[6] != 6)
			return 0; /* extension headers: not cut here */
		ihl = IPPKT_V6_HDR_LEN;
		*v4 = false;
	} else {
		return 0;
	}
	if (len < ihl + 20 || len < ihl + (size_t)(p[ihl + 12] >> 4) * 4 || (p[ihl + 12] >> 4) < 5)
		return 0;
	return ihl;
}

/* The pseudo-header sum of an l4len-byte TCP (6) or UDP (17) packet (RFC 9293, RFC 8200 §8.1). */
static uint32_t pseudo(const uint8_t *ip, bool v4, size_t l4len, uint8_t proto)
{
	if (v4)
		return ippkt_csum_add(0, ip + 12, 8) + proto + (uint32_t)l4len;
	return ippkt_csum_add(0, ip + 8, 32) + proto + (uint32_t)(l4len >> 16) +
	       (uint32_t)(l4len & 0xffff);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ip4_csum(uint8_t *ip)
{
	ip[10] = ip[11] = 0;
	put16(ip + 10, ippkt_csum_fold(ippkt_csum_add(0, ip, (size_t)(ip[0] & 0x0f) * 4)));
}

/* The IP header of a packet now len bytes long: its length; IPv4 also id (when given), checksum. */
static void ip_fix(uint8_t *ip, bool v4, size_t len, const uint16_t *id)
{
	if (!v4) {
		put16(ip + 4, (uint16_t)(len - IPPKT_V6_HDR_LEN));
		return;
	}
	put16(ip + 2, (uint16_t)len);
	if (id)
		put16(ip + 4, *id);
	ip4_csum(ip);
}

/* The TCP checksum of the packet at ip (TCP header at th, l4len bytes from there), written. */
static void tcp_csum(uint8_t *ip, bool v4, size_t th, size_t l4len)
{
	uint8_t *t = ip + th;

	t[16] = t[17] = 0;
	put16(t + 16, ippkt_csum_fold(ippkt_csum_add(pseudo(ip, v4, l4len, 6), t, l4len)));
}

/* A UDP segment (USO: the kernel joined datagrams of one flow) cut into its datagrams. */
static int uso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len,
		     struct gso_out *out)
{
	size_t ih, payload, seg = vh->gso_size, nseg;
	uint16_t id;
	bool v4;

	if (len >= IPPKT_V4_HDR_LEN && pkt[0] == 0x45 && pkt[9] == 17 &&
	    !(buf_load_be16(pkt + 6) & 0x3fff)) {
		ih = IPPKT_V4_HDR_LEN;
		v4 = true;
	} else if (len >= IPPKT_V6_HDR_LEN && pkt[0] >> 4 == 6 && pkt[6] == 17) {
		ih = IPPKT_V6_HDR_LEN;
		v4 = false;
	} else {
		return -EINVAL;
	}
	if (!seg || len <= ih + 8)
		return -EINVAL;
	payload = len - ih - 8;
	nseg = (payload + seg - 1) / seg;
	if (nseg > out->max || ih + 8 + seg > out->cap)
		return -EMSGSIZE;
	id = v4 ? buf_load_be16(pkt + 4) : 0;
	for (size_t i = 0; i < nseg; i++) {
		size_t chunk = i + 1 < nseg ? seg : payload - i * seg;
		uint8_t *d = out->bufs[i], *u = d + ih;
		uint16_t c;

		memcpy(d, pkt, ih + 8);
		memcpy(d + ih + 8, pkt + ih + 8 + i * seg, chunk);
		ip_fix(d, v4, ih + 8 + chunk, &(uint16_t){ (uint16_t)(id + i) });
		put16(u + 4, (uint16_t)(8 + chunk));
		u[6] = u[7] = 0;
		c = ippkt_csum_fold(ippkt_csum_add(pseudo(d, v4, 8 + chunk, 17), u, 8 + chunk));
		put16(u + 6, c ? c : 0xffff);
		out->lens[i] = ih + 8 + chunk;
	}
	out->n = nseg;
	return (int)nseg;
}

int gso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, struct gso_out *out)
{
	bool v4 = false;
	size_t th, thl, hdr, payload, mss, nseg;
	uint32_t seq;
	uint16_t id;
	uint8_t flags;

	out->n = 0;
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		uint8_t *d;

		if (len > out->cap || out->max < 1)
			return -EMSGSIZE;
		d = out->bufs[0];
		memcpy(d, pkt, len);
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			size_t start = vh->csum_start, at = start + vh->csum_offset;
			uint16_t c;

			if (start >= len || at + 2 > len)
				return -EINVAL;
			/* the field holds the pseudo-header sum: the sum from start completes it */
			c = ippkt_csum_fold(ippkt_csum_add(0, d + start, len - start));
			if (c == 0 && vh->csum_offset == 6)
				c = 0xffff; /* UDP: 0 means none */
			put16(d + at, c);
		}
		out->lens[0] = len;
		out->n = 1;
		return 1;
	}
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4)
		return uso_split(vh, pkt, len, out);
	if ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EPROTONOSUPPORT; /* we ask the TUN for TSO and USO only */
	th = tcp_at(pkt, len, &v4);
	if (!th || v4 != ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4))
		return -EINVAL;
	thl = (size_t)(pkt[th + 12] >> 4) * 4;
	hdr = th + thl;
	mss = vh->gso_size;
	if (!mss || len <= hdr)
		return -EINVAL;
	payload = len - hdr;
	nseg = (payload + mss - 1) / mss;
	if (nseg > out->max || hdr + mss > out->cap)
		return -EMSGSIZE;
	seq = buf_load_be32(pkt + th + 4);
	id = v4 ? buf_load_be16(pkt + 4) : 0;
	flags = pkt[th + 13];
	for (size_t i = 0; i < nseg; i++) {
		size_t chunk = i + 1 < nseg ? mss : payload - i * mss;
		uint8_t *d = out->bufs[i], *t = d + th;

		memcpy(d, pkt, hdr);
		memcpy(d + hdr, pkt + hdr + i * mss, chunk);
		ip_fix(d, v4, hdr + chunk, &(uint16_t){ (uint16_t)(id + i) });
		t[4] = (uint8_t)((seq + i * mss) >> 24);
		t[5] = (uint8_t)((seq + i * mss) >> 16);
		t[6] = (uint8_t)((seq + i * mss) >> 8);
		t[7] = (uint8_t)(seq + i * mss);
		t[13] = flags;
		if (i + 1 < nseg)
			t[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH); /* on the last one only */
		if (i)
			t[13] &= (uint8_t)~TCP_CWR; /* on the first one only */
		tcp_csum(d, v4, th, thl + chunk);
		out->lens[i] = hdr + chunk;
	}
	out->n = nseg;
	return (int)nseg;
}

/* Can packet b (TCP at bth) follow the segment being built at a (TCP at ath) in one GRO unit? */
static bool follows(const uint8_t *a, size_t ath, size_t alen_first, uint32_t next_seq,
		    const uint8_t *b, size_t blen, size_t bth, bool v4)
{
	size_t athl = (size_t)(a[ath + 12] >> 4) * 4, bthl = (size_t)(b[bth + 12] >> 4) * 4;

	if (ath != bth || athl != bthl)
		return false;
	if (v4) {
		/* same addresses, TOS, TTL, DF; only the length, id and checksum differ */
		if (memcmp(a + 12, b + 12, 8) != 0 || a[1] != b[1] || a[8] != b[8] ||
		    (a[6] & 0x40) != (b[6] & 0x40) || ath != IPPKT_V4_HDR_LEN)
			return false;
	} else if (memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 34) != 0) {
		return false; /* traffic class, flow label, next header, hop limit, addresses */
	}
	if (memcmp(a + ath, b + bth, 4) != 0 || buf_load_be32(b + bth + 4) != next_seq ||
	    memcmp(a + ath + 8, b + bth + 8, 4) != 0 ||		/* ack */
	    memcmp(a + ath + 14, b + bth + 14, 2) != 0 ||	/* window */
	    memcmp(a + ath + 20, b + bth + 20, athl - 20) != 0) /* options */
		return false;
	if ((b[bth + 13] & ~TCP_PSH) != TCP_ACK)
		return false;
	return blen - bth - bthl <= alen_first && blen - bth - bthl > 0;
}

/* Where the UDP header of a plain (unfragmented) IPv4/IPv6 UDP packet starts, or 0. */
static size_t udp_at(const uint8_t *p, size_t len, bool *v4)
{
	size_t ihl;

	if (len >= IPPKT_V4_HDR_LEN && p[0] == 0x45) {
		if (p[9] != 17 || (buf_load_be16(p + 6) & 0x3fff) || buf_load_be16(p + 2) != len)
			return 0;
		ihl = IPPKT_V4_HDR_LEN;
		*v4 = true;
	} else if (len >= IPPKT_V6_HDR_LEN && p[0] >> 4 == 6) {
		if (p[6] != 17 || (size_t)buf_load_be16(p + 4) + IPPKT_V6_HDR_LEN != len)
			return 0;
		ihl = IPPKT_V6_HDR_LEN;
		*v4 = false;
	} else {
		return 0;
	}
	if (len < ihl + 8 || buf_load_be16(p + ihl + 4) != len - ihl)
		return 0;
	return ihl;
}

/* u: the segment in buf (total bytes) and its virtio-net header (checksum left to the kernel). */
static void gathered(struct gro_unit *u, uint8_t type, size_t hdr, size_t seg, size_t l4,
		     uint16_t csum_offset, const uint8_t *buf, size_t total)
{
	u->vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					 .gso_type = type,
					 .hdr_len = (uint16_t)hdr,
					 .gso_size = (uint16_t)seg,
					 .csum_start = (uint16_t)l4,
					 .csum_offset = csum_offset };
	u->buf = buf;
	u->len = total;
}

/* UDP datagrams of one flow, equal in size but the last, as one UDP segment (USO). */
static size_t gro_udp(const uint8_t *const *pkts, const size_t *lens, size_t n, struct gro_unit *u,
		      uint8_t *buf, size_t cap)
{
	const uint8_t *a = pkts[0];
	bool v4 = false, bv4 = false;
	size_t ih = udp_at(a, lens[0], &v4), first, total, k;
	uint8_t *h;

	if (!ih || lens[0] <= ih + 8)
		return 1;
	first = lens[0] - ih - 8;
	total = lens[0];
	for (k = 1; k < n && k < UDP_SEGS_MAX; k++) {
		const uint8_t *b = pkts[k];
		size_t seg;

		if (udp_at(b, lens[k], &bv4) != ih || bv4 != v4 || lens[k - 1] != lens[0])
			break;
		if (v4 ? memcmp(a + 12, b + 12, 8) != 0 || a[1] != b[1] || a[8] != b[8] ||
				    (a[6] & 0x40) != (b[6] & 0x40)
		       : memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 34) != 0)
			break;
		if (memcmp(a + ih, b + ih, 4) != 0) /* ports */
			break;
		seg = lens[k] - ih - 8;
		if (!seg || seg > first || total + seg > 65535 || total + seg > cap)
			break;
		total += seg;
	}
	if (k < 2)
		return 1;
	memcpy(buf, a, lens[0]);
	total = lens[0];
	for (size_t i = 1; i < k; i++) {
		memcpy(buf + total, pkts[i] + ih + 8, lens[i] - ih - 8);
		total += lens[i] - ih - 8;
	}
	ip_fix(buf, v4, total, NULL);
	h = buf + ih;
	put16(h + 4, (uint16_t)(total - ih)); /* the kernel sets each datagram's from it */
	h[6] = h[7] = 0;
	put16(h + 6, (uint16_t)~ippkt_csum_fold(pseudo(buf, v4, total - ih, 17)));
	gathered(u, VIRTIO_NET_HDR_GSO_UDP_L4, ih + 8, first, ih, 6, buf, total);
	return k;
}

size_t gro_build(const uint8_t *const *pkts, const size_t *lens, size_t n, struct gro_unit *u,
		 uint8_t *buf, size_t cap, bool udp)
{
	const uint8_t *a = pkts[0];
	size_t th, thl, hdr, first, total, k;
	uint32_t next;
	bool v4 = false;
	uint8_t *t;

	memset(&u->vh, 0, sizeof(u->vh));
	u->buf = NULL;
	u->len = lens[0];
	if (n < 2)
		return 1;
	th = tcp_at(a, lens[0], &v4);
	if (!th && udp)
		return gro_udp(pkts, lens, n, u, buf, cap);
	if (!th || (a[th + 13] & ~TCP_PSH) != TCP_ACK)
		return 1; /* alone, as it came */
	thl = (size_t)(a[th + 12] >> 4) * 4;
	hdr = th + thl;
	if (lens[0] <= hdr || (v4 && th != IPPKT_V4_HDR_LEN))
		return 1;
	first = lens[0] - hdr;
	if (v4 ? buf_load_be16(a + 2) != lens[0]
	       : (size_t)buf_load_be16(a + 4) + IPPKT_V6_HDR_LEN != lens[0])
		return 1;
	next = buf_load_be32(a + th + 4) + (uint32_t)first;
	total = lens[0];
	for (k = 1; k < n; k++) {
		const uint8_t *b = pkts[k];
		size_t bth, seg;
		bool bv4 = false;

		if (a[th + 13] & TCP_PSH && k == 1)
			break; /* PSH ends a unit */
		bth = tcp_at(b, lens[k], &bv4);
		if (!bth || bv4 != v4 || !follows(a, th, first, next, b, lens[k], bth, v4) ||
		    (v4 ? buf_load_be16(b + 2) != lens[k]
			: (size_t)buf_load_be16(b + 4) + IPPKT_V6_HDR_LEN != lens[k]))
			break;
		seg = lens[k] - hdr;
		if (total + seg > 65535 || total + seg > cap)
			break;
		if (k > 1 && (lens[k - 1] - hdr) != first)
			break; /* only the last may be shorter */
		total += seg;
		next += (uint32_t)seg;
		if (b[bth + 13] & TCP_PSH) {
			k++;
			break;
		}
	}
	if (k < 2)
		return 1;
	/* one segment: the first's headers, every payload, the flags of the last */
	memcpy(buf, a, lens[0]);
	total = lens[0];
	for (size_t i = 1; i < k; i++) {
		memcpy(buf + total, pkts[i] + hdr, lens[i] - hdr);
		total += lens[i] - hdr;
	}
	t = buf + th;
	t[13] = pkts[k - 1][th + 13];
	ip_fix(buf, v4, total, NULL);
	/* the kernel finishes the checksum (per segment, if it cuts again): the pseudo-header sum */
	t[16] = t[17] = 0;
	put16(t + 16, (uint16_t)~ippkt_csum_fold(pseudo(buf, v4, total - th, 6)));
	gathered(u, v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6, hdr, first, th, 16,
		 buf, total);
	return k;
}
