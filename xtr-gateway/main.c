/* xtr-gateway: startup, event loop, reload, shutdown. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/daemon_args.h"
#include "lib/evhist.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

#define CONF_DEFAULT "/etc/vmroam/xtr-gateway.conf"
#define TICK	     1.0 /* s: registration expiry and Map-Notify retransmission */
/* s: the Map-Server's state file rewritten, when changed; at the next tick when a registration
 * went (ms_dirty_urgent) */
#define STATE_EVERY  10
#define STR_(x)	     #x
#define STR(x)	     STR_(x)

static void usage(void)
{
	fprintf(stderr,
		"usage: xtr-gateway [-dnv] [-f file] [-s socket] [-S state-file]\n"
		"  -d         debug logging (all categories)\n"
		"  -f file    configuration (default " CONF_DEFAULT ")\n"
		"  -n         check the configuration and exit; -nv also prints it\n"
		"  -s socket  control socket (default " XTR_SOCKET_DEFAULT ")\n"
		"  -S file    Map-Server: keep the registrations and Map-Register nonces in\n"
		"             file across restarts (written at exit, every " STR(
			STATE_EVERY) " s when\n"
				     "             they changed, at once when one went)\n");
	exit(1);
}

static bool roles_equal(const struct xtr_conf *a, const struct xtr_conf *b)
{
	const struct xtr_conf_msmr *am = &a->msmr, *bm = &b->msmr;

	return am->ms_v4 == bm->ms_v4 && am->ms_v6 == bm->ms_v6 && am->mr_v4 == bm->mr_v4 &&
	       am->mr_v6 == bm->mr_v6 && a->nlisten == b->nlisten &&
	       memcmp(a->listen, b->listen, a->nlisten * sizeof(a->listen[0])) == 0;
}

static void fast_configure(struct xtr_daemon *d);

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
	ms_configure(d->ms, &c->msmr, &c->reply, ev_now(d->loop));
	etr_configure(d->etr, c, ev_now(d->loop));
	mc_configure(d->mc, &c->itr, c, ev_now(d->loop));
	old = d->conf;
	d->conf = c;
	xtr_dp_reconfigure(d, old);
	xtr_notify_configure(d->notify, c);
	if (metrics_configure(d->metrics, c) < 0)
		log_warn("reload: metrics: cannot listen on the new address: %s", strerror(errno));
	if (xtr_notify_enabled(c) != (d->notify_io != NULL))
		log_warn("reload: eid-notify listening changes only with a restart");
	xtr_conf_free(old);
	fast_configure(d);
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
 * The Map-Server's state file (-S) is written off the loop: the loop copies
 * the state (ms_snapshot_take: a flat copy, quick), a thread formats and
 * writes it (ms_snapshot_write: temporary file, fsync, rename: slow disks
 * and a million registrations never hold up the loop) and reports through
 * an ev_async. One write at a time: while one is under way the state stays
 * dirty for the next tick. At exit the thread finishes and the loop writes
 * the last state itself. The thread touches nothing but its snapshot.
 */
struct state_writer {
	struct xtr_daemon *d;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	ev_async done;
	struct log_rate rl;
	struct ms_snapshot *job; /* handed over, NULL for none; the thread frees it */
	bool busy;		 /* a job handed over and not finished */
	bool stop;
	int rc; /* of the last job */
};

