/*
 * Map-Server load on loopback: an xtr-gateway (pinned to one core) gets
 * 1M distinct /32 registrations from 1000 simulated ETRs (xTR-IDs),
 * HMAC-SHA-256, want-map-notify, then the same again as refreshes, then
 * 1M Encapsulated Map-Requests answered by proxy reply. The generator
 * (on the other core) keeps a window of requests in flight and counts
 * answers. Baseline in the same run: a bare UDP echo server on the same
 * core answering the same packets the same way (the I/O ceiling).
 * Also: the daemon's RSS per registered EID.
 *
 * usage: bench_ms [XTR_GATEWAY] [N]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_common.h"
#include "lib/lisp_auth.h"
#include "lib/lisp_msg.h"

#define KEY	  "bench-key"
#define WINDOW	  512
#define MS_PORT	  4342
#define ECHO_PORT 14342
#define BATCH	  64

struct load {
	uint8_t *buf; /* n messages of stride bytes */
	size_t *len;
	size_t n, stride;
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void load_init(struct load *l, size_t n, size_t stride)
{
	l->n = n;
	l->stride = stride;
	l->buf = calloc(n, stride);
	l->len = calloc(n, sizeof(*l->len));
}

static void eid_addr(uint32_t i, uint8_t *a)
{
	uint32_t x = 0x0a000000u + i + 1; /* 10.0.0.1 ... */

	a[0] = (uint8_t)(x >> 24);
	a[1] = (uint8_t)(x >> 16);
	a[2] = (uint8_t)(x >> 8);
	a[3] = (uint8_t)x;
}

/* n Map-Registers from 1000 xTRs; each xTR's nonces count up from first (strict-nonce). */
static void build_registers(struct load *l, struct lisp_auth_key *k, uint64_t first)
{
	struct lisp_map_register m = { .want_map_notify = true,
				       .proxy_reply = true,
				       .xtr_id_present = true,
				       .auth = { .alg_id = 2 } };
	struct lisp_locator loc = { .priority = 1,
				    .weight = 100,
				    .mpriority = 255,
				    .local = true,
				    .reachable = true,
				    .naddr = 1 };
	struct lisp_eid_record r = {
		.ttl = 1440, .loc_count = 1, .authoritative = true, .locs = &loc
	};
	struct buf_writer w;
	uint8_t a[4];

	for (uint32_t i = 0; i < l->n; i++) {
		uint32_t etr = i % 1000;
		uint8_t rloc[4] = { 198, 51, 100, (uint8_t)(etr % 250 + 1) };

		m.nonce = first + i / 1000;
		memset(m.xtr_id, 0, 16);
		memcpy(m.xtr_id, &etr, sizeof(etr));
		lisp_addr_set_v4(&loc.addr[0], rloc);
		eid_addr(i, a);
		lisp_addr_set_v4(&r.eid.addr, a);
		r.eid.plen = 32;
		buf_writer_init(&w, l->buf + i * l->stride, l->stride);
		if (lisp_msg_encode_map_register(&w, &m, &r, 1) < 0 ||
		    lisp_auth_sign(k, l->buf + i * l->stride, w.off) < 0)
			abort();
		l->len[i] = w.off;
	}
}

static void build_requests(struct load *l, uint16_t sport, uint32_t neids)
{
	struct lisp_map_request q = { .itr_rloc_count = 1 };
	struct lisp_ecm e = { .inner = { .sport = sport, .dport = 4342, .ttl = 64 } };
	uint8_t lo[4] = { 127, 0, 0, 1 }, a[4], req[128];
	uint64_t seed = 42;
	struct lisp_prefix eid = { .plen = 32 };
	struct buf_writer w;
	size_t len;

	lisp_addr_set_v4(&q.itr_rlocs[0], lo);
	lisp_addr_set_v4(&e.inner.src, lo);
	for (uint32_t i = 0; i < l->n; i++) {
		eid_addr((uint32_t)(bench_rand(&seed) % neids), a);
		lisp_addr_set_v4(&eid.addr, a);
		e.inner.dst = eid.addr;
		q.nonce = i;
		buf_writer_init(&w, req, sizeof(req));
		if (lisp_msg_encode_map_request(&w, &q, &eid, 1) < 0)
			abort();
		len = w.off;
		buf_writer_init(&w, l->buf + i * l->stride, l->stride);
		if (lisp_msg_encode_ecm(&w, &e, req, len) < 0)
			abort();
		l->len[i] = w.off;
	}
}

/*
 * Sends every message of l to port, keeping at most WINDOW unanswered,
 * and counts answers. A stall of 200 ms counts the window as lost and
 * goes on. Returns answers per second; *lost gets the unanswered.
 */
static double run(int fd, uint16_t port, const struct load *l, size_t *lost)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static struct mmsghdr sm[BATCH], rm[BATCH];
	static struct iovec siov[BATCH], riov[BATCH];
	static uint8_t rbuf[BATCH][2048];
	size_t sent = 0, answered = 0;
	double t0 = bench_now(), last = t0;

	*lost = 0;
	for (int i = 0; i < BATCH; i++) {
		riov[i] = (struct iovec){ .iov_base = rbuf[i], .iov_len = sizeof(rbuf[i]) };
		rm[i].msg_hdr = (struct msghdr){ .msg_iov = &riov[i], .msg_iovlen = 1 };
	}
	while (answered + *lost < l->n) {
		int n = 0, r;

		while (sent < l->n && sent - answered - *lost < WINDOW && n < BATCH) {
			siov[n] = (struct iovec){ .iov_base = l->buf + sent * l->stride,
						  .iov_len = l->len[sent] };
			sm[n].msg_hdr = (struct msghdr){ .msg_name = &to,
							 .msg_namelen = sizeof(to),
							 .msg_iov = &siov[n],
							 .msg_iovlen = 1 };
			n++;
			sent++;
		}
		if (n && sendmmsg(fd, sm, (unsigned)n, 0) != n)
			abort();
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 20) > 0 && (r = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL)) > 0) {
			answered += (size_t)r;
			last = bench_now();
		} else if (bench_now() - last > 0.2) {
			*lost += sent - answered - *lost; /* give up on what is in flight */
			last = bench_now();
		}
	}
	return (double)answered / (last - t0);
}

