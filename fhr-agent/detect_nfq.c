/*
 * Data-packet detection with libnetfilter_queue: a VM that sends before it
 * announces itself (or never does) is found by its first packet. The agent
 * installs, in the raw table's PREROUTING, a chain of its own per address
 * family: one RETURN rule per known EID, then one NFQUEUE rule per
 * dynamic-eid prefix on each mobility interface with --queue-bypass (and
 * the queue fail-open), so traffic never waits for the agent and never
 * stops when it is down; once an EID is known its packets no longer reach
 * the queue. Every packet is accepted. Rules are removed at exit and any
 * left by a crashed run are replaced at start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fhr-agent/detect.h"
#include "fhr-agent/fhr.h"
#include "lib/util.h"
#include "lib/xalloc.h"

extern char **environ;

struct fhr_nfq_state {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	ev_io io;
	struct fhr_daemon *d;
	char chain[32];
	bool v6;
	uint64_t packets, learned;
};

/*
 * Runs iptables or ip6tables with args (no shell): its exit status, or -1;
 * with nowait, 0 once started (the process is reaped by fhr_nfq_reap()).
 */
static int xtables_run(bool v6, const char *const *args, bool quiet, bool nowait)
{
	const char *argv[24] = { v6 ? "ip6tables" : "iptables", "-w", "-t", "raw" };
	posix_spawn_file_actions_t fa;
	int n = 4, status;
	pid_t pid;

	for (; *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (nowait)
		return 0;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int xtables(bool v6, const char *const *args, bool quiet)
{
	return xtables_run(v6, args, quiet, false);
}

void fhr_nfq_reap(struct fhr_daemon *d)
{
	int status;

	(void)d;
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
}

/* Removes our chain of one family and the jumps to it (quietly: it may not exist). */
static void rules_remove(const struct fhr_nfq_state *s, bool v6, const struct fhr_conf *c)
{
	for (size_t i = 0; i < c->nifaces; i++) {
		const char *del[] = { "-D", "PREROUTING", "-i", c->ifaces[i].name,
				      "-j", s->chain,	  NULL };

		if (c->ifaces[i].mobility[0])
			while (xtables(v6, del, true) == 0)
				;
	}
	xtables(v6, (const char *[]){ "-F", s->chain, NULL }, true);
	xtables(v6, (const char *[]){ "-X", s->chain, NULL }, true);
}

/* Our chain: the queue for every dynamic-eid prefix of family v6 on its interfaces. */
static bool rules_install(struct fhr_nfq_state *s, bool v6, const struct fhr_conf *c,
			  unsigned queue)
{
	char q[16], pfx[LISP_PREFIX_STRLEN];
	bool any = false;

	snprintf(q, sizeof(q), "%u", queue);
	for (size_t d = 0; d < c->ndyneids; d++)
		for (size_t p = 0; p < c->dyneids[d].nprefixes; p++)
			any |= (c->dyneids[d].prefixes[p].addr.afi == LISP_AFI_IPV6) == v6;
	if (!any)
		return true;
	rules_remove(s, v6, c);
	if (xtables(v6, (const char *[]){ "-N", s->chain, NULL }, false) != 0)
		return false;
	for (size_t d = 0; d < c->ndyneids; d++) {
		for (size_t p = 0; p < c->dyneids[d].nprefixes; p++) {
			struct lisp_prefix bare = c->dyneids[d].prefixes[p];

			if ((bare.addr.afi == LISP_AFI_IPV6) != v6)
				continue;
			bare.iid = 0;
			lisp_prefix_format(&bare, pfx, sizeof(pfx));
			if (xtables(v6,
				    (const char *[]){ "-A", s->chain, "-s", pfx, "-j", "NFQUEUE",
						      "--queue-num", q, "--queue-bypass", NULL },
				    false) != 0)
				return false;
		}
	}
	for (size_t i = 0; i < c->nifaces; i++) {
		if (c->ifaces[i].mobility[0] &&
		    xtables(v6,
			    (const char *[]){ "-A", "PREROUTING", "-i", c->ifaces[i].name, "-j",
					      s->chain, NULL },
			    false) != 0)
			return false;
	}
	return true;
}

void fhr_nfq_known(struct fhr_daemon *d, const struct lisp_addr *a, bool yes)
{
	struct fhr_nfq_state *s = d->nfq;
	char addr[LISP_ADDR_STRLEN];

	if (!s)
		return;
	lisp_addr_format(a, addr, sizeof(addr));
	/* first in the chain: its packets return before the queue (started, not waited for) */
	if (xtables_run(a->afi == LISP_AFI_IPV6,
			(const char *[]){ yes ? "-I" : "-D", s->chain, "-s", addr, "-j", "RETURN",
					  NULL },
			!yes, true) != 0)
		log_warn("nfqueue: cannot run ip(6)tables for %s", addr);
}

static int exempt_known(const struct fhr_eid_info *e, void *arg)
{
	if (e->state != FHR_EID_MOVED)
		fhr_nfq_known(arg, &e->p.addr, true);
	return 0;
}

static int packet_cb(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
		     void *data)
{
	struct fhr_nfq_state *s = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	struct nfqnl_msg_packet_hw *hw = nfq_get_packet_hw(nfa);
	unsigned char *p = NULL;
	char ifname[IF_NAMESIZE];
	int len = nfq_get_payload(nfa, &p);
	struct lisp_addr src = { 0 };
	uint32_t id = ph ? ntohl(ph->packet_id) : 0;

	(void)msg;
	s->packets++;
	if (len >= 20 && p[0] >> 4 == 4) {
		src.afi = LISP_AFI_IPV4;
		memcpy(src.u.v4, p + 12, 4);
	} else if (len >= 40 && p[0] >> 4 == 6) {
		lisp_addr_set_v6(&src, p + 8);
	}
	if (src.afi && if_indextoname(nfq_get_indev(nfa), ifname) &&
	    fhr_detect(s->d->fhr, ifname, &src,
		       hw && ntohs(hw->hw_addrlen) == 6 ? hw->hw_addr : NULL, FHR_SRC_DATA,
		       ev_now(s->d->loop)) > 0)
		s->learned++;
	return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL); /* never holds traffic back */
}

static void nfq_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fhr_nfq_state *s = container_of(w, struct fhr_nfq_state, io);
	char buf[4096] __attribute__((aligned));

	(void)loop;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		nfq_handle_packet(s->h, buf, (int)n);
	}
}

