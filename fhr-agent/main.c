/* fhr-agent: startup, event loop, shutdown. */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fhr-agent/detect.h"
#include "fhr-agent/fhr.h"
#include "lib/daemon_args.h"
#include "lib/evhist.h"
#include "lib/nl.h"
#include "lib/util.h"

#define CONF_DEFAULT "/etc/vmroam/fhr-agent.conf"
#define START_WAIT   0.1 /* s: the first work (Hello, whole table) waits for the start ... */
#define PROBE_WAIT   0.5 /* s: ... or for the hosts of the neighbour table probed */
#define RT_MAIN	     254
#define FHR_RTPROT   145 /* our routes: ip route show proto 145 */

static void usage(void)
{
	fprintf(stderr, "usage: fhr-agent [-dnv] [-f file] [-s socket]\n"
			"  -d         debug logging (all categories)\n"
			"  -f file    configuration (default " CONF_DEFAULT ")\n"
			"  -n         check the configuration and exit; -nv also prints it\n"
			"  -s socket  control socket (default " FHR_SOCKET_DEFAULT ")\n");
	exit(1);
}

static int udp_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len)
{
	return notify_sendto(((struct fhr_daemon *)arg)->udp, dst, dport, buf, len);
}

/* Datagrams from the gateways (eid-notify) or, on the listener, from the hypervisors. */
static void udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fhr_daemon *d = w->data;
	static uint8_t buf[NOTIFY_MAX];
	bool hv = w == &d->hv_io[0] || w == &d->hv_io[1];
	struct lisp_addr src, dst;
	uint16_t port;
	ssize_t len;

	(void)revents;
	for (int i = 0;
	     i < 64 && (len = notify_recv(w->fd, buf, sizeof(buf), &src, &port, &dst)) >= 0; i++) {
		if (hv)
			fhr_hv_input(d->hv, &src, port, &dst, buf, (size_t)len, ev_now(loop));
		else
			fhr_input(d->fhr, &src, port, buf, (size_t)len, ev_now(loop));
	}
}

static void open_udp(struct fhr_daemon *d)
{
	for (int i = 0; i < 2; i++) {
		d->udp[i] = notify_socket(i ? AF_INET6 : AF_INET, 0);
		if (d->udp[i] < 0) {
			log_warn("eid-notify: no %s socket: %s", i ? "IPv6" : "IPv4",
				 strerror(-d->udp[i]));
			continue;
		}
		ev_io_init(&d->udp_io[i], udp_cb, d->udp[i], EV_READ);
		d->udp_io[i].data = d;
		ev_io_start(d->loop, &d->udp_io[i]);
	}
}

static int hv_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	return notify_sendto(((struct fhr_daemon *)arg)->hv_fd, dst, dport, buf, len);
}

static int hv_if_mac(void *arg, const char *ifname, uint8_t mac[6])
{
	return fhr_detect_if_mac(arg, ifname, mac);
}

/* The HypervisorEvent listener on every address, UDP hypervisor-events port (4350). */
static void open_hv(struct fhr_daemon *d)
{
	for (int i = 0; i < 2; i++) {
		int fd = notify_socket(i ? AF_INET6 : AF_INET, d->conf->hv_port);

		if (fd < 0) {
			if (!i || fd != -EADDRNOTAVAIL)
				fatal("hypervisor-events: cannot listen on %s port %u: %s",
				      i ? "IPv6" : "IPv4", d->conf->hv_port, strerror(-fd));
			continue; /* no IPv6 here */
		}
		d->hv_fd[i] = fd;
		ev_io_init(&d->hv_io[i], udp_cb, fd, EV_READ);
		d->hv_io[i].data = d;
		ev_io_start(d->loop, &d->hv_io[i]);
	}
	log_info("hypervisor-events: listening on UDP port %u", d->conf->hv_port);
}

/* The EID of a in its instance (the dynamic-eid of interface x), for the event history. */
static struct lisp_prefix eid_of(const struct fhr_daemon *d, const struct fhr_conf_iface *x,
				 const struct lisp_addr *a)
{
	struct lisp_prefix eid;

	lisp_prefix_from_addr(&eid, 0, a);
	for (size_t i = 0; x && i < d->conf->ndyneids; i++)
		if (strcmp(d->conf->dyneids[i].name, x->mobility) == 0)
			eid.iid = d->conf->dyneids[i].iid;
	return eid;
}

/* Lets what our segments sent to a while it was leaving go on (noted when there was some). */
static void release(struct fhr_daemon *d, const struct fhr_conf_iface *x, const struct lisp_addr *a,
		    enum fhr_release how)
{
	struct lisp_prefix eid = eid_of(d, x, a);
	size_t n = fhr_nfq_release(d, a, how);