/* The baseline: answers every datagram with itself, batched like xtr-gateway. */
static void echo_server(int fd)
{
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	static struct sockaddr_in from[BATCH];
	static uint8_t buf[BATCH][2048];

	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							.msg_namelen = sizeof(from[i]),
							.msg_iov = &iov[i],
							.msg_iovlen = 1 };
		}
		int n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);

		for (int i = 0; i < n; i++)
			iov[i].iov_len = m[i].msg_len;
		if (n > 0)
			sendmmsg(fd, m, (unsigned)n, 0);
	}
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("bench_ms: bind");
		exit(1);
	}
	return fd;
}

static pid_t spawn_echo(void)
{
	int fd = udp_socket(ECHO_PORT);
	pid_t pid = fork();

	if (pid == 0) {
		pin(1);
		echo_server(fd);
	}
	close(fd);
	return pid;
}

static pid_t spawn_ms(const char *bin, const char *conf, const char *sock)
{
	pid_t pid = fork();

	if (pid == 0) {
		pin(1);
		execl(bin, bin, "-f", conf, "-s", sock, (char *)NULL);
		perror(bin);
		_exit(127);
	}
	return pid;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	char bin[PATH_MAX], dir[] = "/tmp/bench_ms.XXXXXX", conf[PATH_MAX + 16],
			    sock[PATH_MAX + 16];
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000, lost;
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	struct load reg, ref, req;
	double echo_reg, echo_req, ms_reg, ms_ref, ms_req;
	long rss0, rss1;
	pid_t echo, ms;
	FILE *f;
	int fd;

	if (argc > 1) {
		snprintf(bin, sizeof(bin), "%s", argv[1]);
	} else {
		ssize_t len = readlink("/proc/self/exe", bin, sizeof(bin) - 16);

		bin[len > 0 ? len : 0] = '\0';
		snprintf(strrchr(bin, '/') ? strrchr(bin, '/') + 1 : bin, 16, "xtr-gateway");
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(conf, sizeof(conf), "%s/ms.conf", dir);
	snprintf(sock, sizeof(sock), "%s/ms.sock", dir);
	f = fopen(conf, "w");
	fprintf(f, "router lisp\n site BENCH\n  authentication-key " KEY "\n"
		   "  eid-prefix 10.0.0.0/8 accept-more-specifics\n ipv4 map-server\n"
		   " ipv4 map-resolver\n map-server address 127.0.0.1\n"
		   /* one generator is every ITR here: its answers are not to be limited */
		   " map-reply rate-limit 1000000 burst 1000000 total 10000000\n");
	fclose(f);
	pin(0);
	fd = udp_socket(0);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);

	getsockname(fd, (struct sockaddr *)&me, &ml);
	load_init(&reg, n, 128);
	load_init(&ref, n, 128);
	load_init(&req, n, 128);
	build_registers(&reg, k, 1);
	build_registers(&ref, k, 1 + n / 1000 + 1); /* refreshes: the next nonces */
	build_requests(&req, ntohs(me.sin_port), (uint32_t)n);
	printf("bench_ms: %zu EIDs, %d in flight, generator on CPU 0, server on CPU 1\n", n,
	       WINDOW);

	echo = spawn_echo();
	usleep(200000);
	echo_reg = run(fd, ECHO_PORT, &reg, &lost);
	echo_req = run(fd, ECHO_PORT, &req, &lost);
	stop(echo);

	ms = spawn_ms(bin, conf, sock);
	usleep(500000);
	rss0 = rss_kb(ms);
	ms_reg = run(fd, MS_PORT, &reg, &lost);
	printf("registrations lost: %zu\n", lost);
	rss1 = rss_kb(ms);
	ms_ref = run(fd, MS_PORT, &ref, &lost);
	printf("refreshes lost: %zu\n", lost);
	ms_req = run(fd, MS_PORT, &req, &lost);
	printf("map-requests lost: %zu\n", lost);
	stop(ms);

	printf("Map-Register (new EID) accepted + acked: %8.0f /s  (target >= 200000)\n", ms_reg);
	printf("Map-Register refresh accepted + acked:   %8.0f /s\n", ms_ref);
	printf("UDP echo of the same Map-Registers:      %8.0f /s  -> MS at %.0f%% of the I/O "
	       "ceiling\n",
	       echo_reg, 100 * ms_reg / echo_reg);
	printf("Map-Request answered (proxy reply):      %8.0f /s  (target >= 500000)\n", ms_req);
	printf("UDP echo of the same Map-Requests:       %8.0f /s  -> MS at %.0f%% of the I/O "
	       "ceiling\n",
	       echo_req, 100 * ms_req / echo_req);
	printf("RSS: %ld kB idle, %ld kB with %zu EIDs -> %.0f bytes per registered EID "
	       "(target <= 256)\n",
	       rss0, rss1, n, (double)(rss1 - rss0) * 1024 / (double)n);
	unlink(conf);
	rmdir(dir);
	lisp_auth_key_free(k);
	return 0;
}
