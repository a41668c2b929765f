/* UDP port 4342 sockets of the Map-Server / Map-Resolver on the libev loop. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define MAX_SOCKS   (XTR_LISTEN_MAX + 2)
#define RECV_BUDGET 64 /* datagrams read per wake-up before yielding to the loop */

struct sock {
	ev_io io;
	int fd;
	uint16_t afi;
	struct xtr_net *net;
};

struct xtr_net {
	struct xtr_daemon *d;
	struct sock socks[MAX_SOCKS];
	size_t nsocks;
	uint8_t buf[65536];
	struct log_rate rl;
};

static socklen_t to_sockaddr(const struct lisp_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->afi == LISP_AFI_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->u.v4, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->u.v6, 16);
	return sizeof(*sin6);
}

static void from_sockaddr(const struct sockaddr_storage *ss, struct lisp_addr *a, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		lisp_addr_set_v4(a, &sin->sin_addr);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		lisp_addr_set_v6(a, &sin6->sin6_addr);
		*port = ntohs(sin6->sin6_port);
	}
}

static void recv_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *s = container_of(w, struct sock, io);
	struct xtr_net *n = s->net;
	struct sockaddr_storage ss;
	struct lisp_addr src;
	uint16_t sport;

	(void)revents;
	for (int i = 0; i < RECV_BUDGET; i++) {
		socklen_t sl = sizeof(ss);
		ssize_t len =
			recvfrom(s->fd, n->buf, sizeof(n->buf), 0, (struct sockaddr *)&ss, &sl);

		if (len < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn_rl(&n->rl, "net: recvfrom: %s", strerror(errno));
			return;
		}
		from_sockaddr(&ss, &src, &sport);
		ms_input(n->d->ms, &src, sport, n->buf, (size_t)len, ev_now(loop));
	}
}

static void open_sock(struct xtr_net *n, const struct lisp_addr *a)
{
	char buf[LISP_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(a, LISP_CONTROL_PORT, &ss);
	struct sock *s = &n->socks[n->nsocks];
	int one = 1;

	s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		fatal("net: socket: %s", strerror(errno));
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
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
	if (c->nlisten == 0 && (c->ms_v4 || c->mr_v4)) {
		any.afi = LISP_AFI_IPV4;
		open_sock(n, &any);
	}
	if (c->nlisten == 0 && (c->ms_v6 || c->mr_v6)) {
		any.afi = LISP_AFI_IPV6;
		open_sock(n, &any);
	}
	if (n->nsocks == 0)
		log_warn("net: no map-server or map-resolver role configured: not listening");
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
	free(n);
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
		sl = to_sockaddr(dst, dport, &ss);
		if (sendto(n->socks[i].fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
			log_warn_rl(&n->rl, "net: send to %s port %u: %s",
				    lisp_addr_format(dst, a, sizeof(a)), dport, strerror(errno));
			return -errno;
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}
