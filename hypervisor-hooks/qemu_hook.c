/*
 * vmroam-qemu-hook: libvirt's qemu hook (installed as
 * /etc/libvirt/hooks/qemu.d/vmroam). libvirt runs it synchronously as
 *   vmroam [-c CONF] [-L LOG] DOMAIN OPERATION SUB-OPERATION EXTRA
 * with the domain XML on stdin. For a tenant VM it tells the tenant's FHR
 * on this host what is happening (hv.h: migrate/started/... -> ARRIVING,
 * stopped -> LEFT) in one signed HypervisorEvent, waits for the Ack with
 * two retransmissions, and exits 0 within 2 s whatever happens: a hook
 * that fails would abort the migration, and it never calls libvirt (that
 * would deadlock the daemon that waits for it). Problems go to syslog.
 *
 * With -e KIND (arriving, live, leaving, left) it sends that event instead
 * of the operation's, as vmroam-virtwatch would (OPERATION and
 * SUB-OPERATION may then be left out): an operator telling an FHR by hand,
 * or a test replaying a migration's events without libvirt.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor-hooks/hv.h"
#include "lib/notify.h"

#define DEADLINE 2 /* s: the hook is gone by then, whatever happens */

static FILE *hooklog;

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One line to syslog and, with -L, to the log file (with a timestamp). */
static void __attribute__((format(printf, 2, 3))) say(int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", msg);
	if (hooklog) {
		fprintf(hooklog, "%.6f %s\n", now_real(), msg);
		fflush(hooklog);
	}
}

static void deadline(int sig)
{
	(void)sig;
	_exit(0); /* never fail libvirt's operation */
}

