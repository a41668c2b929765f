/* UDP sockets of the eid-notify channel (port 4349, IPv4 and IPv6) on the libev loop. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/notify.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/notify/notify.h"
#include "xtr-gateway/xtr.h"

struct nsock {
	ev_io io;
	int fd;
	uint16_t afi;
	struct xtr_daemon *d;
};

struct xtr_notify_io_state {
	struct nsock s[2];
	size_t n;
	struct log_rate rl;
};

static void recv_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nsock *s = container_of(w, struct nsock, io);
	static uint8_t buf[NOTIFY_MAX];
	struct lisp_addr src, dst;
	uint16_t port;
	ssize_t len;

	(void)revents;
	for (int i = 0;
	     i < 64 && (len = notify_recv(s->fd, buf, sizeof(buf), &src, &port, &dst)) >= 0; i++)
		xtr_notify_input(s->d->notify, &src, port, &dst, buf, (size_t)len, ev_now(loop));
}

int xtr_notify_send(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len)
{
	struct xtr_daemon *d = arg;
	struct xtr_notify_io_state *st = d->notify_io;
	int rc;

	for (size_t i = 0; st && i < st->n; i++) {
		if (st->s[i].afi != dst->afi)
			continue;
		rc = notify_sendmsg(st->s[i].fd, from, dst, dport, buf, len);
		if (rc < 0)
			log_warn_rl(&st->rl, "eid-notify: send: %s", strerror(-rc));
		return rc;
	}
	return -EAFNOSUPPORT;
}

void xtr_notify_io_open(struct xtr_daemon *d)
{
	struct xtr_notify_io_state *st;
	const uint16_t afis[2] = { LISP_AFI_IPV4, LISP_AFI_IPV6 };

	if (!xtr_notify_enabled(d->conf))
		return;
	st = xcalloc(1, sizeof(*st));
	for (int i = 0; i < 2; i++) {
		struct nsock *s = &st->s[st->n];
		struct lisp_addr any = { .afi = afis[i] };
		struct sockaddr_storage ss;
		socklen_t sl = lisp_addr_to_sockaddr(&any, NOTIFY_PORT, &ss);
		int one = 1, rcvbuf = 8 << 20;

		s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			fatal("eid-notify: socket: %s", strerror(errno));
		/* every FHR's keepalive each second and the bursts of arrivals: as the LISP socket
		 * (net.c); with the default (208 KiB) 1000 FHRs lost 19% of their datagrams */
		if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (afis[i] == LISP_AFI_IPV6)
			setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (notify_socket_pktinfo(s->fd, ss.ss_family) < 0)
			fatal("eid-notify: IP_PKTINFO: %s", strerror(errno));
		if (bind(s->fd, (struct sockaddr *)&ss, sl) < 0)
			fatal("eid-notify: cannot listen on UDP port %d: %s", NOTIFY_PORT,
			      strerror(errno));
		s->afi = afis[i];
		s->d = d;
		ev_io_init(&s->io, recv_cb, s->fd, EV_READ);
		ev_io_start(d->loop, &s->io);
		st->n++;
	}
	d->notify_io = st;
	log_info("eid-notify: listening on UDP port %d", NOTIFY_PORT);
}

void xtr_notify_io_close(struct xtr_daemon *d)
{
	struct xtr_notify_io_state *st = d->notify_io;

	for (size_t i = 0; st && i < st->n; i++) {
		ev_io_stop(d->loop, &st->s[i].io);
		close(st->s[i].fd);
	}
	free(st);
	d->notify_io = NULL;
}
