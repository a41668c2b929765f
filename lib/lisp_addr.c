/* LISP addresses and EID prefixes: text, comparison, wire codec. */
#include "lib/lisp_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lisp_afi_addr_len(uint16_t afi)
{
	switch (afi) {
	case LISP_AFI_NONE:
		return 0;
	case LISP_AFI_IPV4:
		return 4;
	case LISP_AFI_IPV6:
		return 16;
	case LISP_AFI_MAC:
		return 6;
	default:
		return -1;
	}
}

unsigned lisp_afi_max_plen(uint16_t afi)
{
	int len = lisp_afi_addr_len(afi);

	return len > 0 ? (unsigned)len * 8 : 0;
}

void lisp_addr_set_v4(struct lisp_addr *a, const void *v4)
{
	memset(a, 0, sizeof(*a));
	a->afi = LISP_AFI_IPV4;
	memcpy(a->u.v4, v4, 4);
}

void lisp_addr_set_v6(struct lisp_addr *a, const void *v6)
{
	memset(a, 0, sizeof(*a));
	a->afi = LISP_AFI_IPV6;
	memcpy(a->u.v6, v6, 16);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx, exactly. */
static int parse_mac(const char *s, struct lisp_addr *a)
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		a->u.mac[i] = (uint8_t)(hi << 4 | lo);
	}
	a->afi = LISP_AFI_MAC;
	return 0;
}

socklen_t lisp_addr_to_sockaddr(const struct lisp_addr *a, uint16_t port,
				struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->afi == LISP_AFI_IPV4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->u.v4, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->u.v6, 16);
	return sizeof(*sin6);
}

int lisp_addr_from_sockaddr(const struct sockaddr_storage *ss, struct lisp_addr *a, uint16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		lisp_addr_set_v4(a, &sin->sin_addr);
		*port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		lisp_addr_set_v6(a, &sin6->sin6_addr);
		*port = ntohs(sin6->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

int lisp_addr_parse(const char *s, struct lisp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->u.v4) == 1) {
		a->afi = LISP_AFI_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->u.v6) == 1) {
		a->afi = LISP_AFI_IPV6;
		return 0;
	}
	if (parse_mac(s, a) == 0)
		return 0;
	memset(a, 0, sizeof(*a));
	return -EINVAL;
}

static bool host_bits_zero(const struct lisp_prefix *p)
{
	struct lisp_prefix m = *p;

	lisp_prefix_mask(&m);
	return memcmp(m.addr.u.b, p->addr.u.b, sizeof(m.addr.u.b)) == 0;
}

int lisp_prefix_parse(const char *s, uint32_t iid, struct lisp_prefix *p)
{
	char addr[LISP_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;
	char *end;

	memset(p, 0, sizeof(*p));
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (lisp_addr_parse(addr, &p->addr) < 0)
		return -EINVAL;
	plen = lisp_afi_max_plen(p->addr.afi);
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || *end != '\0' || plen > lisp_afi_max_plen(p->addr.afi))
			goto bad;
	}
	p->plen = (uint8_t)plen;
	p->iid = iid;
	if (!host_bits_zero(p))
		goto bad;
	return 0;
bad:
	memset(p, 0, sizeof(*p));
	return -EINVAL;
}

char *lisp_addr_format(const struct lisp_addr *a, char *buf, size_t size)
{
	const uint8_t *m = a->u.mac;

	switch (a->afi) {
	case LISP_AFI_IPV4:
		if (!inet_ntop(AF_INET, a->u.v4, buf, (socklen_t)size))
			snprintf(buf, size, "?");
		break;
	case LISP_AFI_IPV6:
		if (!inet_ntop(AF_INET6, a->u.v6, buf, (socklen_t)size))
			snprintf(buf, size, "?");
		break;
	case LISP_AFI_MAC:
		snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
			 m[5]);
		break;
	case LISP_AFI_NONE:
		snprintf(buf, size, "no-address");
		break;
	default:
		snprintf(buf, size, "afi-%u", a->afi);
		break;
	}
	return buf;
}

char *lisp_prefix_format(const struct lisp_prefix *p, char *buf, size_t size)
{
	char a[LISP_ADDR_STRLEN];

	lisp_addr_format(&p->addr, a, sizeof(a));
	if (p->iid)
		snprintf(buf, size, "[%u] %s/%u", p->iid, a, p->plen);
	else
		snprintf(buf, size, "%s/%u", a, p->plen);
	return buf;
}

