/*
 * The data-plane pipeline, modelled on a switch ASIC and kept pure (no
 * I/O): a batch of packet buffers goes through parse -> lookup (the
 * map-cache, all lookups of the batch interleaved) -> action -> rewrite ->
 * counters. Encapsulation builds outer IPv4/IPv6 + UDP 4341 + the LISP
 * header in the buffer's headroom (spec/lisp-wire.md §1: TTL and DSCP
 * copied, source port from the flow hash, nonce, instance-id); decap
 * checks the outer headers, applies the TTL rule and strips them.
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/ippkt.h"
#include "lib/lisp_data.h"
#include "xtr-gateway/xtr.h"

#define V4_OVERHEAD (IPPKT_V4_HDR_LEN + IPPKT_UDP_HDR_LEN + LISP_DATA_HDR_LEN)
#define V6_OVERHEAD (IPPKT_V6_HDR_LEN + IPPKT_UDP_HDR_LEN + LISP_DATA_HDR_LEN)

void dp_init(struct dp *dp, const struct mapcache *mc, const struct lisp_addr *rloc4,
	     const struct lisp_addr *rloc6, unsigned mtu)
{
	memset(dp, 0, sizeof(*dp));
	dp->mc = mc;
	if (rloc4)
		dp->rloc4 = *rloc4;
	if (rloc6)
		dp->rloc6 = *rloc6;
	dp->mtu = mtu;
	dp->nonce = 0x9e3779b9u;
}

static void count(struct dp *dp, struct dp_pkt *p, enum dp_reason r)
{
	p->reason = r;
	dp->c.packets[r]++;
	dp->c.bytes[r] += p->len;
}

static inline uint32_t mix(uint32_t h, uint32_t w)
{
	h ^= w * 0x9e3779b1u;
	return (h << 13 | h >> 19) * 5 + 0xe6546b64u;
}

/* Destination and a flow hash (addresses and protocol) of an inner IPv4/IPv6 packet; false if malformed. */
static bool inner_parse(const uint8_t *ip, size_t len, struct lisp_addr *dst, uint32_t *hash)
{
	uint32_t h;

	if (len >= IPPKT_V4_HDR_LEN && ip[0] >> 4 == 4) {
		if ((ip[0] & 0x0f) < 5 || (size_t)(ip[0] & 0x0f) * 4 > len ||
		    buf_load_be16(ip + 2) != len)
			return false;
		dst->afi = LISP_AFI_IPV4;
		memcpy(dst->u.v4, ip + 16, 4);
		h = mix(mix(ip[9], buf_load_be32(ip + 12)), buf_load_be32(ip + 16));
	} else if (len >= IPPKT_V6_HDR_LEN && ip[0] >> 4 == 6) {
		if ((size_t)buf_load_be16(ip + 4) + IPPKT_V6_HDR_LEN != len)
			return false;
		lisp_addr_set_v6(dst, ip + 24);
		h = ip[6];
		for (size_t i = 8; i < 40; i += 4)
			h = mix(h, buf_load_be32(ip + i));
	} else {
		return false;
	}
	h ^= h >> 16; /* murmur3's finaliser: every input bit reaches the low bits */
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	*hash = h ^ h >> 16;
	return true;
}

/* The IPv4 header checksum of 20 bytes, in 16-bit words. */
static inline uint16_t csum20(const uint8_t *o)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)o[i] << 8 | o[i + 1];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The locator for a flow: lowest priority among the up ones, then by weight on the hash. */
static const struct mc_locator *pick(const struct mc_fwd *f, uint32_t hash)
{
	unsigned best = 256, total = 0, point;
	const struct mc_locator *first = NULL;

	for (uint8_t i = 0; i < f->nloc; i++)
		if (f->locs[i].up && f->locs[i].priority < best && f->locs[i].priority != 255)
			best = f->locs[i].priority;
	for (uint8_t i = 0; i < f->nloc; i++)
		if (f->locs[i].up && f->locs[i].priority == best) {
			total += f->locs[i].weight;
			if (!first)
				first = &f->locs[i];
		}
	if (!first || total == 0)
		return first;
	point = hash % total;
	for (uint8_t i = 0; i < f->nloc; i++) {
		if (!f->locs[i].up || f->locs[i].priority != best)
			continue;
		if (point < f->locs[i].weight)
			return &f->locs[i];
		point -= f->locs[i].weight;
	}
	return first;
}

static uint32_t next_nonce(struct dp *dp)
{
	dp->nonce ^= dp->nonce << 13;
	dp->nonce ^= dp->nonce >> 17;
	dp->nonce ^= dp->nonce << 5;
	return dp->nonce & 0xffffff;
}

static void put_outer_v4(uint8_t *o, const struct lisp_addr *src, const struct lisp_addr *dst,
			 size_t total, uint8_t tos, uint8_t ttl)
{
	uint16_t c;

	o[0] = 0x45;
	o[1] = tos;
	o[2] = (uint8_t)(total >> 8);
	o[3] = (uint8_t)total;
	o[4] = o[5] = 0;
	o[6] = 0x40; /* DF */
	o[7] = 0;
	o[8] = ttl;
	o[9] = 17;
	o[10] = o[11] = 0;
	memcpy(o + 12, src->u.v4, 4);
	memcpy(o + 16, dst->u.v4, 4);
	c = csum20(o);
	o[10] = (uint8_t)(c >> 8);
	o[11] = (uint8_t)c;
}

