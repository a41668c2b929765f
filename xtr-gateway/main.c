/* xtr-gateway: startup, event loop, reload, shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/daemon_args.h"
#include "lib/util.h"
#include "xtr-gateway/xtr.h"

#define CONF_DEFAULT "/etc/vmroam/xtr-gateway.conf"
#define TICK	     1.0 /* s: registration expiry and Map-Notify retransmission */
#define STATE_EVERY  10	 /* s: the Map-Server's state file rewritten, when changed */
#define STR_(x)	     #x
#define STR(x)	     STR_(x)

static void usage(void)
{
	fprintf(stderr, "usage: xtr-gateway [-dnv] [-f file] [-s socket] [-S state-file]\n"
			"  -d         debug logging (all categories)\n"
			"  -f file    configuration (default " CONF_DEFAULT ")\n"
			"  -n         check the configuration and exit; -nv also prints it\n"
			"  -s socket  control socket (default " XTR_SOCKET_DEFAULT ")\n"
			"  -S file    Map-Server: keep the registrations in file across restarts\n"
			"             (written at exit and every " STR(
				STATE_EVERY) " s when they changed)\n");
	exit(1);
}

static bool roles_equal(const struct xtr_conf *a, const struct xtr_conf *b)
{
	return a->ms_v4 == b->ms_v4 && a->ms_v6 == b->ms_v6 && a->mr_v4 == b->mr_v4 &&
	       a->mr_v6 == b->mr_v6 && a->nlisten == b->nlisten &&
	       memcmp(a->listen, b->listen, a->nlisten * sizeof(a->listen[0])) == 0;
}

int xtr_reload(struct xtr_daemon *d, char *err, size_t errlen)
{
	struct xtr_conf *c = xtr_conf_load(d->conf_path, err, errlen), *old;

	if (!c) {
		log_warn("reload: %s; keeping the running configuration", err);
		return -EINVAL;
	}
	if (!roles_equal(c, d->conf))
		log_warn("reload: roles and map-server addresses change only with a restart");
	if (xtr_conf_dataplane(c) != (d->dpx != NULL))
		log_warn("reload: data-plane roles (itr, etr, proxy) change only with a restart");
	ms_configure(d->ms, c, ev_now(d->loop));
	etr_configure(d->etr, c, ev_now(d->loop));
	mc_configure(d->mc, c, ev_now(d->loop));
	old = d->conf;
	d->conf = c;
	xtr_dp_reconfigure(d, old);
	xtr_notify_configure(d->notify, c);
	if (metrics_configure(d->metrics, c) < 0)
		log_warn("reload: metrics: cannot listen on the new address: %s", strerror(errno));
	if (xtr_notify_enabled(c) != (d->notify_io != NULL))
		log_warn("reload: eid-notify listening changes only with a restart");
	xtr_conf_free(old);
	etr_tick(d->etr, ev_now(d->loop));
	log_info("reload: configuration %s applied", d->conf_path);
	return 0;
}

/* The ETR's events go to the data plane (routes) and to the first-hop routers (MovedAway). */
static void etr_event(void *arg, enum etr_event ev, const struct lisp_prefix *p, const char *ifname)
{
	struct xtr_daemon *d = arg;

	xtr_dp_event(d, ev, p, ifname);
	if (d->notify)
		xtr_notify_event(d->notify, ev, p, ev_now(d->loop));
}

/*
 * The Map-Server's registrations to the state file, if there is one. At
 * exit in the daemon itself; while running in a forked child, so that a
 * large table (a million registrations) never holds up the event loop:
 * the child writes the copy-on-write snapshot it was born with.
 */
static void save_state(struct xtr_daemon *d, bool in_background)
{
	static struct log_rate rl;
	pid_t pid;
	int rc, st;

	if (!d->state_path)
		return;
	if (d->state_writer && waitpid(d->state_writer, &st, in_background ? WNOHANG : 0) == 0)
		return; /* the last one is still writing */
	d->state_writer = 0;
	d->state_saved = ev_now(d->loop);
	if (in_background) {
		ms_mark_saved(d->ms); /* the child's copy is what the file will hold */
		pid = fork();
		if (pid == 0)
			_exit(ms_save(d->ms, d->state_path, ev_now(d->loop)) < 0 ? 1 : 0);
		if (pid > 0) {
			d->state_writer = pid;
			return;
		}
	}
	rc = ms_save(d->ms, d->state_path, ev_now(d->loop));
	if (rc < 0)
		log_warn_rl(&rl, "ms: cannot write the state file %s: %s", d->state_path,
			    strerror(-rc));
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xtr_daemon *d = container_of(w, struct xtr_daemon, tick);
	int st;

	(void)revents;
	ms_tick(d->ms, ev_now(loop));
	if (d->state_writer && waitpid(d->state_writer, &st, WNOHANG) == d->state_writer) {
		d->state_writer = 0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			log_warn("ms: writing the state file %s failed", d->state_path);
			ms_mark_dirty(d->ms); /* again at the next chance */
		}
	}
	if (d->state_path && ms_dirty(d->ms) && ev_now(loop) - d->state_saved >= STATE_EVERY)
		save_state(d, true);
	etr_tick(d->etr, ev_now(loop));
	mc_tick(d->mc, ev_now(loop));
	xtr_dp_tick(d);
	xtr_notify_tick(d->notify, ev_now(loop));
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct xtr_daemon *d = container_of(w, struct xtr_daemon, sighup);
	char err[512];

	(void)loop;
	(void)revents;
	xtr_reload(d, err, sizeof(err));
}