static size_t addr_bytes(const struct lisp_addr *a)
{
	int len = lisp_afi_addr_len(a->afi);

	return len > 0 ? (size_t)len : 0;
}

int lisp_addr_cmp(const struct lisp_addr *a, const struct lisp_addr *b)
{
	if (a->afi != b->afi)
		return a->afi < b->afi ? -1 : 1;
	return memcmp(a->u.b, b->u.b, addr_bytes(a));
}

bool lisp_addr_equal(const struct lisp_addr *a, const struct lisp_addr *b)
{
	return lisp_addr_cmp(a, b) == 0;
}

/* FNV-1a, then a final avalanche (murmur3 fmix32). */
static uint32_t hash_bytes(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t hash_fmix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

uint32_t lisp_addr_hash(const struct lisp_addr *a)
{
	uint32_t h = hash_bytes(2166136261u ^ a->afi, a->u.b, addr_bytes(a));

	return hash_fmix(h);
}

int lisp_prefix_cmp(const struct lisp_prefix *a, const struct lisp_prefix *b)
{
	int c;

	if (a->iid != b->iid)
		return a->iid < b->iid ? -1 : 1;
	c = lisp_addr_cmp(&a->addr, &b->addr);
	if (c)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return 0;
}

bool lisp_prefix_equal(const struct lisp_prefix *a, const struct lisp_prefix *b)
{
	return lisp_prefix_cmp(a, b) == 0;
}

uint32_t lisp_prefix_hash(const struct lisp_prefix *p)
{
	uint8_t hdr[7] = { (uint8_t)(p->iid >> 24),
			   (uint8_t)(p->iid >> 16),
			   (uint8_t)(p->iid >> 8),
			   (uint8_t)p->iid,
			   (uint8_t)(p->addr.afi >> 8),
			   (uint8_t)p->addr.afi,
			   p->plen };
	uint32_t h = hash_bytes(2166136261u, hdr, sizeof(hdr));

	return hash_fmix(hash_bytes(h, p->addr.u.b, addr_bytes(&p->addr)));
}

void lisp_prefix_mask(struct lisp_prefix *p)
{
	unsigned plen = p->plen;

	for (unsigned i = 0; i < sizeof(p->addr.u.b); i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		p->addr.u.b[i] &= (uint8_t)(0xff00u >> plen);
		plen = 0;
	}
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned nbits)
{
	unsigned full = nbits / 8, rest = nbits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool lisp_prefix_contains(const struct lisp_prefix *outer, const struct lisp_prefix *inner)
{
	return outer->iid == inner->iid && outer->addr.afi == inner->addr.afi &&
	       inner->plen >= outer->plen &&
	       bits_equal(outer->addr.u.b, inner->addr.u.b, outer->plen);
}

bool lisp_prefix_contains_addr(const struct lisp_prefix *p, uint32_t iid, const struct lisp_addr *a)
{
	return p->iid == iid && p->addr.afi == a->afi && bits_equal(p->addr.u.b, a->u.b, p->plen);
}

void lisp_prefix_from_addr(struct lisp_prefix *p, uint32_t iid, const struct lisp_addr *a)
{
	p->iid = iid;
	p->addr = *a;
	p->plen = (uint8_t)lisp_afi_max_plen(a->afi);
}

/* Reads the address bytes of a known plain AFI (the AFI itself already read). */
static int addr_body_decode(struct buf_reader *r, uint16_t afi, struct lisp_addr *a)
{
	int len = lisp_afi_addr_len(afi);

	memset(a, 0, sizeof(*a));
	if (len < 0)
		return -EPROTONOSUPPORT;
	a->afi = afi;
	buf_get_bytes(r, a->u.b, (size_t)len);
	return r->err;
}

int lisp_addr_decode(struct buf_reader *r, struct lisp_addr *a)
{
	uint16_t afi = buf_get_be16(r);

	if (r->err)
		return r->err;
	if (afi == LISP_AFI_LCAF)
		return -EPROTONOSUPPORT;
	return addr_body_decode(r, afi, a);
}

void lisp_addr_encode(struct buf_writer *w, const struct lisp_addr *a)
{
	buf_put_be16(w, a->afi);
	buf_put_bytes(w, a->u.b, addr_bytes(a));
}

/* LCAF header after its AFI: Rsvd1, Flags, Type, Rsvd2, Length; body becomes a sub-reader. */
static int lcaf_open(struct buf_reader *r, uint8_t *type, uint8_t *rsvd2, struct buf_reader *body)
{
	uint16_t len;

	buf_skip(r, 2);
	*type = buf_get_u8(r);
	*rsvd2 = buf_get_u8(r);
	len = buf_get_be16(r);
	buf_reader_sub(r, len, body);
	return r->err;
}

static void lcaf_begin(struct buf_writer *w, uint8_t type, uint8_t rsvd2, size_t *len_at)
{
	buf_put_be16(w, LISP_AFI_LCAF);
	buf_put_be16(w, 0);
	buf_put_u8(w, type);
	buf_put_u8(w, rsvd2);
	*len_at = w->off;
	buf_put_be16(w, 0);
}

static void lcaf_end(struct buf_writer *w, size_t len_at)
{
	buf_patch_be16(w, len_at, (uint16_t)(w->off - len_at - 2));
}

int lisp_eid_decode(struct buf_reader *r, uint8_t plen, struct lisp_prefix *p)
{
	uint16_t afi = buf_get_be16(r);
	struct buf_reader body;
	uint8_t type, mlen;
	int rc;

	memset(p, 0, sizeof(*p));
	if (r->err)
		return r->err;
	if (afi == LISP_AFI_LCAF) {
		if (lcaf_open(r, &type, &mlen, &body) < 0)
			return r->err;
		if (type != LISP_LCAF_INSTANCE_ID)
			return -EPROTONOSUPPORT;
		p->iid = buf_get_be32(&body);
		afi = buf_get_be16(&body);
		if (body.err)
			return -EBADMSG;
		if (afi == LISP_AFI_LCAF)
			return -EPROTONOSUPPORT;
		rc = addr_body_decode(&body, afi, &p->addr);
		if (rc == 0 && buf_remaining(&body) != 0)
			rc = -EBADMSG;
	} else {
		rc = addr_body_decode(r, afi, &p->addr);
	}
	if (rc < 0)
		return rc;
	if (plen > lisp_afi_max_plen(p->addr.afi))
		return -EBADMSG;
	p->plen = plen;
	return 0;
}

void lisp_eid_encode(struct buf_writer *w, const struct lisp_prefix *p)
{
	size_t len_at;

	if (!p->iid) {
		lisp_addr_encode(w, &p->addr);
		return;
	}
	lcaf_begin(w, LISP_LCAF_INSTANCE_ID, 0, &len_at);
	buf_put_be32(w, p->iid);
	lisp_addr_encode(w, &p->addr);
	lcaf_end(w, len_at);
}

int lisp_rloc_decode(struct buf_reader *r, struct lisp_addr *addrs, uint8_t *n, bool *list)
{
	const uint8_t *peek = buf_peek(r, 2);
	struct buf_reader body;
	uint8_t type, rsvd2;
	int rc;

	*n = 0;
	*list = false;
	if (!peek || buf_load_be16(peek) != LISP_AFI_LCAF) {
		rc = lisp_addr_decode(r, &addrs[0]);
		if (rc == 0)
			*n = 1;
		return rc;
	}
	buf_skip(r, 2);
	if (lcaf_open(r, &type, &rsvd2, &body) < 0)
		return r->err;
	if (type != LISP_LCAF_AFI_LIST)
		return -EPROTONOSUPPORT;
	*list = true;
	while (buf_remaining(&body) > 0) {
		if (*n == LISP_AFI_LIST_MAX)
			return -EPROTONOSUPPORT;
		rc = lisp_addr_decode(&body, &addrs[*n]);
		if (rc < 0)
			return rc;
		(*n)++;
	}
	if (*n == 0)
		return -EBADMSG;
	return body.err;
}

void lisp_rloc_encode(struct buf_writer *w, const struct lisp_addr *addrs, uint8_t n, bool list)
{
	size_t len_at;

	if (!list && n == 1) {
		lisp_addr_encode(w, &addrs[0]);
		return;
	}
	lcaf_begin(w, LISP_LCAF_AFI_LIST, 0, &len_at);
	for (uint8_t i = 0; i < n; i++)
		lisp_addr_encode(w, &addrs[i]);
	lcaf_end(w, len_at);
}
