/*
 * fhrsim: a first-hop router on one eid-notify channel, driven by commands,
 * for tests of the gateway's side (netns/gw_hold.sh). Test tool only.
 *   fhrsim GATEWAY-ADDRESS INSTANCE-ID DYNAMIC-EID KEY FHR-ID < commands
 * It says Hello (learning the gateway's session), then per line of stdin:
 *   arrived|refresh|leaving|departed ADDRESS   an EidEvent at the next table version,
 *                                              sent until acknowledged (2 s at most)
 *   sleep MS
 * and prints "ack SEQ STATUS" for each event (STATUS 0: accepted, else -errno), "timeout"
 * if none came. MovedAway and other reliable messages of the gateway are acknowledged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/notify.h"

static struct {
	int fd;
	struct lisp_addr gw;
	uint32_t iid;
	const char *dyn, *id;
	struct lisp_auth_key *k;
	uint64_t session, gw_session, seq, version;
	char gwname[LISP_ADDR_STRLEN];
} s;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_env(Vmroam__Notify__Envelope *env)
{
	uint8_t buf[NOTIFY_MAX];
	struct sockaddr_storage to;
	socklen_t tolen = lisp_addr_to_sockaddr(&s.gw, NOTIFY_PORT, &to);
	size_t len;

	env->instance_id = s.iid;
	env->direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY;
	env->sender = (char *)(uintptr_t)s.id;
	env->receiver = s.gwname;
	env->session = s.session;
	env->receiver_session = s.gw_session;
	env->dynamic_eid = (char *)(uintptr_t)s.dyn;
	len = notify_pack(s.k, s.iid, env, buf, sizeof(buf));
	if (!len || sendto(s.fd, buf, len, 0, (struct sockaddr *)&to, tolen) < 0)
		fprintf(stderr, "fhrsim: send: %s\n", len ? strerror(errno) : "too long");
}

static void ack(uint64_t seq)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Ack a;

	vmroam__notify__envelope__init(&env);
	vmroam__notify__ack__init(&a);
	a.seq = seq;
	env.seq = ++s.seq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
	env.ack = &a;
	send_env(&env);
}

/*
 * Sends env (seq set) until the gateway acknowledges it, at most 2 s; the
 * status, or 1 on a timeout. Anything reliable from the gateway is acked.
 */
static int exchange(Vmroam__Notify__Envelope *env)
{
	double end = now() + 2, next = 0;
	uint8_t buf[NOTIFY_MAX];

	for (;;) {
		struct pollfd p = { .fd = s.fd, .events = POLLIN };
		Vmroam__Notify__Envelope *in;
		double t = now();
		ssize_t n;
		int err, st;

		if (t >= end)
			return 1;
		if (t >= next) {
			send_env(env);
			next = t + 0.2;
		}
		if (poll(&p, 1, (int)((next - t) * 1000) + 1) <= 0)
			continue;
		n = recv(s.fd, buf, sizeof(buf), 0);
		if (n <= 0 || !(in = notify_unpack(s.k, buf, (size_t)n, &err)))
			continue;
		if (in->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_ACK &&
		    in->ack->seq == env->seq) {
			st = in->ack->status;
			if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_HELLO)
				s.gw_session = in->session;
			vmroam__notify__envelope__free_unpacked(in, NULL);
			return st;
		}
		if (in->body_case != VMROAM__NOTIFY__ENVELOPE__BODY_ACK &&
		    in->body_case != VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE)
			ack(in->seq);
		vmroam__notify__envelope__free_unpacked(in, NULL);
	}
}

static int event(Vmroam__Notify__EventKind kind, const char *addr)
{
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__EidEvent ev;
	struct lisp_addr a;

	if (lisp_addr_parse(addr, &a) < 0)
		return -EINVAL;
	vmroam__notify__envelope__init(&env);
	vmroam__notify__eid_event__init(&ev);
	ev.kind = kind;
	ev.dynamic_eid = (char *)(uintptr_t)s.dyn;
	ev.eid = (char *)(uintptr_t)addr;
	ev.eid_len = a.afi == LISP_AFI_IPV4 ? 32 : 128;
	ev.event_seq = ++s.version;
	ev.source = VMROAM__NOTIFY__SOURCE__SOURCE_HYPERVISOR;
	env.seq = ++s.seq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
	env.eid_event = &ev;
	return exchange(&env);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		Vmroam__Notify__EventKind kind;
	} kinds[] = { { "arrived", VMROAM__NOTIFY__EVENT_KIND__ARRIVED },
		      { "refresh", VMROAM__NOTIFY__EVENT_KIND__REFRESH },
		      { "leaving", VMROAM__NOTIFY__EVENT_KIND__LEAVING },
		      { "departed", VMROAM__NOTIFY__EVENT_KIND__DEPARTED } };
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Hello h;
	char line[256], cmd[32], arg[128];
	int rc;

	if (argc != 6 || lisp_addr_parse(argv[1], &s.gw) < 0) {
		fprintf(stderr,
			"usage: fhrsim GATEWAY-ADDRESS INSTANCE-ID DYNAMIC-EID KEY FHR-ID\n");
		return 2;
	}
	lisp_addr_format(&s.gw, s.gwname, sizeof(s.gwname));
	s.iid = (uint32_t)strtoul(argv[2], NULL, 10);
	s.dyn = argv[3];
	s.k = lisp_auth_key_new(argv[4], strlen(argv[4]));
	s.id = argv[5];
	s.session = notify_session_now();
	s.fd = socket(s.gw.afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s.fd < 0) {
		perror("fhrsim: socket");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	vmroam__notify__envelope__init(&env);
	vmroam__notify__hello__init(&h);
	h.dynamic_eid = (char *)(uintptr_t)s.dyn;
	h.keepalive_ms = 1000;
	env.seq = ++s.seq;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	rc = exchange(&env);
	if (rc != 0) {
		fprintf(stderr, "fhrsim: the gateway did not answer the Hello (%d)\n", rc);
		return 1;
	}
	printf("hello %llu\n", (unsigned long long)s.gw_session);
	while (fgets(line, sizeof(line), stdin)) {
		size_t i;

		if (sscanf(line, "%31s %127s", cmd, arg) < 1)
			continue;
		if (strcmp(cmd, "sleep") == 0) {
			usleep((useconds_t)strtoul(arg, NULL, 10) * 1000);
			continue;
		}
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(cmd, kinds[i].name) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			fprintf(stderr, "fhrsim: unknown command %s\n", cmd);
			continue;
		}
		rc = event(kinds[i].kind, arg);
		if (rc == 1)
			printf("timeout %s %s\n", cmd, arg);
		else
			printf("ack %llu %d %s %s\n", (unsigned long long)s.seq, rc, cmd, arg);
	}
	lisp_auth_key_free(s.k);
	close(s.fd);
	return 0;
}
