/* The eid-notify channel: framing, authentication, replay window, retransmission (notify.h). */
#define _GNU_SOURCE /* struct in6_pktinfo */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/notify.h"
#include "lib/platform.h"
#include "lib/xalloc.h"

static const uint8_t magic[4] = { 'V', 'M', 'R', 'N' };

size_t notify_pack(struct lisp_auth_key *k, uint32_t iid, const Vmroam__Notify__Envelope *env,
		   uint8_t *out, size_t cap)
{
	size_t plen = vmroam__notify__envelope__get_packed_size(env);
	size_t len = NOTIFY_HDR_LEN + plen;

	if (len + LISP_AUTH_SHA256_LEN > cap)
		return 0;
	memcpy(out, magic, 4);
	out[4] = NOTIFY_VERSION;
	out[5] = (uint8_t)(iid >> 24);
	out[6] = (uint8_t)(iid >> 16);
	out[7] = (uint8_t)(iid >> 8);
	out[8] = (uint8_t)iid;
	vmroam__notify__envelope__pack(env, out + NOTIFY_HDR_LEN);
	if (lisp_auth_hmac_sha256(k, out, len, out + len) < 0)
		return 0;
	return len + LISP_AUTH_SHA256_LEN;
}

int notify_socket(int family, uint16_t port)
{
	int one = 1, fd, rc;
	struct sockaddr_storage ss = { 0 };
	struct lisp_addr any = { .afi = family == AF_INET6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4 };
	socklen_t sl = lisp_addr_to_sockaddr(&any, port, &ss);

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if ((rc = notify_socket_pktinfo(fd, family)) < 0 ||
	    (port && bind(fd, (struct sockaddr *)&ss, sl) < 0)) {
		rc = rc < 0 ? rc : -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int notify_socket_pktinfo(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0
			       ? -errno
			       : 0;
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ? -errno : 0;
}

int notify_sendmsg(int fd, const struct lisp_addr *from, const struct lisp_addr *dst, uint16_t port,
		   const uint8_t *buf, size_t len)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct sockaddr_storage ss;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr m = { .msg_name = &ss, .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	m.msg_namelen = lisp_addr_to_sockaddr(dst, port, &ss);
	memset(&cbuf, 0, sizeof(cbuf));
	if (from && from->afi == dst->afi && from->afi == LISP_AFI_IPV4) {
		struct in_pktinfo pi = { 0 };

		memcpy(&pi.ipi_spec_dst, from->u.v4, 4);
		m.msg_control = cbuf.b;
		m.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else if (from && from->afi == dst->afi && from->afi == LISP_AFI_IPV6) {
		struct in6_pktinfo pi = { 0 };

		memcpy(&pi.ipi6_addr, from->u.v6, 16);
		m.msg_control = cbuf.b;
		m.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	return sendmsg(fd, &m, 0) < 0 ? -errno : 0;
}

int notify_sendto(const int fds[2], const struct lisp_addr *dst, uint16_t port, const uint8_t *buf,
		  size_t len)
{
	int fd = fds[dst->afi == LISP_AFI_IPV6];

	if (fd < 0)
		return -EAFNOSUPPORT;
	return notify_sendmsg(fd, NULL, dst, port, buf, len);
}

int notify_bound(const Vmroam__Notify__Envelope *env, Vmroam__Notify__Direction dir,
		 const char *receiver, uint64_t receiver_session)
{
	if (env->direction != dir)
		return -EPERM;
	if (receiver && strcmp(env->receiver, receiver) != 0)
		return -EXDEV;
	if (receiver_session && env->receiver_session != receiver_session)
		return -ESTALE;
	return 0;
}

uint64_t notify_session_now(void)
{
	return platform_realtime_ns();
}

uint64_t notify_digest_add(uint64_t d, const struct lisp_prefix *p)
{
	char text[LISP_PREFIX_STRLEN];
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a 64-bit finaliser */

	lisp_prefix_format(p, text, sizeof(text));
	for (const char *c = text; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return d ^ h;
}

int notify_peek_iid(const uint8_t *buf, size_t len, uint32_t *iid)
{
	if (len < NOTIFY_HDR_LEN + LISP_AUTH_SHA256_LEN || memcmp(buf, magic, 4) != 0)
		return -EBADMSG;
	*iid = buf_load_be32(buf + 5);
	return 0;
}

Vmroam__Notify__Envelope *notify_unpack(struct lisp_auth_key *k, const uint8_t *buf, size_t len,
					int *err)
{
	uint8_t mac[LISP_AUTH_SHA256_LEN];
	size_t body = len - LISP_AUTH_SHA256_LEN;
	Vmroam__Notify__Envelope *env;
	uint32_t iid;

	*err = notify_peek_iid(buf, len, &iid);
	if (*err < 0)
		return NULL;
	if (buf[4] != NOTIFY_VERSION) {
		*err = -EPROTONOSUPPORT;
		return NULL;
	}
	if (lisp_auth_hmac_sha256(k, buf, body, mac) < 0 ||
	    !lisp_auth_equal(mac, buf + body, sizeof(mac))) {
		*err = -EACCES;
		return NULL;
	}
	env = vmroam__notify__envelope__unpack(NULL, body - NOTIFY_HDR_LEN, buf + NOTIFY_HDR_LEN);
	if (!env) {
		*err = -EBADMSG;
		return NULL;
	}
	if (env->instance_id != iid) {
		vmroam__notify__envelope__free_unpacked(env, NULL);
		*err = -EPROTO;
		return NULL;
	}
	return env;
}

bool notify_is_reliable(const Vmroam__Notify__Envelope *env)
{
	return env->body_case != VMROAM__NOTIFY__ENVELOPE__BODY_ACK &&
	       env->body_case != VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE;
}

/* Slides one space's window (top, window) over seq: 0, or -EALREADY. */
static int window_accept(uint64_t *top, uint64_t *window, uint64_t seq)
{
	uint64_t d;

	if (seq > *top) {
		d = seq - *top;
		*window = d >= NOTIFY_WINDOW ? 1 : *window << d | 1;
		*top = seq;
		return 0;
	}
	d = *top - seq;
	if (d >= NOTIFY_WINDOW || (*window >> d & 1))
		return -EALREADY;
	*window |= 1ull << d;
	return 0;
}

int notify_rx_accept(struct notify_rx *r, uint64_t session, uint64_t seq, bool reliable)
{
	if (session < r->session)
		return -ESTALE;
	if (session > r->session) {
		memset(r, 0, sizeof(*r));
		r->session = session;
		window_accept(reliable ? &r->top : &r->utop, reliable ? &r->window : &r->uwindow,
			      seq);
		return NOTIFY_RX_NEW_SESSION;
	}
	return window_accept(reliable ? &r->top : &r->utop, reliable ? &r->window : &r->uwindow,
			     seq);
}

void notify_rx_done(struct notify_rx *r, uint64_t seq, int32_t status)
{
	r->done_seq[seq % NOTIFY_WINDOW] = seq;
	r->done_status[seq % NOTIFY_WINDOW] = status;
}

int notify_rx_status(const struct notify_rx *r, uint64_t seq, int32_t *status)
{
	if (!seq || r->done_seq[seq % NOTIFY_WINDOW] != seq)
		return -ENOENT;
	*status = r->done_status[seq % NOTIFY_WINDOW];
	return 0;
}

void notify_tx_init(struct notify_tx *t, uint64_t session)
{
	memset(t, 0, sizeof(*t));
	t->session = session;
}

void notify_tx_clear(struct notify_tx *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->q[i].buf);
	t->n = 0;
}

void notify_tx_free(struct notify_tx *t)
{
	notify_tx_clear(t);
	free(t->q);
	t->q = NULL;
}

uint64_t notify_tx_next(struct notify_tx *t)
{
	return ++t->seq;
}

uint64_t notify_tx_next_reliable(struct notify_tx *t)
{
	return ++t->rseq;
}

static void drop_at(struct notify_tx *t, size_t i)
{
	free(t->q[i].buf);
	memmove(&t->q[i], &t->q[i + 1], (t->n - i - 1) * sizeof(t->q[0]));
	t->n--;
}

bool notify_tx_keep(struct notify_tx *t, uint64_t seq, const char *key, const uint8_t *buf,
		    size_t len, double now)
{
	struct notify_pending *p;

	for (size_t i = 0; key && key[0] && i < t->n; i++) {
		if (strcmp(t->q[i].key, key) == 0) {
			drop_at(t, i); /* superseded: the peer needs only the newest */
			t->replaced++;
			break;
		}
	}
	if (t->n == NOTIFY_TXQ_MAX) {
		t->dropped++;
		return false;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->q = xreallocarray(t->q, t->cap, sizeof(*t->q));
	}
	p = &t->q[t->n++];
	memset(p, 0, sizeof(*p));
	p->seq = seq;
	snprintf(p->key, sizeof(p->key), "%s", key ? key : "");
	p->backoff = 0.2;
	p->next = INFINITY; /* notify_tx_due() sends it when the window has room */
	(void)now;
	p->buf = xmalloc(len);
	memcpy(p->buf, buf, len);
	p->len = len;
	return true;
}

uint8_t *notify_tx_take(struct notify_tx *t, uint64_t seq, char *key, size_t keylen, size_t *len)
{
	for (size_t i = 0; i < t->n; i++) {
		uint8_t *buf = t->q[i].buf;

		if (t->q[i].seq != seq)
			continue;
		if (key)
			snprintf(key, keylen, "%s", t->q[i].key);
		*len = t->q[i].len;
		t->q[i].buf = NULL;
		drop_at(t, i);
		return buf;
	}
	return NULL;
}

bool notify_tx_ack(struct notify_tx *t, uint64_t seq, char *key, size_t keylen)
{
	size_t len;
	uint8_t *buf = notify_tx_take(t, seq, key, keylen, &len);

	free(buf);
	return buf != NULL;
}

bool notify_tx_cancel(struct notify_tx *t, const char *key)
{
	for (size_t i = 0; key[0] && i < t->n; i++) {
		if (strcmp(t->q[i].key, key) == 0) {
			drop_at(t, i);
			return true;
		}
	}
	return false;
}

void notify_tx_due(struct notify_tx *t, double now,
		   void (*send)(void *arg, const uint8_t *buf, size_t len), void *arg)
{
	/*
	 * In flight: the messages less than NOTIFY_WINDOW numbers above the
	 * oldest waiting (q is in seq order): the receiver's window holds
	 * them all, whatever it has seen since.
	 */
	for (size_t i = 0; i < t->n && t->q[i].seq - t->q[0].seq < NOTIFY_WINDOW; i++) {
		struct notify_pending *p = &t->q[i];

		if (!p->sent) {
			send(arg, p->buf, p->len);
			p->sent = true;
			p->next = now + p->backoff;
			continue;
		}
		if (p->next > now)
			continue;
		send(arg, p->buf, p->len);
		p->tries++;
		p->backoff = p->backoff * 2 > 2.0 ? 2.0 : p->backoff * 2;
		p->next = now + p->backoff;
		t->retransmits++;
	}
}

double notify_tx_next_due(const struct notify_tx *t)
{
	double due = INFINITY;

	for (size_t i = 0; i < t->n; i++)
		if (t->q[i].next < due)
			due = t->q[i].next;
	return due;
}

/* The destination address of a received datagram, from its IP_PKTINFO / IPV6_PKTINFO. */
static void pktinfo_dst(struct msghdr *m, struct lisp_addr *dst)
{
	memset(dst, 0, sizeof(*dst));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst->afi = LISP_AFI_IPV4;
			memcpy(dst->u.v4, &pi.ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst->afi = LISP_AFI_IPV6;
			memcpy(dst->u.v6, &pi.ipi6_addr, 16);
		}
	}
}

ssize_t notify_recv(int fd, uint8_t *buf, size_t cap, struct lisp_addr *src, uint16_t *port,
		    struct lisp_addr *dst)
{
	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
			struct cmsghdr align;
		} cbuf;
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = cap };
		struct msghdr m = { .msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf.b,
				    .msg_controllen = sizeof(cbuf.b) };
		ssize_t len = recvmsg(fd, &m, MSG_DONTWAIT);

		if (len < 0)
			return -1;
		if (lisp_addr_from_sockaddr(&from, src, port) != 0)
			continue;
		if (dst)
			pktinfo_dst(&m, dst);
		return len;
	}
}
