/* IPv4/IPv6 + UDP header codec. */
#include "lib/ippkt.h"

#include <errno.h>
#include <string.h>

/*
 * Sums native-order words 8 bytes at a time with end-around carry and
 * swaps the folded result into network order (the one's-complement sum
 * does not depend on byte order, RFC 1071 §2(B)).
 */
uint32_t ippkt_csum_add(uint32_t sum, const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t acc = 0, w;
	uint32_t w4;
	uint16_t w2;

	while (n >= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
		p += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w4, p, 4);
		acc += w4;
		acc += acc < w4;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w2, p, 2);
		acc += w2;
		acc += acc < w2;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { p[0], 0 }; /* an odd byte is the high one of a last word */

		memcpy(&w2, last, 2);
		acc += w2;
		acc += acc < w2;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	w2 = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w2 = (uint16_t)(w2 >> 8 | w2 << 8);
#endif
	return sum + w2;
}

uint16_t ippkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum for UDP over IPv4 or IPv6 (RFC 768, RFC 8200 §8.1). */
static uint32_t pseudo_sum(const struct lisp_addr *src, const struct lisp_addr *dst, size_t udp_len)
{
	size_t alen = src->afi == LISP_AFI_IPV4 ? 4 : 16;
	uint32_t sum = 0;

	sum = ippkt_csum_add(sum, src->u.b, alen);
	sum = ippkt_csum_add(sum, dst->u.b, alen);
	sum += 17;
	sum += (uint32_t)(udp_len >> 16) + (uint32_t)(udp_len & 0xffff);
	return sum;
}

static uint16_t udp_csum(const struct lisp_addr *src, const struct lisp_addr *dst,
			 const uint8_t *udp, size_t udp_len)
{
	uint16_t c = ippkt_csum_fold(ippkt_csum_add(pseudo_sum(src, dst, udp_len), udp, udp_len));

	return c == 0 ? 0xffff : c;
}

static void put_ipv4(struct buf_writer *w, const struct ippkt_udp *h, size_t total)
{
	uint8_t *ip = buf_put_reserve(w, IPPKT_V4_HDR_LEN);
	uint16_t c;

	if (!ip)
		return;
	ip[0] = 0x45;
	ip[1] = h->tos;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[4] = (uint8_t)(h->ip_id >> 8);
	ip[5] = (uint8_t)h->ip_id;
	ip[6] = h->df ? 0x40 : 0;
	ip[7] = 0;
	ip[8] = h->ttl;
	ip[9] = 17;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, h->src.u.v4, 4);
	memcpy(ip + 16, h->dst.u.v4, 4);
	c = ippkt_csum_fold(ippkt_csum_add(0, ip, IPPKT_V4_HDR_LEN));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

static void put_ipv6(struct buf_writer *w, const struct ippkt_udp *h, size_t plen)
{
	buf_put_be32(w, 6u << 28 | (uint32_t)h->tos << 20);
	buf_put_be16(w, (uint16_t)plen);
	buf_put_u8(w, 17);
	buf_put_u8(w, h->ttl);
	buf_put_bytes(w, h->src.u.v6, 16);
	buf_put_bytes(w, h->dst.u.v6, 16);
}

int ippkt_encode_udp(struct buf_writer *w, const struct ippkt_udp *h, const void *payload,
		     size_t len)
{
	size_t udp_len = IPPKT_UDP_HDR_LEN + len;
	bool v4 = h->src.afi == LISP_AFI_IPV4;
	size_t udp_at;
	uint16_t c;

	if (h->src.afi != h->dst.afi || (!v4 && h->src.afi != LISP_AFI_IPV6))
		return -EINVAL;
	if (udp_len + (v4 ? IPPKT_V4_HDR_LEN : 0) > 0xffff)
		return -EINVAL;
	if (v4)
		put_ipv4(w, h, IPPKT_V4_HDR_LEN + udp_len);
	else
		put_ipv6(w, h, udp_len);
	udp_at = w->off;
	buf_put_be16(w, h->sport);
	buf_put_be16(w, h->dport);
	buf_put_be16(w, (uint16_t)udp_len);
	buf_put_be16(w, 0);
	buf_put_bytes(w, payload, len);
	if (w->err)
		return w->err;
	if (!h->udp_csum0) {
		c = udp_csum(&h->src, &h->dst, w->p + udp_at, udp_len);
		buf_patch_be16(w, udp_at + 6, c);
	}
	return 0;
}

