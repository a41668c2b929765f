/*
 * The LISP control plane's UDP port 4342 sockets on the libev loop, shared by
 * every role: what arrives goes to the Map-Server / Map-Resolver (ms/), the
 * ETR (etr/) or the ITR (itr/) by message type, in batches (recvmmsg).
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/nl.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define MAX_SOCKS   (XTR_LISTEN_MAX + 2)
#define BATCH	    MS_BATCH /* datagrams a recvmmsg/sendmmsg call */
#define RECV_ROUNDS 4	     /* recvmmsg calls per wake-up before yielding to the loop */
#define PKT_MAX	    9216     /* largest datagram read */
#define QUEUED_MAX  2048     /* larger answers are sent at once, not queued */

struct sock {
	ev_io io;
	int fd;
	uint16_t afi;
	struct xtr_net *net;
};

/* Answers queued during a receive batch, sent with one sendmmsg per socket. */
struct sendq {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage to[BATCH];
	uint8_t data[BATCH][QUEUED_MAX];
	unsigned n;
};

struct xtr_net {
	struct xtr_daemon *d;
	struct sock socks[MAX_SOCKS];
	size_t nsocks;
	struct mmsghdr rmsg[BATCH];
	struct iovec riov[BATCH];
	struct sockaddr_storage rfrom[BATCH];
	uint8_t rbuf[BATCH][PKT_MAX];
	struct ms_pkt pkt[BATCH];
	struct sendq q[MAX_SOCKS];
	bool batching; /* inside a receive batch: queue answers */
	struct nl *nl; /* rtnetlink, for the interface locators' addresses (opened when needed) */
	struct log_rate rl;
};

static void flush(struct xtr_net *n, size_t i)
{
	struct sendq *q = &n->q[i];
	unsigned done = 0;

	while (done < q->n) {
		int r = sendmmsg(n->socks[i].fd, q->msg + done, q->n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			log_warn_rl(&n->rl, "net: sendmmsg: %s", strerror(errno));
			done++; /* skip the datagram the kernel refused */
			continue;
		}
		done += (unsigned)r;
	}
	q->n = 0;
}

/* Map-Server/Resolver messages to the engine in batches; an ETR's to the ETR. */
static void dispatch(struct xtr_daemon *d, const struct ms_pkt *pk, size_t n, double now)
{
	if (!xtr_conf_dataplane(d->conf)) {
		ms_input_batch(d->ms, pk, n, now);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		switch (xtr_dispatch(d->conf, d->mc, &pk[i].src, pk[i].buf, pk[i].len)) {
		case XTR_TO_ITR:
			mc_input(d->mc, &pk[i].src, pk[i].sport, pk[i].buf, pk[i].len, now);
			break;
		case XTR_TO_ETR:
			etr_input(d->etr, &pk[i].src, pk[i].sport, pk[i].buf, pk[i].len, now);
			break;
		case XTR_TO_MS:
			ms_input(d->ms, &pk[i].src, pk[i].sport, pk[i].buf, pk[i].len, now);
			break;
		}
	}
}

static void recv_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *s = container_of(w, struct sock, io);
	struct xtr_net *n = s->net;
	int got;

	(void)revents;
	for (int round = 0; round < RECV_ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			n->riov[i] = (struct iovec){ .iov_base = n->rbuf[i], .iov_len = PKT_MAX };
			n->rmsg[i].msg_hdr = (struct msghdr){ .msg_name = &n->rfrom[i],
							      .msg_namelen = sizeof(n->rfrom[i]),
							      .msg_iov = &n->riov[i],
							      .msg_iovlen = 1 };
		}
		got = recvmmsg(s->fd, n->rmsg, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EINTR)
				log_warn_rl(&n->rl, "net: recvmmsg: %s", strerror(errno));
			break;
		}
		n->batching = true;
		for (int i = 0; i < got; i++) {
			lisp_addr_from_sockaddr(&n->rfrom[i], &n->pkt[i].src, &n->pkt[i].sport);
			n->pkt[i].buf = n->rbuf[i];
			n->pkt[i].len = n->rmsg[i].msg_len;
		}
		dispatch(n->d, n->pkt, (size_t)got, ev_now(loop));
		n->batching = false;
		for (size_t i = 0; i < n->nsocks; i++)
			if (n->q[i].n)
				flush(n, i);
		if (got < BATCH)
			break;
	}
}