static void start(struct xtr_daemon *d)
{
	struct ms_io io = { .send = xtr_net_send, .arg = d };
	struct etr_io eio = {
		.send = xtr_net_send, .if_addr = xtr_net_if_addr, .event = etr_event, .arg = d
	};
	struct xtr_notify_io nio = { .send = xtr_notify_send,
				     .route = xtr_dp_host_route,
				     .arg = d };
	char host[64] = "xtr-gateway";
	struct mc_io mio = { .send = xtr_net_send,
			     .if_addr = xtr_net_if_addr,
			     .installed = xtr_dp_installed,
			     .arg = d };

	gethostname(host, sizeof(host) - 1);
	d->loop = EV_DEFAULT;
	d->ms = ms_new(&io, &d->counters);
	ms_configure(d->ms, d->conf, ev_now(d->loop));
	if (d->state_path) {
		char err[512];
		int n = ms_load(d->ms, d->state_path, ev_now(d->loop), err, sizeof(err));

		if (n < 0)
			log_warn("ms: state file not used (%s): starting empty", err);
		else if (n > 0)
			log_info("ms: %d registration(s) taken back from %s", n, d->state_path);
		d->state_saved = ev_now(d->loop);
	}
	d->net = xtr_net_open(d);
	d->etr = etr_new(&eio);
	etr_configure(d->etr, d->conf, ev_now(d->loop));
	etr_tick(d->etr, ev_now(d->loop)); /* register at once */
	d->mc = mc_new(&mio);
	mc_configure(d->mc, d->conf, ev_now(d->loop));
	xtr_dp_open(d);
	d->notify = xtr_notify_new(&nio, d->etr, host);
	xtr_notify_configure(d->notify, d->conf);
	xtr_notify_io_open(d);
	d->metrics = metrics_new(d);
	if (metrics_configure(d->metrics, d->conf) < 0)
		fatal("metrics: cannot listen: %s", strerror(errno));
	d->ctl = control_open(d, d->ctl_path);
	ev_timer_init(&d->tick, tick_cb, TICK, TICK);
	ev_timer_start(d->loop, &d->tick);
	ev_signal_init(&d->sigterm, stop_cb, SIGTERM);
	ev_signal_init(&d->sigint, stop_cb, SIGINT);
	ev_signal_init(&d->sighup, hup_cb, SIGHUP);
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
	signal(SIGPIPE, SIG_IGN);
}

static void shutdown_all(struct xtr_daemon *d)
{
	save_state(d, false);
	ev_timer_stop(d->loop, &d->tick);
	ev_signal_stop(d->loop, &d->sigterm);
	ev_signal_stop(d->loop, &d->sigint);
	ev_signal_stop(d->loop, &d->sighup);
	xtr_dp_close(d); /* first: its workers may still punt into what follows */
	metrics_free(d->metrics);
	control_close(d->ctl);
	xtr_notify_io_close(d);
	xtr_notify_free(d->notify);
	mc_free(d->mc);
	etr_free(d->etr);
	xtr_net_close(d->net);
	ms_free(d->ms);
	xtr_conf_free(d->conf);
	ev_loop_destroy(d->loop);
}

int main(int argc, char **argv)
{
	struct daemon_args args = { .conf_path = CONF_DEFAULT,
				    .ctl_path = XTR_SOCKET_DEFAULT,
				    .allow_state = true };
	struct xtr_daemon d = { 0 };
	char err[1024];

	daemon_args_parse(argc, argv, &args, usage);
	d.conf_path = args.conf_path;
	d.ctl_path = args.ctl_path;
	d.state_path = args.state_path;
	log_init("xtr-gateway", true);
	d.conf = xtr_conf_load(d.conf_path, err, sizeof(err));
	if (!d.conf) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (args.check) {
		if (args.verbose)
			xtr_conf_print(d.conf, stdout);
		else
			fprintf(stderr, "configuration OK\n");
		xtr_conf_free(d.conf);
		return 0;
	}
	start(&d);
	log_info("started: %zu site(s)", d.conf->nsites);
	ev_run(d.loop, 0);
	log_info("shutting down");
	shutdown_all(&d);
	return 0;
}