	if (n)
		evh_add(d->evh,
			how == FHR_RELEASE_UP	  ? "hold-released up"
			: how == FHR_RELEASE_DROP ? "hold-dropped"
						  : "hold-released here",
			&eid, NULL, "%zu packet(s) %s", n,
			how == FHR_RELEASE_UP	  ? "to the site gateway"
			: how == FHR_RELEASE_HERE ? "delivered here"
			: how == FHR_RELEASE_DROP ? "dropped (its VM still paused, steered to us)"
						  : "went on as routed (it left the table)");
}

static const struct fhr_conf_iface *iface_of(const struct fhr_daemon *d, const char *ifname)
{
	for (size_t i = 0; i < d->conf->nifaces; i++)
		if (strcmp(d->conf->ifaces[i].name, ifname) == 0)
			return &d->conf->ifaces[i];
	return NULL;
}

/*
 * It stays, and what was captured of its VM's frames went to it (the
 * bridges have its MAC at its port again): now what our segments sent it
 * (a host told our MAC sent its later packets to us: after those), then
 * the segment told its own MAC.
 */
static void stayed(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
		   const uint8_t *mac, size_t stolen)
{
	const struct fhr_conf_iface *x = iface_of(d, ifname);
	struct lisp_prefix eid = eid_of(d, x, a);

	if (stolen)
		evh_add(d->evh, "steal-released here", &eid, NULL,
			"%zu packet(s) to its MAC delivered here", stolen);
	/* its MAC known, our neighbour entry for it is that, usable at once: the kernel's own
	 * may have failed while the VM was paused, and what we deliver would wait for an
	 * answer while the hosts told its MAC next send past it */
	if (mac && (d->rt || nl_open(&d->rt, NETLINK_ROUTE) == 0)) {
		int rc = nl_neigh_stale(d->rt, (int)if_nametoindex(ifname), a, mac);

		if (rc < 0)
			log_warn("fhr: %s: cannot set its neighbour entry: %s", ifname,
				 strerror(-rc));
	}
	/* what was held first: a host told the VM's MAC would send past it */
	release(d, x, a, FHR_RELEASE_HERE);
	if (mac) {
		fhr_detect_announce(d, ifname, a, mac, NULL, NULL);
		evh_add(d->evh, "announced", &eid, NULL, "the segment told its own MAC again");
	}
}

/*
 * Its VM paused to leave (yes): its packets from our segments are held,
 * and the segment told it is at our MAC (the hosts that send to it
 * directly send to us); on an extended subnet the frames to its MAC are
 * drawn to us and held too (the other site's hosts, which our announcement
 * does not reach). It stays (no): what was held delivered here (see
 * stayed()), then the segment told its own MAC.
 */
static void leaving(struct fhr_daemon *d, const struct fhr_conf_iface *x, const char *ifname,
		    const struct lisp_addr *a, const uint8_t *mac, bool yes)
{
	struct lisp_prefix eid = eid_of(d, x, a);

	if (yes) {
		bool held = fhr_nfq_hold(d, a);

		fhr_detect_announce(d, ifname, a, NULL, NULL, NULL);
		evh_add(d->evh, "hold", &eid, NULL, "%s; the segment told it is at our MAC",
			held ? "its packets from our segments held" : "not held here");
		return;
	}
	fhr_detect_steal_here(d, ifname, a, mac, stayed);
}

/*
 * Its VM is paused now (leaving already): on an extended subnet the
 * frames to its MAC are drawn to us and held, those of the hosts our
 * announcement does not reach (the other site's, across the extension);
 * drawn again if they were (its last frames before the pause took its MAC
 * back). Not before the pause: what reached the running VM directly after
 * would pass what we held.
 */
static void paused(struct fhr_daemon *d, const struct fhr_conf_iface *x, const char *ifname,
		   const struct lisp_addr *a, const uint8_t *mac)
{
	struct lisp_prefix eid = eid_of(d, x, a);

	if (!x || !x->extended_subnet || !mac)
		return;
	fhr_detect_steal(d, ifname, a, mac);
	evh_add(d->evh, "drawn", &eid, NULL,
		"its VM paused: the frames to its MAC drawn here and held");
}

