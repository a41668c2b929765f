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
#include "lib/lpmh.h"
#include "xtr-gateway/xtr.h" /* struct etr_local: the ETR's table */

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
	dp->petr.state = MC_COMPLETE;
	dp->petr.locs = dp->petr_locs;
}

void dp_set_petrs(struct dp *dp, const struct xtr_conf_dp *conf)
{
	dp->petr.nloc = 0;
	for (size_t i = 0; i < conf->npetrs && i < XTR_PETR_MAX; i++)
		dp->petr_locs[dp->petr.nloc++] = (struct mc_locator){
			.addr = conf->petrs[i].addr,
			.priority = conf->petrs[i].priority,
			.weight = conf->petrs[i].weight,
			.up = true,
		};
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

/* Does an inner packet of protocol proto carry ports (TCP, UDP, SCTP) to hash? */
static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

/*
 * Source, destination and a flow hash of an inner IPv4/IPv6 packet (its
 * 5-tuple; addresses and protocol alone for a fragment or another
 * protocol, so that one flow always hashes the same); false if malformed.
 */
static bool inner_parse(const uint8_t *ip, size_t len, struct lisp_addr *src, struct lisp_addr *dst,
			uint32_t *hash)
{
	uint32_t h;

	if (len >= IPPKT_V4_HDR_LEN && ip[0] >> 4 == 4) {
		if ((ip[0] & 0x0f) < 5 || (size_t)(ip[0] & 0x0f) * 4 > len ||
		    buf_load_be16(ip + 2) != len)
			return false;
		src->afi = dst->afi = LISP_AFI_IPV4;
		memcpy(src->u.v4, ip + 12, 4);
		memcpy(dst->u.v4, ip + 16, 4);
		h = mix(mix(ip[9], buf_load_be32(ip + 12)), buf_load_be32(ip + 16));
		if (has_ports(ip[9]) && !(buf_load_be16(ip + 6) & 0x3fff) && /* MF, offset */
		    len >= (size_t)(ip[0] & 0x0f) * 4 + 4)
			h = mix(h, buf_load_be32(ip + (ip[0] & 0x0f) * 4));
	} else if (len >= IPPKT_V6_HDR_LEN && ip[0] >> 4 == 6) {
		if ((size_t)buf_load_be16(ip + 4) + IPPKT_V6_HDR_LEN != len)
			return false;
		lisp_addr_set_v6(src, ip + 8);
		lisp_addr_set_v6(dst, ip + 24);
		h = ip[6];
		for (size_t i = 8; i < 40; i += 4)
			h = mix(h, buf_load_be32(ip + i));
		if (has_ports(ip[6]) && len >= IPPKT_V6_HDR_LEN + 4)
			h = mix(h, buf_load_be32(ip + IPPKT_V6_HDR_LEN));
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
static struct mc_locator *pick(const struct mc_fwd *f, uint32_t hash)
{
	unsigned best = 256, total = 0, point;
	struct mc_locator *first = NULL;

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
	uint16_t sport;

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
	/* 49152 + the flow hash's low bits (14 unless the I/O sends from a pool of ports) */
	sport = (uint16_t)(0xc000 | (hash & (dp->sport_mask ? dp->sport_mask : 0x3fff)));
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
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

/*
 * Counters and liveness kept in the control plane's entries: workers on
 * other threads update the same entries (each under the read lock), so
 * these are relaxed atomics; the control plane reads them under the write
 * lock, when no worker runs.
 */
static inline void add64(uint64_t *v, uint64_t n)
{
	__atomic_fetch_add(v, n, __ATOMIC_RELAXED);
}

/* Encapsulates p toward a locator of f; why (ok: the reason on success). */
static enum dp_reason encap_to(struct dp *dp, struct dp_pkt *p, const struct mc_fwd *f,
			       uint32_t hash, enum dp_reason ok)
{
	struct mc_locator *loc = pick(f, hash);
	enum dp_reason r = loc ? encap(dp, p, loc, hash) : DP_R_NO_LOCATOR;

	if (r == DP_R_ENCAP) {
		add64(&loc->packets, 1);
		add64(&loc->bytes, p->len);
		p->verdict = DP_FORWARD;
		return ok;
	}
	p->verdict = DP_DROP;
	return r;
}

/* Link-local, multicast and limited broadcast destinations: no EID, never resolved. */
static inline bool not_routable(const struct lisp_addr *a)
{
	if (a->afi == LISP_AFI_IPV4)
		return a->u.v4[0] >= 224 || (a->u.v4[0] == 169 && a->u.v4[1] == 254);
	return a->u.v6[0] == 0xff || (a->u.v6[0] == 0xfe && (a->u.v6[1] & 0xc0) == 0x80);
}

/* The action for a looked-up packet. */
static void act(struct dp *dp, struct dp_pkt *p, const struct mc_fwd *f, uint32_t hash)
{
	enum dp_reason r;

	switch (f->state) {
	case MC_COMPLETE:
		r = encap_to(dp, p, f, hash, DP_R_ENCAP);
		break;
	case MC_PENDING:
		r = DP_R_PENDING; /* the glue may queue it until the Map-Reply */
		p->verdict = DP_PUNT;
		break;
	case MC_NEGATIVE:
		if (f->act == LISP_ACT_NATIVE_FORWARD && dp->petr.nloc) {
			r = encap_to(dp, p, &dp->petr, hash, DP_R_PETR);
		} else if (f->act == LISP_ACT_NATIVE_FORWARD) {
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

/* The away entry's locators as a forwarding entry. */
static void away_fwd(const struct etr_local *l, struct mc_fwd *f)
{
	*f = (struct mc_fwd){ .state = MC_COMPLETE, .nloc = l->nloc, .locs = l->locs };
}

/* Liveness of a local EID seen in a packet. */
static inline void touch(struct dp *dp, void *v)
{
	struct etr_local *l = v;

	__atomic_store(&l->last_packet, &dp->now, __ATOMIC_RELAXED);
	add64(&l->packets, 1);
}

/* A packet from a learned host: it is alive (its learning timeout counts from here). */
static inline void touch_from(struct dp *dp, void *v)
{
	struct etr_local *l = v;

	__atomic_store(&l->last_from, &dp->now, __ATOMIC_RELAXED);
	touch(dp, v);
}

void dp_encap_batch(struct dp *dp, struct dp_pkt *pk, size_t n)
{
	uint32_t iid[2 * DP_BATCH], hash[DP_BATCH];
	struct lisp_addr addr[2 * DP_BATCH]; /* destinations, then sources */
	struct mc_fwd fwd[DP_BATCH];
	void *loc[2 * DP_BATCH];
	size_t idx[DP_BATCH];
	bool check = dp->local && lpmh_count(dp->local);

	for (size_t off = 0; off < n; off += DP_BATCH) {
		size_t k = 0, end = n - off < DP_BATCH ? n : off + DP_BATCH;

		for (size_t i = off; i < end; i++) {
			pk[i].flags = 0;
			pk[i].inner = pk[i].off;
			if (!inner_parse(pk[i].buf + pk[i].off, pk[i].len, &addr[DP_BATCH + k],
					 &addr[k], &hash[k])) {
				pk[i].verdict = DP_DROP;
				count(dp, &pk[i], DP_R_MALFORMED);
				continue;
			}
			if (not_routable(&addr[k])) {
				pk[i].verdict = DP_DROP;
				count(dp, &pk[i], DP_R_LINK_LOCAL);
				continue;
			}
			iid[k] = iid[DP_BATCH + k] = pk[i].iid;
			idx[k++] = i;
		}
		mc_lookup_batch(dp->mc, k, iid, addr, fwd);
		if (check) {
			/* the local table: is the destination away, is the source a new EID */
			memmove(&addr[k], &addr[DP_BATCH], k * sizeof(addr[0]));
			memmove(&iid[k], &iid[DP_BATCH], k * sizeof(iid[0]));
			lpmh_lookup_batch(dp->local, 2 * k, iid, addr, loc);
		}
		for (size_t j = 0; j < k; j++) {
			struct dp_pkt *p = &pk[idx[j]];
			const struct etr_local *src = check ? loc[k + j] : NULL;
			const struct etr_local *dst = check ? loc[j] : NULL;

			if (src && src->kind == LOCAL_DYN_POLICY &&
			    (src->flags & LOCAL_F_NO_LEARN)) {
				/* not learned from data here: counted, the packet goes on */
				add64(&((struct etr_local *)loc[k + j])->packets, 1);
			} else if (src && src->kind == LOCAL_DYN_POLICY) {
				p->flags |= DP_F_LEARN; /* punt a copy, as a switch would */
				p->aux = addr[k + j];
			} else if (src && src->kind == LOCAL_DYN_HOST) {
				touch_from(dp, loc[k + j]);
			}
			if (dst && dst->kind == LOCAL_AWAY) {
				struct mc_fwd f;

				away_fwd(dst, &f);
				touch(dp, loc[j]);
				count(dp, p, encap_to(dp, p, &f, hash[j], DP_R_AWAY));
				continue;
			}
			act(dp, p, &fwd[j], hash[j]);
		}
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

/*
 * A router's hop for an inner packet we send on ourselves (no kernel
 * routes it): TTL / hop limit minus one, the IPv4 header checksum
 * updated incrementally (RFC 1624: HC' = ~(~HC + ~m + m')); false if
 * it would reach 0 (the packet must go no further).
 */
static bool inner_hop(uint8_t *in)
{
	uint32_t c;
	uint16_t old;

	if (in[0] >> 4 == 6) {
		if (in[7] <= 1)
			return false;
		in[7]--;
		return true;
	}
	if (in[8] <= 1)
		return false;
	old = buf_load_be16(in + 8); /* TTL and protocol */
	in[8]--;
	c = (uint16_t)~buf_load_be16(in + 10);
	c += (uint16_t)~old;
	c += buf_load_be16(in + 8);
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	in[10] = (uint8_t)(~c >> 8);
	in[11] = (uint8_t)~c;
	return true;
}

/* Is l a host whose VM is leaving (its packets are held)? */
static inline bool leaving(const struct etr_local *l)
{
	return l && l->kind == LOCAL_DYN_HOST &&
	       (__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & LOCAL_F_LEAVING);
}

/*
 * What becomes of a decapsulated packet p (off at its inner header) for
 * local entry v of its destination: re-encapsulated to the new site of an
 * away EID (flagged for an SMR if smr), held for a leaving host (punted),
 * dropped if the destination is not ours; true if it is to be delivered
 * here (the caller counts it).
 */
static bool deliver_local(struct dp *dp, struct dp_pkt *p, void *v, uint32_t hash, bool smr)
{
	const struct etr_local *l = v;

	if (l && l->kind == LOCAL_AWAY) {
		struct mc_fwd f;

		/* sent on to the new site: a hop, so that two sites that point an EID at each
		 * other do not loop it until the outer TTL ends */
		if (!inner_hop(p->buf + p->off)) {
			p->verdict = DP_DROP;
			count(dp, p, DP_R_TTL_EXCEEDED);
			return false;
		}
		away_fwd(l, &f);
		touch(dp, v);
		if (smr)
			p->flags |= DP_F_SMR; /* aux: the ITR that has it wrong */
		count(dp, p, encap_to(dp, p, &f, hash, DP_R_AWAY));
		return false;
	}
	if (dp->local && !l && !dp->proxy_etr) {
		p->verdict = DP_DROP;
		count(dp, p, DP_R_NOT_LOCAL);
		return false;
	}
	if (leaving(l)) {
		p->verdict = DP_PUNT; /* held until it is known where it went, or that it stays */
		p->reason = DP_R_LEAVING;
		if (!smr)
			return false; /* held already: counted then */
		touch(dp, v);
		count(dp, p, DP_R_LEAVING);
		return false;
	}
	if (l && l->kind == LOCAL_DYN_HOST)
		touch(dp, v);
	return true;
}

void dp_deliver_batch(struct dp *dp, struct dp_pkt *pk, size_t n)
{
	uint32_t iid[DP_BATCH], hash[DP_BATCH];
	struct lisp_addr dst[DP_BATCH], src[DP_BATCH];
	void *loc[DP_BATCH];
	size_t idx[DP_BATCH];

	for (size_t off = 0; off < n; off += DP_BATCH) {
		size_t k = 0, end = n - off < DP_BATCH ? n : off + DP_BATCH;

		for (size_t i = off; i < end; i++) {
			struct dp_pkt *p = &pk[i];

			p->flags = 0;
			p->inner = p->off;
			if (!inner_parse(p->buf + p->off, p->len, &src[k], &dst[k], &hash[k])) {
				p->verdict = DP_DROP;
				count(dp, p, DP_R_MALFORMED);
				continue;
			}
			iid[k] = p->iid;
			idx[k++] = i;
		}
		if (dp->local)
			lpmh_lookup_batch(dp->local, k, iid, dst, loc);
		else
			memset(loc, 0, k * sizeof(loc[0]));
		for (size_t j = 0; j < k; j++) {
			struct dp_pkt *p = &pk[idx[j]];

			if (!deliver_local(dp, p, loc[j], hash[j], false))
				continue;
			p->verdict = DP_FORWARD;
			count(dp, p, DP_R_DECAP);
		}
	}
}

/* No mapping to send with, none being asked for: a miss, or a send-map-request entry. */
static inline bool unresolved(const struct mc_fwd *f)
{
	return f->state == MC_MISS ||
	       (f->state == MC_NEGATIVE && f->act == LISP_ACT_SEND_MAP_REQUEST);
}

/*
 * Decapsulation of packets whose off points at the LISP header, with the
 * outer TTL in ttl and the outer source in aux: header check, TTL rule,
 * then the inner destination in the local table: an away EID is
 * re-encapsulated to its new site (and flagged for an SMR), an EID of
 * ours (or any, as a proxy-ETR) is delivered, anything else dropped.
 */
static void decap_lisp(struct dp *dp, struct dp_pkt *pk, size_t n, const bool *skip)
{
	uint32_t iid[DP_BATCH], hash[DP_BATCH];
	struct lisp_addr dst[DP_BATCH], src[DP_BATCH];
	struct mc_fwd from[DP_BATCH];
	void *loc[DP_BATCH];
	size_t idx[DP_BATCH];

	for (size_t off = 0; off < n; off += DP_BATCH) {
		size_t k = 0, end = n - off < DP_BATCH ? n : off + DP_BATCH;

		for (size_t i = off; i < end; i++) {
			struct dp_pkt *p = &pk[i];
			uint8_t *o = p->buf + p->off;
			struct lisp_data_hdr h;

			if (skip && skip[i])
				continue;
			p->flags = 0;
			if (p->len < LISP_DATA_HDR_LEN + 1 ||
			    lisp_data_decode(o, LISP_DATA_HDR_LEN, &h) < 0) {
				p->verdict = DP_DROP;
				count(dp, p, DP_R_NOT_LISP);
				continue;
			}
			if (!inner_ttl(o + LISP_DATA_HDR_LEN, p->len - LISP_DATA_HDR_LEN, p->ttl) ||
			    !inner_parse(o + LISP_DATA_HDR_LEN, p->len - LISP_DATA_HDR_LEN, &src[k],
					 &dst[k], &hash[k])) {
				p->verdict = DP_DROP;
				count(dp, p, DP_R_MALFORMED);
				continue;
			}
			p->iid = h.iid_present ? h.iid : 0;
			p->off += LISP_DATA_HDR_LEN;
			p->len -= LISP_DATA_HDR_LEN;
			p->inner = p->off;
			iid[k] = p->iid;
			idx[k++] = i;
		}
		if (dp->local)
			lpmh_lookup_batch(dp->local, k, iid, dst, loc);
		else
			memset(loc, 0, k * sizeof(loc[0]));
		/* the sender's map-cache entry: its locator counts the packets it sent us */
		mc_lookup_batch(dp->mc, k, iid, src, from);
		for (size_t j = 0; j < k; j++) {
			struct dp_pkt *p = &pk[idx[j]];
			const struct etr_local *l = dp->local ? loc[j] : NULL;

			if (!deliver_local(dp, p, loc[j], hash[j], true))
				continue;
			/* a host of a dynamic-eid prefix we do not have: it left (or was never
			 * here), and the ITR maps it to us still. Without an away entry (its
			 * departure came without a Map-Notify: the Map-Server's was lost, or we
			 * restarted) nothing else would ever tell it: SMR (aux), rate-limited. */
			if (l && l->kind == LOCAL_DYN_POLICY)
				p->flags |= DP_F_SMR;
			else if (l && unresolved(&from[j]))
				p->flags |= DP_F_RESOLVE;
			for (uint8_t m = 0; from[j].state == MC_COMPLETE && m < from[j].nloc; m++) {
				if (lisp_addr_equal(&from[j].locs[m].addr, &p->aux)) {
					add64(&from[j].locs[m].packets_in, 1);
					add64(&from[j].locs[m].bytes_in, p->len);
					break;
				}
			}
			p->verdict = DP_FORWARD;
			count(dp, p, DP_R_DECAP);
		}
	}
}

void dp_decap_payload_batch(struct dp *dp, struct dp_pkt *pk, size_t n)
{
	decap_lisp(dp, pk, n, NULL);
}

void dp_decap_batch(struct dp *dp, struct dp_pkt *pk, size_t n)
{
	bool skip[DP_BATCH];

	for (size_t off = 0; off < n; off += DP_BATCH) {
		size_t end = n - off < DP_BATCH ? n : off + DP_BATCH;

		for (size_t i = off; i < end; i++) {
			struct dp_pkt *p = &pk[i];
			uint8_t *o = p->buf + p->off;
			size_t oh = outer_len(o, p->len, &p->ttl);

			p->flags = 0;
			skip[i - off] = !oh;
			if (!oh) {
				p->verdict = DP_DROP;
				count(dp, p, DP_R_NOT_LISP);
				continue;
			}
			if (o[0] >> 4 == 4) {
				p->aux.afi = LISP_AFI_IPV4;
				memcpy(p->aux.u.v4, o + 12, 4);
			} else {
				lisp_addr_set_v6(&p->aux, o + 8);
			}
			oh -= LISP_DATA_HDR_LEN;
			p->off += oh;
			p->len -= oh;
		}
		decap_lisp(dp, pk + off, end - off, skip);
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
		[DP_R_AWAY] = "re-encapsulated to the new site",
		[DP_R_PETR] = "encapsulated to the proxy-ETR",
		[DP_R_NOT_LOCAL] = "not for an EID of this site",
		[DP_R_LINK_LOCAL] = "link-local or multicast destination",
		[DP_R_TTL_EXCEEDED] = "inner TTL exceeded, not re-encapsulated",
		[DP_R_LEAVING] = "held: its VM is leaving (a migration)",
	};

	return r < DP_R_MAX ? names[r] : "?";
}
