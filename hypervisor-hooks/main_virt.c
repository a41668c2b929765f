/* vmroam-virtwatch: startup, signals, shutdown (watch_virt.c does the work). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "hypervisor-hooks/loop_virt.h"
#include "hypervisor-hooks/watch_virt.h"
#include "lib/log.h"
#include "lib/util.h"

#define URI_DEFAULT "qemu:///system"

static void usage(void)
{
	fprintf(stderr, "usage: vmroam-virtwatch [-dn] [-c uri] [-f file]\n"
			"  -c uri   libvirt connection (default " URI_DEFAULT ")\n"
			"  -d       debug logging (every lifecycle event)\n"
			"  -f file  configuration (default " HV_CONF_DEFAULT ")\n"
			"  -n       check the configuration and exit\n");
	exit(1);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

struct reload {
	ev_signal sig;
	struct vw *w;
	const char *path;
	struct hv_conf *conf;
};

/* SIGHUP: the configuration again; one with an error is refused, the running one stays. */
static void hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct reload *r = container_of(s, struct reload, sig);
	struct hv_conf *c;
	char err[1024];

	(void)loop;
	(void)revents;
	c = hv_conf_load(r->path, err, sizeof(err));
	if (!c) {
		log_warn("virtwatch: reload: %s; the running configuration stays", err);
		return;
	}
	hv_conf_free(vw_reconfigure(r->w, c));
	r->conf = c;
}

static void quiet(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e; /* libvirt's errors are read where they happen, not printed by libvirt */
}

int main(int argc, char **argv)
{
	const char *uri = URI_DEFAULT, *path = HV_CONF_DEFAULT;
	bool check = false;
	ev_signal sigterm, sigint;
	struct reload reload;
	struct hv_conf *conf;
	struct ev_loop *loop;
	struct vw *w;
	char err[1024];
	int opt;

	while ((opt = getopt(argc, argv, "c:df:n")) != -1) {
		switch (opt) {
		case 'c':
			uri = optarg;
			break;
		case 'd':
			log_set_debug(LOG_VIRT);
			break;
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("vmroam-virtwatch", true);
	conf = hv_conf_load(path, err, sizeof(err));
	if (!conf) {
		log_plain(LOG_ERR, "%s", err);
		return 1;
	}
	if (check) {
		log_plain(LOG_INFO, "configuration OK: host-id %s, %zu tenant(s)", conf->host_id,
			  conf->ntenants);
		hv_conf_free(conf);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = EV_DEFAULT;
	virSetErrorFunc(NULL, quiet);
	virt_ev_register(loop);
	w = vw_new(loop, uri, conf);
	vw_start(w);
	ev_signal_init(&sigterm, stop_cb, SIGTERM);
	ev_signal_init(&sigint, stop_cb, SIGINT);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sigint);
	reload = (struct reload){ .w = w, .path = path, .conf = conf };
	ev_signal_init(&reload.sig, hup_cb, SIGHUP);
	ev_signal_start(loop, &reload.sig);
	log_info("virtwatch: started as host %s, %zu tenant(s), watching %s", conf->host_id,
		 conf->ntenants, uri);
	ev_run(loop, 0);
	log_info("virtwatch: shutting down");
	vw_free(w);
	hv_conf_free(reload.conf);
	return 0;
}