/*
 * What an EID did, on the host: its data packets skip the queue while it
 * is here. Across subnets (ip proxy-arp) an EID here but not in the
 * interface's subnet gets a host route onto the interface (platform notes
 * §5), and its packets to hosts of its old subnet are picked up
 * (fhr_detect_foreign). Gone to another site (a gateway said so), in both
 * modes: a host route up, via our default gateway, so that what reaches
 * us for it goes to the site gateway and LISP, not back onto the segment
 * (nor gets an ICMP redirect); its neighbour entry goes; across subnets the
 * hosts of the segment are told (gratuitous ARP, unsolicited advertisement)
 * that it is at our MAC now. Back: the route onto the segment again, the
 * hosts told its own MAC, and the VM told the true MACs of the hosts here
 * (a site it was at gave it ours for its subnet's hosts). What needs its
 * MAC (known_mac()) waits for it when it arrived without one.
 */
static void known_mac(struct fhr_daemon *d, const struct fhr_conf_iface *x, const char *ifname,
		      const struct lisp_addr *a, const uint8_t *mac, enum fhr_known what,
		      const struct lisp_prefix *eid)
{
	bool here = what == FHR_KNOWN_HERE || what == FHR_KNOWN_BACK;

	if (!x->proxy_arp || !mac)
		return;
	if (here && !fhr_detect_on_link(d, ifname, a))
		fhr_detect_foreign(d, ifname, mac, true);
	else if (!here)
		fhr_detect_foreign(d, ifname, mac, false);
	if (what == FHR_KNOWN_AWAY)
		fhr_detect_announce(d, ifname, a, NULL, NULL, NULL);
	if (what == FHR_KNOWN_BACK) {
		fhr_detect_announce(d, ifname, a, mac, NULL, NULL);
		evh_add(d->evh, "announced", eid, NULL,
			"the segment told its own MAC; it told the MACs of %zu host(s) here",
			fhr_neigh_tell(d, ifname, a, mac));
	}
}

static void known(void *arg, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
		  enum fhr_known what)
{
	struct fhr_daemon *d = arg;
	bool here = what == FHR_KNOWN_HERE || what == FHR_KNOWN_BACK;
	const struct fhr_conf_iface *x = NULL;
	int ifindex = (int)if_nametoindex(ifname), rc, oif = 0;
	struct lisp_prefix host;
	struct lisp_addr via = { 0 };
	char b[LISP_ADDR_STRLEN];
	const char *act = "";
	struct lisp_prefix eid; /* (in its instance, for the event history) */

	for (size_t i = 0; i < d->conf->nifaces && !x; i++)
		if (strcmp(d->conf->ifaces[i].name, ifname) == 0)
			x = &d->conf->ifaces[i];
	if (what == FHR_KNOWN_LEAVING || what == FHR_KNOWN_STAYS) {
		leaving(d, x, ifname, a, mac, what == FHR_KNOWN_LEAVING);
		return;
	}
	if (what == FHR_KNOWN_PAUSED) {
		paused(d, x, ifname, a, mac);
		return;
	}
	if (what == FHR_KNOWN_STEERED) { /* (nothing to draw: its frames come to us) */
		fhr_nfq_steered(d, a);
		return;
	}
	if (what == FHR_KNOWN_HOLD_DROP) {
		release(d, x, a, FHR_RELEASE_DROP);
		return;
	}
	if (what == FHR_KNOWN_MAC_HERE || what == FHR_KNOWN_MAC_BACK) {
		if (!x)
			return;
		eid = eid_of(d, x, a);
		evh_add(d->evh, "mac-learned", &eid, NULL,
			"%02x:%02x:%02x:%02x:%02x:%02x (it arrived without one)", mac[0], mac[1],
			mac[2], mac[3], mac[4], mac[5]);
		known_mac(d, x, ifname, a, mac,
			  what == FHR_KNOWN_MAC_BACK ? FHR_KNOWN_BACK : FHR_KNOWN_HERE, &eid);
		return;
	}
	if (what == FHR_KNOWN_LEFT) { /* (across subnets our MAC stays the right one) */
		if (x && !x->proxy_arp && mac) {
			struct lisp_prefix left = eid_of(d, x, a);

			fhr_detect_announce(d, ifname, a, mac, NULL, NULL);
			evh_add(d->evh, "announced", &left, NULL,
				"the segment told its own MAC again (it left; reached at layer 2)");
		}
		return;
	}
	fhr_nfq_known(d, a, here);
	if (!x) {
		release(d, NULL, a, FHR_RELEASE_GONE);
		fhr_detect_steal_drop(d, a);
		return;
	}
	rc = d->rt ? 0 : nl_open(&d->rt, NETLINK_ROUTE);
	lisp_prefix_from_addr(&host, 0, a);
	if (rc == 0 && here && x->proxy_arp) {
		act = "add";
		rc = nl_route(d->rt, true, &host, RT_MAIN, ifindex, NULL, FHR_RTPROT);
	} else if (rc == 0 && what == FHR_KNOWN_AWAY) {
		act = "add (up)";
		rc = nl_route_default(d->rt, a->afi, &via, &oif);
		if (rc == 0)
			rc = nl_route(d->rt, true, &host, RT_MAIN, oif, via.afi ? &via : NULL,
				      FHR_RTPROT);
		nl_neigh_del(d->rt, ifindex, a);
	} else if (rc == 0) { /* here on an extended subnet (its route up goes), or gone */
		act = "delete";
		rc = nl_route(d->rt, false, &host, RT_MAIN, 0, NULL, FHR_RTPROT);
		if (rc == -ESRCH)
			rc = 0;
	}
	eid = eid_of(d, x, a);
	if (rc < 0)
		log_warn("fhr: %s host route %s: %s", act, lisp_addr_format(a, b, sizeof(b)),
			 strerror(-rc));
	else if (what == FHR_KNOWN_AWAY)
		evh_add(d->evh, "routed-up", &eid, via.afi ? &via : NULL,
			"its packets to the site gateway%s",
			x->proxy_arp && mac ? "; the segment told it is at our MAC" : "");
	/* what our segments sent it while it was leaving: now, by the route just made */
	release(d, x, a, what == FHR_KNOWN_AWAY ? FHR_RELEASE_UP : FHR_RELEASE_GONE);
	if (what == FHR_KNOWN_AWAY) {
		size_t n = fhr_detect_steal_up(d, a);

		if (n)
			evh_add(d->evh, "steal-released up", &eid, NULL,
				"%zu packet(s) to its MAC to the site gateway", n);
	} else if (!here) {
		size_t n = fhr_detect_steal_drop(d, a);

		if (n)
			evh_add(d->evh, "steal-dropped", &eid, NULL,
				"%zu packet(s) to its MAC dropped (it left the table)", n);
	}
	known_mac(d, x, ifname, a, mac, what, &eid);
}