static int get_ipv4(struct buf_reader *r, size_t len, struct ippkt_udp *out)
{
	const uint8_t *ip = buf_peek(r, IPPKT_V4_HDR_LEN);
	size_t ihl, total;

	if (!ip)
		return -EBADMSG;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = buf_load_be16(ip + 2);
	if (ihl < IPPKT_V4_HDR_LEN || total < ihl || total > len || !buf_peek(r, ihl))
		return -EBADMSG;
	if (ippkt_csum_fold(ippkt_csum_add(0, ip, ihl)) != 0)
		return -EBADMSG;
	if ((buf_load_be16(ip + 6) & 0x3fff) != 0 || ip[9] != 17)
		return -EPROTONOSUPPORT;
	out->tos = ip[1];
	out->ip_id = buf_load_be16(ip + 4);
	out->df = (ip[6] & 0x40) != 0;
	out->ttl = ip[8];
	lisp_addr_set_v4(&out->src, ip + 12);
	lisp_addr_set_v4(&out->dst, ip + 16);
	buf_skip(r, ihl);
	r->len = total; /* ignore link padding after the IP datagram */
	return 0;
}

static int get_ipv6(struct buf_reader *r, struct ippkt_udp *out)
{
	const uint8_t *ip = buf_get_view(r, IPPKT_V6_HDR_LEN);
	size_t plen;

	if (!ip)
		return -EBADMSG;
	plen = buf_load_be16(ip + 4);
	if (plen > buf_remaining(r))
		return -EBADMSG;
	if (ip[6] != 17)
		return -EPROTONOSUPPORT;
	out->tos = (uint8_t)(buf_load_be16(ip) >> 4);
	out->ttl = ip[7];
	lisp_addr_set_v6(&out->src, ip + 8);
	lisp_addr_set_v6(&out->dst, ip + 24);
	r->len = r->off + plen;
	return 0;
}

int ippkt_decode_udp(const uint8_t *pkt, size_t len, bool verify_udp, struct ippkt_udp *out)
{
	struct buf_reader r;
	const uint8_t *udp;
	size_t udp_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -EBADMSG;
	buf_reader_init(&r, pkt, len);
	switch (pkt[0] >> 4) {
	case 4:
		rc = get_ipv4(&r, len, out);
		break;
	case 6:
		rc = get_ipv6(&r, out);
		break;
	default:
		rc = -EPROTONOSUPPORT;
	}
	if (rc < 0)
		return rc;
	udp = buf_peek(&r, IPPKT_UDP_HDR_LEN);
	if (!udp)
		return -EBADMSG;
	udp_len = buf_load_be16(udp + 4);
	if (udp_len < IPPKT_UDP_HDR_LEN || udp_len != buf_remaining(&r))
		return -EBADMSG;
	out->sport = buf_load_be16(udp);
	out->dport = buf_load_be16(udp + 2);
	out->udp_csum0 = buf_load_be16(udp + 6) == 0;
	if (verify_udp && (out->udp_csum0 ||
			   ippkt_csum_fold(ippkt_csum_add(pseudo_sum(&out->src, &out->dst, udp_len),
							  udp, udp_len)) != 0))
		return -EBADMSG;
	out->payload = udp + IPPKT_UDP_HDR_LEN;
	out->payload_len = udp_len - IPPKT_UDP_HDR_LEN;
	return 0;
}