/* stdin into a buffer of at most HV_XML_MAX bytes; the rest is read and dropped. */
static char *read_stdin(size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;
	char sink[4096];

	while (b) {
		if (n == cap) {
			if (cap >= HV_XML_MAX)
				break;
			nb = realloc(b, cap * 2);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
		r = read(0, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (b && n == cap)
		while ((r = read(0, sink, sizeof(sink))) > 0 || (r < 0 && errno == EINTR))
			n = cap + 1; /* too large: refused below */
	*len = n;
	return b;
}

/* Sends the event and waits for its Ack: 0.2, 0.4, 0.8 s. Returns the FHR's status or -errno. */
static int deliver(const struct hv_tenant *t, const struct lisp_addr *fhr, uint16_t port,
		   const uint8_t *msg, size_t len, uint64_t seq, double *rtt)
{
	struct sockaddr_storage ss;
	socklen_t sl = lisp_addr_to_sockaddr(fhr, port, &ss);
	uint8_t buf[NOTIFY_MAX];
	int fd, rc = -ETIMEDOUT, wait_ms = 200;
	double t0 = now_real();

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (int tries = 0; tries < 3 && rc == -ETIMEDOUT; tries++, wait_ms *= 2) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double until = now_real() + wait_ms / 1000.0;

		if (send(fd, msg, len, 0) < 0 && errno != ECONNREFUSED) {
			rc = -errno;
			break;
		}
		while (rc == -ETIMEDOUT) {
			int left = (int)((until - now_real()) * 1000.0), status;
			ssize_t r;

			if (left <= 0 || poll(&p, 1, left) <= 0)
				break;
			r = recv(fd, buf, sizeof(buf), 0);
			if (r < 0 && errno == ECONNREFUSED)
				continue; /* nobody listens (yet): the next try */
			if (r >= 0 && hv_ack_check(t, buf, (size_t)r, seq, &status) == 0)
				rc = status;
		}
	}
	*rtt = now_real() - t0;
	close(fd);
	return rc;
}

/* The event for this call, to the tenant's FHR; problems are logged, never returned. */
static void tell(const char *conf_path, const char *xml, size_t xlen, enum hv_kind kind,
		 const char *name, const char *op, const char *subop, double t0)
{
	const struct hv_tenant *t;
	struct hv_domain dom;
	struct hv_conf *c;
	struct lisp_addr fhr;
	uint8_t msg[NOTIFY_MAX];
	char err[512], reason[64], a[LISP_ADDR_STRLEN], who[32];
	uint64_t session;
	double rtt = 0;
	uint16_t port;
	size_t len;
	int rc;

	snprintf(reason, sizeof(reason), "%s %s %s", strcmp(op, "-e") == 0 ? "manual" : "hook", op,
		 subop);
	if (hv_domain_parse(xml, xlen, &dom, err, sizeof(err)) < 0) {
		say(LOG_WARNING, "%s %s: %s", name, reason, err);
		return;
	}
	if (!dom.tenant_vm)
		return; /* not ours: quietly */
	c = hv_conf_load(conf_path, err, sizeof(err));
	if (!c) {
		say(LOG_ERR, "%s %s: %s", dom.name, reason, err);
		return;
	}
	if (hv_route(c, &dom, &t, &fhr, &port, err, sizeof(err)) < 0) {
		say(LOG_WARNING, "%s %s: %s", dom.name, reason, err);
		hv_conf_free(c);
		return;
	}
	if (dom.skipped)
		say(LOG_NOTICE, "%s: %u part(s) of the domain left out, e.g. %s", dom.name,
		    dom.skipped, dom.warning);
	session = (uint64_t)(t0 * 1e9);
	snprintf(who, sizeof(who), "hook-%ld", (long)getpid());
	/* seq = session: an Ack of an earlier run never matches this one */
	len = hv_event_pack(c, t, &dom, kind, reason, who, t0, session, session, msg, sizeof(msg));
	rc = len ? deliver(t, &fhr, port, msg, len, session, &rtt) : -EMSGSIZE;
	lisp_addr_format(&fhr, a, sizeof(a));
	if (rc == 0)
		say(LOG_INFO,
		    "%s %s: %s told to FHR %s port %u (tenant %s), acknowledged in %.1f ms",
		    dom.name, reason, hv_kind_name(kind), a, port, t->name, rtt * 1000.0);
	else
		say(LOG_WARNING, "%s %s: %s to FHR %s port %u (tenant %s): %s", dom.name, reason,
		    hv_kind_name(kind), a, port, t->name,
		    rc == -ETIMEDOUT ? "no acknowledgement in 1.4 s" : strerror(-rc));
	hv_conf_free(c);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmroam-qemu-hook [-c conf] [-L logfile] DOMAIN OPERATION "
		"SUB-OPERATION EXTRA < domain.xml\n"
		"       vmroam-qemu-hook [-c conf] [-L logfile] -e KIND DOMAIN < domain.xml\n"
		"  -c conf     the host's configuration (default " HV_CONF_DEFAULT ")\n"
		"  -e KIND     send arriving, live, leaving, left, pausing or switching (by hand, "
		"or a\n"
		"              test)\n"
		"  -L logfile  also append a line per call there\n");
	exit(0); /* as everywhere in a hook: never fail libvirt's operation */
}

int main(int argc, char **argv)
{
	const char *conf_path = HV_CONF_DEFAULT;
	double t0 = now_real();
	const char *manual = NULL;
	enum hv_kind kind;
	size_t xlen;
	bool filter = false;
	char *xml;
	int opt;

	signal(SIGALRM, deadline);
	alarm(DEADLINE);
	signal(SIGPIPE, SIG_IGN);
	openlog("vmroam-qemu-hook", LOG_PID, LOG_DAEMON);
	while ((opt = getopt(argc, argv, "c:e:L:")) != -1) {
		if (opt == 'c')
			conf_path = optarg;
		else if (opt == 'e')
			manual = optarg;
		else if (opt == 'L')
			hooklog = fopen(optarg, "ae");
		else
			usage();
	}
	if (argc - optind < (manual ? 1 : 3))
		usage();
	if (manual) {
		kind = hv_kind_from_name(manual);
		if (kind == HV_NONE) {
			fprintf(stderr,
				"vmroam-qemu-hook: -e %s: arriving, live, leaving, left, pausing "
				"or switching\n",
				manual);
			return 1; /* (by hand: not libvirt's call) */
		}
	} else {
		kind = hv_hook_kind(argv[optind + 1], argv[optind + 2], &filter);
	}
	(void)filter; /* nothing is ever printed on stdout, so a filter call changes nothing */
	xml = read_stdin(&xlen); /* (also when there is nothing to do: libvirt writes it) */
	if (kind != HV_NONE && xml)
		tell(conf_path, xml, xlen, kind, argv[optind], manual ? "-e" : argv[optind + 1],
		     manual ? manual : argv[optind + 2], t0);
	free(xml);
	if (hooklog)
		fclose(hooklog);
	closelog();
	return 0; /* whatever happened */
}