static bool any_proxy_arp(const struct fhr_conf *c)
{
	for (size_t i = 0; i < c->nifaces; i++)
		if (c->ifaces[i].proxy_arp)
			return true;
	return false;
}

/*
 * No periodic tick: each module says when its next work is due (a
 * retransmission, a Keepalive, a dead gateway, a liveness probe, the end of
 * a hold, a locality probe, an interface to open, a binding to drop), and
 * the loop sleeps until the earliest. arm() runs before every sleep, after
 * whatever changed the state, so nothing due sooner is missed; with nothing
 * due the agent sleeps until a frame, a datagram or a ctl request comes.
 */
static void due_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fhr_daemon *d = container_of(w, struct fhr_daemon, due);
	double now = ev_now(loop);

	(void)revents;
	if (now < d->start_at)
		return;
	fhr_tick(d->fhr, now);
	fhr_detect_tick(d, now);
	if (now >= fhr_hv_next_due(d->hv))
		fhr_hv_tick(d->hv, now);
}

static double next_due(struct fhr_daemon *d)
{
	double due = fhr_next_due(d->fhr), t;

	if (ev_now(d->loop) < d->start_at)
		return d->start_at;
	if ((t = fhr_detect_next_due(d)) < due)
		due = t;
	if ((t = fhr_hv_next_due(d->hv)) < due)
		due = t;
	return due;
}

static void arm_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct fhr_daemon *d = container_of(w, struct fhr_daemon, arm);
	double due = next_due(d);

	(void)revents;
	ev_timer_stop(loop, &d->due);
	if (due == INFINITY)
		return;
	ev_timer_set(&d->due, due > ev_now(loop) ? due - ev_now(loop) : 0, 0);
	ev_timer_start(loop, &d->due);
}

/*
 * SIGHUP: the configuration is checked again; a valid one is applied by
 * starting again in place (same process, execv after the usual shutdown: a
 * restart loses nothing, the table comes back from the neighbour table and
 * the gateways resynchronise); an invalid one is refused and the running
 * configuration stays.
 */