static void *writer_main(void *arg)
{
	struct state_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct ms_snapshot *job;
		int rc;

		while (!w->job && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->job)
			break;
		job = w->job;
		pthread_mutex_unlock(&w->lock);
		rc = ms_snapshot_write(job, w->d->state_path);
		ms_snapshot_free(job);
		pthread_mutex_lock(&w->lock);
		w->job = NULL;
		w->rc = rc;
		w->busy = false;
		ev_async_send(w->d->loop, &w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void writer_done(struct ev_loop *loop, ev_async *a, int revents)
{
	struct state_writer *w = container_of(a, struct state_writer, done);
	int rc;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&w->lock);
	rc = w->rc;
	w->rc = 0;
	pthread_mutex_unlock(&w->lock);
	if (rc < 0) {
		log_warn_rl(&w->rl, "ms: cannot write the state file %s: %s", w->d->state_path,
			    strerror(-rc));
		ms_mark_dirty(w->d->ms); /* again at the next chance */
	}
}

static void writer_start(struct xtr_daemon *d)
{
	struct state_writer *w = xcalloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	w->d = d;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ev_async_init(&w->done, writer_done);
	ev_async_start(d->loop, &w->done);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are the loop's */
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		fatal("ms: cannot start the state writer: %s", strerror(rc));
	d->state_writer = w;
}

/* Hands the state to the writer, unless it is still busy with the last one. */
static void save_state_async(struct xtr_daemon *d)
{
	struct state_writer *w = d->state_writer;
	struct ms_snapshot *job;
	bool busy;

	pthread_mutex_lock(&w->lock);
	busy = w->busy;
	pthread_mutex_unlock(&w->lock);
	if (busy)
		return; /* still dirty: at a later tick */
	job = ms_snapshot_take(d->ms, ev_now(d->loop));
	d->state_saved = ev_now(d->loop);
	pthread_mutex_lock(&w->lock);
	w->job = job;
	w->busy = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* At exit: the writer finishes what it has, then the last state is written here. */
static void save_state_final(struct xtr_daemon *d)
{
	struct state_writer *w = d->state_writer;
	int rc;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	ev_async_stop(d->loop, &w->done);
	rc = ms_save(d->ms, d->state_path, ev_now(d->loop));
	if (rc < 0)
		log_warn("ms: cannot write the state file %s: %s", d->state_path, strerror(-rc));
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	d->state_writer = NULL;
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xtr_daemon *d = container_of(w, struct xtr_daemon, tick);

	(void)revents;
	ms_tick(d->ms, ev_now(loop));
	if (d->state_writer && ms_dirty(d->ms) &&
	    (ev_now(loop) - d->state_saved >= STATE_EVERY || ms_dirty_urgent(d->ms)))
		save_state_async(d);
	etr_tick(d->etr, ev_now(loop));
	mc_tick(d->mc, ev_now(loop));
	xtr_dp_tick(d);
	xtr_notify_tick(d->notify, ev_now(loop));
}

/*
 * What needs more than the 1 s tick: RLOC-probing (a quarter of its
 * interval) and the Map-Notifies to subscribers (0.5 s apart at first).
 */
static void fast_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xtr_daemon *d = container_of(w, struct xtr_daemon, fast);

	(void)revents;
	if (d->conf->msmr.nsubscribers)
		ms_tick(d->ms, ev_now(loop));
	mc_probe_tick(d->mc, ev_now(loop));
}

/* Starts, changes or stops the fast timer for the configuration. */
static void fast_configure(struct xtr_daemon *d)
{
	double every = d->conf->msmr.nsubscribers ? 0.1 : 0;

	if (d->conf->itr.probe_ms && (!every || d->conf->itr.probe_ms / 4000.0 < every))
		every = d->conf->itr.probe_ms / 4000.0;
	ev_timer_stop(d->loop, &d->fast);
	if (every) {
		ev_timer_set(&d->fast, every, every);
		ev_timer_start(d->loop, &d->fast);
	}
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
	struct ms_io io = { .send = xtr_net_send, .arg = d, .evh = d->evh };
	struct etr_io eio = { .send = xtr_net_send,
			      .if_addr = xtr_net_if_addr,
			      .event = etr_event,
			      .arg = d,
			      .evh = d->evh };
	struct xtr_notify_io nio = {
		.send = xtr_notify_send, .route = xtr_dp_host_route, .arg = d, .evh = d->evh
	};
	char host[64] = "xtr-gateway";
	struct mc_io mio = { .send = xtr_net_send,
			     .if_addr = xtr_net_if_addr,
			     .installed = xtr_dp_installed,
			     .arg = d,
			     .evh = d->evh };

	gethostname(host, sizeof(host) - 1);
	d->loop = EV_DEFAULT;
	d->ms = ms_new(&io, &d->counters);
	ms_configure(d->ms, &d->conf->msmr, &d->conf->reply, ev_now(d->loop));
	if (d->state_path) {
		char err[512];
		int n = ms_load(d->ms, d->state_path, ev_now(d->loop), err, sizeof(err));

		if (n < 0)
			log_warn("ms: state file not used (%s): starting empty", err);
		else if (n > 0)
			log_info("ms: %d registration(s) taken back from %s", n, d->state_path);
		d->state_saved = ev_now(d->loop);
		writer_start(d);
	}
	d->net = xtr_net_open(d);
	d->etr = etr_new(&eio);
	etr_configure(d->etr, d->conf, ev_now(d->loop));
	etr_tick(d->etr, ev_now(d->loop)); /* register at once */
	d->mc = mc_new(&mio);
	mc_configure(d->mc, &d->conf->itr, d->conf, ev_now(d->loop));
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
	ev_timer_init(&d->fast, fast_cb, 0.1, 0.1);
	fast_configure(d);
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
	save_state_final(d);
	ev_timer_stop(d->loop, &d->tick);
	ev_timer_stop(d->loop, &d->fast);
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
	evh_free(d->evh);
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
		log_plain(LOG_ERR, "%s", err);
		return 1;
	}
	if (args.check) {
		if (args.verbose)
			xtr_conf_print(d.conf, stdout);
		else
			log_plain(LOG_INFO, "configuration OK");
		xtr_conf_free(d.conf);
		return 0;
	}
	d.evh = evh_new(); /* before start(): the engines record into it */
	start(&d);
	log_info("started: %zu site(s)", d.conf->msmr.nsites);
	ev_run(d.loop, 0);
	log_info("shutting down");
	shutdown_all(&d);
	return 0;
}