void fhr_nfq_open(struct fhr_daemon *d, unsigned queue)
{
	struct fhr_nfq_state *s = xcalloc(1, sizeof(*s));
	const struct fhr_conf *c = d->conf;

	s->d = d;
	snprintf(s->chain, sizeof(s->chain), "VMROAM-FHR-%u", queue);
	s->h = nfq_open();
	if (!s->h)
		fatal("nfqueue: cannot open: %s", strerror(errno));
	s->qh = nfq_create_queue(s->h, (uint16_t)queue, packet_cb, s);
	if (!s->qh)
		fatal("nfqueue: queue %u: %s (another agent on it?)", queue, strerror(errno));
	nfq_set_mode(s->qh, NFQNL_COPY_PACKET, 64); /* the IP header is enough */
	if (nfq_set_queue_flags(s->qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
		log_warn("nfqueue: no fail-open on this kernel");
	if (!rules_install(s, false, c, queue) || !rules_install(s, true, c, queue))
		fatal("nfqueue: cannot install the iptables rules (iptables/ip6tables -t raw)");
	ev_io_init(&s->io, nfq_cb, nfq_fd(s->h), EV_READ);
	ev_io_start(d->loop, &s->io);
	d->nfq = s;
	fhr_eid_walk(d->fhr, exempt_known, d); /* what the neighbour table told already */
	log_info("nfqueue: queue %u for first packets of unknown hosts", queue);
}

void fhr_nfq_close(struct fhr_daemon *d)
{
	struct fhr_nfq_state *s = d->nfq;

	if (!s)
		return;
	ev_io_stop(d->loop, &s->io);
	rules_remove(s, false, d->conf);
	rules_remove(s, true, d->conf);
	nfq_destroy_queue(s->qh);
	nfq_close(s->h);
	free(s);
	d->nfq = NULL;
}