static void put_outer_v6(uint8_t *o, const struct lisp_addr *src, const struct lisp_addr *dst,
			 size_t plen, uint8_t tc, uint8_t hops, uint32_t flow)
{
	uint32_t w = 6u << 28 | (uint32_t)tc << 20 | (flow & 0xfffff);

	o[0] = (uint8_t)(w >> 24);
	o[1] = (uint8_t)(w >> 16);
	o[2] = (uint8_t)(w >> 8);
	o[3] = (uint8_t)w;
	o[4] = (uint8_t)(plen >> 8);
	o[5] = (uint8_t)plen;
	o[6] = 17;
	o[7] = hops;
	memcpy(o + 8, src->u.v6, 16);
	memcpy(o + 24, dst->u.v6, 16);
}

/* Prepends outer IP + UDP + LISP to p toward loc; the reason when it cannot. */
static enum dp_reason encap(struct dp *dp, struct dp_pkt *p, const struct mc_locator *loc,
			    uint32_t hash)
{
	bool v4 = loc->addr.afi == LISP_AFI_IPV4;
	const struct lisp_addr *src = v4 ? &dp->rloc4 : &dp->rloc6;
	size_t oh = v4 ? V4_OVERHEAD : V6_OVERHEAD, ulen = p->len + IPPKT_UDP_HDR_LEN + 8;
	const uint8_t *in = p->buf + p->off;
	bool in4 = in[0] >> 4 == 4;
	uint8_t ttl = in4 ? in[8] : in[7];
	uint8_t tos = in4 ? in[1] : (uint8_t)((in[0] & 0x0f) << 4 | in[1] >> 4);
	uint8_t *o, *u;

	if (src->afi != loc->addr.afi)
		return DP_R_NO_RLOC;
	if (p->off < oh)
		return DP_R_NO_HEADROOM;
	if (p->len + oh > dp->mtu)
		return DP_R_TOO_BIG;
	o = p->buf + p->off - oh;
	if (v4)
		put_outer_v4(o, src, &loc->addr, p->len + oh, tos, ttl);
	else
		put_outer_v6(o, src, &loc->addr, ulen, tos, ttl, hash);
	u = o + (v4 ? IPPKT_V4_HDR_LEN : IPPKT_V6_HDR_LEN);
	u[0] = (uint8_t)(0xc0 | (hash >> 8 & 0x3f)); /* 49152 + 14 bits of the flow hash */
	u[1] = (uint8_t)hash;
	u[2] = LISP_DATA_PORT >> 8;
	u[3] = LISP_DATA_PORT & 0xff;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	u[6] = u[7] = 0; /* checksum 0 (RFC 9300 §5.3) */
	u[8] = 0x88;	 /* N and I */
	uint32_t nonce = next_nonce(dp);

	u[9] = (uint8_t)(nonce >> 16);
	u[10] = (uint8_t)(nonce >> 8);
	u[11] = (uint8_t)nonce;
	u[12] = (uint8_t)(p->iid >> 16);
	u[13] = (uint8_t)(p->iid >> 8);
	u[14] = (uint8_t)p->iid;
	u[15] = 0;
	p->off -= oh;
	p->len += oh;
	p->next_hop = loc->addr;
	return DP_R_ENCAP;
}

/* The action for a looked-up packet. */
static void act(struct dp *dp, struct dp_pkt *p, const struct mc_fwd *f, uint32_t hash)
{
	const struct mc_locator *loc;
	enum dp_reason r;

	switch (f->state) {
	case MC_COMPLETE:
		loc = pick(f, hash);
		r = loc ? encap(dp, p, loc, hash) : DP_R_NO_LOCATOR;
		p->verdict = r == DP_R_ENCAP ? DP_FORWARD : DP_DROP;
		break;
	case MC_PENDING:
		r = DP_R_PENDING; /* the glue may queue it until the Map-Reply */
		p->verdict = DP_PUNT;
		break;
	case MC_NEGATIVE:
		if (f->act == LISP_ACT_NATIVE_FORWARD) {
			r = DP_R_NATIVE;
			p->verdict = DP_NATIVE;
		} else if (f->act >= LISP_ACT_DROP && f->act <= LISP_ACT_DROP_AUTH) {
			r = DP_R_NEGATIVE_DROP;
			p->verdict = DP_DROP;
		} else {
			r = DP_R_MISS; /* send-map-request (and unknown actions) */
			p->verdict = DP_PUNT;
		}
		break;
	default:
		r = DP_R_MISS;
		p->verdict = DP_PUNT;
		break;
	}
	count(dp, p, r);
}