static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct fhr_daemon *d = container_of(w, struct fhr_daemon, sighup);
	struct fhr_conf *c;
	char err[1024];

	(void)loop;
	(void)revents;
	c = fhr_conf_load(d->conf_path, err, sizeof(err));
	if (!c) {
		log_warn("reload: %s; the running configuration stays", err);
		return;
	}
	fhr_conf_free(c);
	log_info("reload: %s is valid; starting again with it", d->conf_path);
	d->reexec = true;
	ev_break(loop, EVBREAK_ALL);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
	struct daemon_args args = { .conf_path = CONF_DEFAULT, .ctl_path = FHR_SOCKET_DEFAULT };
	struct fhr_daemon d = { .udp = { -1, -1 }, .hv_fd = { -1, -1 } };
	struct fhr_hv_io hvio = { .send = hv_send, .if_mac = hv_if_mac, .arg = &d };
	struct fhr_io io = {
		.send = udp_send, .known = known, .probe = fhr_detect_probe, .arg = &d
	};
	struct timespec ts;
	uint64_t session;
	size_t probed;
	char err[1024];

	daemon_args_parse(argc, argv, &args, usage);
	d.conf_path = args.conf_path;
	d.ctl_path = args.ctl_path;
	log_init("fhr-agent", true);
	d.conf = fhr_conf_load(d.conf_path, err, sizeof(err));
	if (!d.conf) {
		log_plain(LOG_ERR, "%s", err);
		return 1;
	}
	if (args.check) {
		if (args.verbose)
			fhr_conf_print(d.conf, stdout);
		else
			log_plain(LOG_INFO, "configuration OK");
		fhr_conf_free(d.conf);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	d.loop = EV_DEFAULT;
	open_udp(&d);
	d.evh = evh_new();
	io.evh = d.evh;
	hvio.evh = d.evh;
	clock_gettime(CLOCK_REALTIME, &ts); /* the session grows across restarts */
	session = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	d.fhr = fhr_new(&io, session);
	fhr_configure(d.fhr, d.conf, ev_now(d.loop));
	d.hv = fhr_hv_new(d.fhr, &hvio, session);
	if (fhr_hv_configure(d.hv, d.conf))
		open_hv(&d);
	fhr_neigh_seed(&d); /* before the first tick sends Hello and the whole table */
	fhr_neigh_watch(&d);
	fhr_detect_open(&d);
	/* the hosts of the neighbour table: those still here answer before the first tick */
	probed = fhr_neigh_probe_stale(&d);
	if (d.conf->nfqueue >= 0) {
		fhr_nfq_open(&d, (unsigned)d.conf->nfqueue);
	} else if (any_proxy_arp(d.conf)) {
		int rc = fhr_nft_open(&d.own, d.conf, -1, 0);

		if (rc < 0)
			fatal("nftables: cannot install the table vmroam_fhr (no redirects across "
			      "subnets): %s",
			      strerror(-rc));
	}
	d.ctl = fhr_ctl_open(&d, d.ctl_path);
	d.start_at = ev_now(d.loop) + (probed ? PROBE_WAIT : START_WAIT);
	ev_timer_init(&d.due, due_cb, 0, 0);
	ev_prepare_init(&d.arm, arm_cb);
	ev_prepare_start(d.loop, &d.arm);
	ev_signal_init(&d.sigterm, stop_cb, SIGTERM);
	ev_signal_init(&d.sigint, stop_cb, SIGINT);
	ev_signal_init(&d.sighup, hup_cb, SIGHUP);
	ev_signal_start(d.loop, &d.sigterm);
	ev_signal_start(d.loop, &d.sigint);
	ev_signal_start(d.loop, &d.sighup);
	log_info("started as %s: %zu dynamic-eid(s), %zu gateway(s)", d.conf->fhr_id,
		 d.conf->ndyneids, fhr_gw_count(d.fhr));
	malloc_trim(0); /* what start-up freed (configuration, nftables batch) goes back */
	ev_run(d.loop, 0);
	log_info("shutting down");
	ev_prepare_stop(d.loop, &d.arm);
	ev_timer_stop(d.loop, &d.due);
	fhr_ctl_close(d.ctl);
	fhr_nfq_close(&d);
	fhr_nft_close(d.own);
	fhr_detect_close(&d);
	for (int i = 0; i < 2; i++) {
		if (d.udp[i] >= 0) {
			ev_io_stop(d.loop, &d.udp_io[i]);
			close(d.udp[i]);
		}
		if (d.hv_fd[i] >= 0) {
			ev_io_stop(d.loop, &d.hv_io[i]);
			close(d.hv_fd[i]);
		}
	}
	fhr_hv_free(d.hv);
	fhr_free(d.fhr);
	evh_free(d.evh);
	nl_close(d.rt);
	if (d.neigh) {
		ev_io_stop(d.loop, &d.neigh_io);
		nl_close(d.neigh);
	}
	fhr_conf_free(d.conf);
	ev_loop_destroy(d.loop);
	if (d.reexec) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL); /* (libev's signal handling blocked some) */
		execv("/proc/self/exe", argv);
		log_err("reload: cannot start again: %s", strerror(errno));
		return 1;
	}
	return 0;
}