static void open_sock(struct xtr_net *n, const struct lisp_addr *a)
{
	char buf[LISP_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl = lisp_addr_to_sockaddr(a, LISP_CONTROL_PORT, &ss);
	struct sock *s = &n->socks[n->nsocks];
	int one = 1, rcvbuf = 8 << 20;

	s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		fatal("net: socket: %s", strerror(errno));
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* absorb bursts of registrations (root may exceed rmem_max) */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (ss.ss_family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&ss, sl) < 0)
		fatal("net: cannot listen on %s port %d: %s", lisp_addr_format(a, buf, sizeof(buf)),
		      LISP_CONTROL_PORT, strerror(errno));
	s->afi = a->afi;
	s->net = n;
	ev_io_init(&s->io, recv_cb, s->fd, EV_READ);
	ev_io_start(n->d->loop, &s->io);
	n->nsocks++;
	log_info("net: listening on %s port %d", lisp_addr_format(a, buf, sizeof(buf)),
		 LISP_CONTROL_PORT);
}

struct xtr_net *xtr_net_open(struct xtr_daemon *d)
{
	const struct xtr_conf *c = d->conf;
	struct xtr_net *n = xcalloc(1, sizeof(*n));
	struct lisp_addr any = { 0 };

	n->d = d;
	for (size_t i = 0; i < c->nlisten; i++)
		open_sock(n, &c->listen[i]);
	if (c->nlisten == 0 && (c->msmr.ms_v4 || c->msmr.mr_v4 || c->etr_v4 || c->itr_v4 ||
				c->proxy_itr4.afi || c->proxy_etr_v4)) {
		any.afi = LISP_AFI_IPV4;
		open_sock(n, &any);
	}
	if (c->nlisten == 0 && (c->msmr.ms_v6 || c->msmr.mr_v6 || c->etr_v6 || c->itr_v6 ||
				c->proxy_itr6.afi || c->proxy_etr_v6)) {
		any.afi = LISP_AFI_IPV6;
		open_sock(n, &any);
	}
	if (n->nsocks == 0)
		log_warn("net: no map-server, map-resolver or etr role configured: not listening");
	return n;
}

void xtr_net_close(struct xtr_net *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nsocks; i++) {
		ev_io_stop(n->d->loop, &n->socks[i].io);
		close(n->socks[i].fd);
	}
	nl_close(n->nl);
	free(n);
}

/* Queues a datagram on socket i; sends the queue when it is full. */
static void enqueue(struct xtr_net *n, size_t i, const struct sockaddr_storage *ss, socklen_t sl,
		    const uint8_t *buf, size_t len)
{
	struct sendq *q = &n->q[i];

	memcpy(q->data[q->n], buf, len);
	q->to[q->n] = *ss;
	q->iov[q->n] = (struct iovec){ .iov_base = q->data[q->n], .iov_len = len };
	q->msg[q->n].msg_hdr = (struct msghdr){ .msg_name = &q->to[q->n],
						.msg_namelen = sl,
						.msg_iov = &q->iov[q->n],
						.msg_iovlen = 1 };
	if (++q->n == BATCH)
		flush(n, i);
}

int xtr_net_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		 size_t len)
{
	struct xtr_daemon *d = arg;
	struct xtr_net *n = d->net;
	char a[LISP_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;

	for (size_t i = 0; i < n->nsocks; i++) {
		if (n->socks[i].afi != dst->afi)
			continue;
		sl = lisp_addr_to_sockaddr(dst, dport, &ss);
		if (n->batching && len <= QUEUED_MAX) {
			enqueue(n, i, &ss, sl, buf, len);
			return 0;
		}
		if (sendto(n->socks[i].fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
			log_warn_rl(&n->rl, "net: send to %s port %u: %s",
				    lisp_addr_format(dst, a, sizeof(a)), dport, strerror(errno));
			return -errno;
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

int xtr_net_if_addr(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *out)
{
	struct xtr_daemon *d = arg;
	struct xtr_net *n = d ? d->net : NULL;
	struct nl *own = NULL, *nl;
	int ifindex = (int)if_nametoindex(ifname), rc;

	/*
	 * Asked at each registration and answer: only that interface's
	 * addresses, not getifaddrs(), which dumps every interface with its
	 * statistics (a gateway with 1000 tenants' interfaces spent ~20 ms a
	 * registration in it).
	 */
	if (!ifindex)
		return -ENOENT;
	if (n && !n->nl && (rc = nl_open(&n->nl, NETLINK_ROUTE)) < 0)
		return rc;
	if (!n && (rc = nl_open(&own, NETLINK_ROUTE)) < 0)
		return rc;
	nl = n ? n->nl : own;
	rc = nl_if_addr(nl, ifindex, afi, out);
	nl_close(own);
	return rc;
}