void dp_encap_batch(struct dp *dp, struct dp_pkt *pk, size_t n)
{
	uint32_t iid[DP_BATCH], hash[DP_BATCH];
	struct lisp_addr dst[DP_BATCH];
	struct mc_fwd fwd[DP_BATCH];
	size_t idx[DP_BATCH];

	for (size_t off = 0; off < n; off += DP_BATCH) {
		size_t k = 0, end = n - off < DP_BATCH ? n : off + DP_BATCH;

		for (size_t i = off; i < end; i++) {
			if (!inner_parse(pk[i].buf + pk[i].off, pk[i].len, &dst[k], &hash[k])) {
				pk[i].verdict = DP_DROP;
				count(dp, &pk[i], DP_R_MALFORMED);
				continue;
			}
			iid[k] = pk[i].iid;
			idx[k++] = i;
		}
		mc_lookup_batch(dp->mc, k, iid, dst, fwd);
		for (size_t j = 0; j < k; j++)
			act(dp, &pk[idx[j]], &fwd[j], hash[j]);
	}
}

/* Outer header length of a LISP data packet at o (len bytes), or 0 if it is not one. */
static size_t outer_len(const uint8_t *o, size_t len, uint8_t *ttl)
{
	size_t ip, udp_len;

	if (len >= IPPKT_V4_HDR_LEN && o[0] == 0x45) {
		if (buf_load_be16(o + 2) != len || o[9] != 17 || (buf_load_be16(o + 6) & 0x3fff))
			return 0; /* not UDP, or a fragment */
		ip = IPPKT_V4_HDR_LEN;
		*ttl = o[8];
	} else if (len >= IPPKT_V6_HDR_LEN && o[0] >> 4 == 6) {
		if ((size_t)buf_load_be16(o + 4) + IPPKT_V6_HDR_LEN != len || o[6] != 17)
			return 0;
		ip = IPPKT_V6_HDR_LEN;
		*ttl = o[7];
	} else {
		return 0;
	}
	if (len < ip + IPPKT_UDP_HDR_LEN + LISP_DATA_HDR_LEN + 1)
		return 0;
	udp_len = buf_load_be16(o + ip + 4);
	if (buf_load_be16(o + ip + 2) != LISP_DATA_PORT || udp_len != len - ip)
		return 0;
	return ip + IPPKT_UDP_HDR_LEN + LISP_DATA_HDR_LEN;
}

/* Inner TTL = min(inner, outer) (RFC 9300 §5.3), IPv4 checksum kept right. */
static bool inner_ttl(uint8_t *in, size_t len, uint8_t outer)
{
	uint16_t c;

	if (len >= IPPKT_V4_HDR_LEN && in[0] >> 4 == 4 && (in[0] & 0x0f) >= 5 &&
	    (size_t)(in[0] & 0x0f) * 4 <= len && buf_load_be16(in + 2) == len) {
		if (outer < in[8]) {
			in[8] = outer;
			in[10] = in[11] = 0;
			c = ippkt_csum_fold(ippkt_csum_add(0, in, (size_t)(in[0] & 0x0f) * 4));
			in[10] = (uint8_t)(c >> 8);
			in[11] = (uint8_t)c;
		}
		return true;
	}
	if (len >= IPPKT_V6_HDR_LEN && in[0] >> 4 == 6 &&
	    (size_t)buf_load_be16(in + 4) + IPPKT_V6_HDR_LEN == len) {
		if (outer < in[7])
			in[7] = outer;
		return true;
	}
	return false;
}

void dp_decap_batch(struct dp *dp, struct dp_pkt *pk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dp_pkt *p = &pk[i];
		uint8_t *o = p->buf + p->off, ttl = 0;
		size_t oh = outer_len(o, p->len, &ttl);
		struct lisp_data_hdr h;

		if (!oh ||
		    lisp_data_decode(o + oh - LISP_DATA_HDR_LEN, LISP_DATA_HDR_LEN, &h) < 0) {
			p->verdict = DP_DROP;
			count(dp, p, DP_R_NOT_LISP);
			continue;
		}
		if (!inner_ttl(o + oh, p->len - oh, ttl)) {
			p->verdict = DP_DROP;
			count(dp, p, DP_R_MALFORMED);
			continue;
		}
		p->iid = h.iid_present ? h.iid : 0;
		p->off += oh;
		p->len -= oh;
		p->verdict = DP_FORWARD;
		count(dp, p, DP_R_DECAP);
	}
}

const char *dp_reason_name(enum dp_reason r)
{
	static const char *names[DP_R_MAX] = {
		[DP_R_ENCAP] = "encapsulated",
		[DP_R_DECAP] = "decapsulated",
		[DP_R_NATIVE] = "native-forward",
		[DP_R_MISS] = "map-cache miss",
		[DP_R_PENDING] = "resolution pending",
		[DP_R_NEGATIVE_DROP] = "negative entry, drop",
		[DP_R_NO_LOCATOR] = "no usable locator",
		[DP_R_NO_RLOC] = "no RLOC of that family",
		[DP_R_TOO_BIG] = "too big for the MTU",
		[DP_R_NO_HEADROOM] = "no headroom",
		[DP_R_MALFORMED] = "malformed",
		[DP_R_NOT_LISP] = "not a LISP data packet",
	};

	return r < DP_R_MAX ? names[r] : "?";
}
