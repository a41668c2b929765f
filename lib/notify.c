/* The eid-notify channel: framing, authentication, replay window, retransmission (notify.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/notify.h"
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
	if (port && bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int notify_sendto(const int fds[2], const struct lisp_addr *dst, uint16_t port, const uint8_t *buf,
		  size_t len)
{
	int fd = fds[dst->afi == LISP_AFI_IPV6];
	struct sockaddr_storage ss;
	socklen_t sl = lisp_addr_to_sockaddr(dst, port, &ss);

	if (fd < 0)
		return -EAFNOSUPPORT;
	return sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0 ? -errno : 0;
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

int notify_rx_accept(struct notify_rx *r, uint64_t session, uint64_t seq)
{
	uint64_t d;

	if (session < r->session)
		return -ESTALE;
	if (session > r->session) {
		r->session = session;
		r->top = seq;
		r->window = 1;
		return NOTIFY_RX_NEW_SESSION;
	}
	if (seq > r->top) {
		d = seq - r->top;
		r->window = d >= 64 ? 1 : r->window << d | 1;
		r->top = seq;
		return 0;
	}
	d = r->top - seq;
	if (d >= 64 || (r->window >> d & 1))
		return -EALREADY;
	r->window |= 1ull << d;
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
	p->next = now + p->backoff;
	p->buf = xmalloc(len);
	memcpy(p->buf, buf, len);
	p->len = len;
	return true;
}

bool notify_tx_ack(struct notify_tx *t, uint64_t seq, char *key, size_t keylen)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->q[i].seq == seq) {
			if (key)
				snprintf(key, keylen, "%s", t->q[i].key);
			drop_at(t, i);
			return true;
		}
	}
	return false;
}

void notify_tx_due(struct notify_tx *t, double now,
		   void (*send)(void *arg, const uint8_t *buf, size_t len), void *arg)
{
	for (size_t i = 0; i < t->n; i++) {
		struct notify_pending *p = &t->q[i];

		if (p->next > now)
			continue;
		send(arg, p->buf, p->len);
		p->tries++;
		p->backoff = p->backoff * 2 > 2.0 ? 2.0 : p->backoff * 2;
		p->next = now + p->backoff;
		t->retransmits++;
	}
}

ssize_t notify_recv(int fd, uint8_t *buf, size_t cap, struct lisp_addr *src, uint16_t *port)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (len < 0)
			return -1;
		if (lisp_addr_from_sockaddr(&from, src, port) == 0)
			return len;
	}
}
