/*
 * xtr-gateway: the LISP site gateway (xTR, proxy xTR, Map-Server and
 * Map-Resolver in one binary). The daemon's context and the headers of
 * its modules, one folder per role (README "Architecture").
 */
#ifndef XTR_GATEWAY_XTR_H
#define XTR_GATEWAY_XTR_H

#include <stdbool.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <ev.h>
#include <net/if.h>

#include "lib/lisp_addr.h"
#include "lib/lisp_msg.h"
#include "lib/log.h"
#include "xtr-gateway/conf/conf.h"

#define XTR_SOCKET_DEFAULT "/run/vmroam/xtr-gateway.sock"

/* Record TTLs (minutes) are taken up to a week (RFC 9301 sets no limit): seconds, clamped. */
static inline uint32_t xtr_ttl_seconds(uint32_t ttl_minutes)
{
	return (ttl_minutes < XTR_TTL_MAX_MINUTES ? ttl_minutes : XTR_TTL_MAX_MINUTES) * 60;
}

/* Global counters (packets that belong to no site). */
struct xtr_counters {
	uint64_t malformed;
	uint64_t unsupported;	    /* message types or features we do not serve */
	uint64_t unknown_eid;	    /* Map-Register records in no configured site */
	uint64_t map_requests;	    /* Map-Requests received through ECM */
	uint64_t negative_not_lisp; /* answered: not a LISP EID */
	uint64_t acks_unmatched;    /* Map-Notify-Acks for no pending notify */
	/* the Map-Server/Map-Resolver's answers (map-reply rate-limit) */
	uint64_t map_request_records_ignored;	    /* records after the first of a request */
	uint64_t map_replies_rate_limited;	    /* Map-Replies not sent */
	uint64_t map_requests_forward_rate_limited; /* requests not forwarded to an ETR */
};

struct evhist;
struct ms;

/* The daemon. */
struct xtr_daemon {
	struct ev_loop *loop;
	const char *conf_path;
	const char *ctl_path;
	const char *state_path; /* -S: the Map-Server's registrations across restarts, or NULL */
	double state_saved;	/* when it was last written */
	struct state_writer *state_writer; /* main.c: the thread that writes it */
	struct xtr_conf *conf;
	struct ms *ms;
	struct etr *etr;
	struct mapcache *mc;
	struct xtr_counters counters;
	struct xtr_net *net;
	struct xtr_dp *dpx; /* the data plane's I/O; NULL without a data-plane role */
	struct xtr_notify *notify;
	struct xtr_notify_io_state *notify_io; /* NULL when no dynamic-eid takes notifications */
	struct control *ctl;
	struct metrics *metrics;
	struct evhist *evh; /* the event history (show lisp event-history) */
	ev_timer tick;
	ev_timer fast; /* RLOC-probing, publications (main.c fast_configure) */
	ev_signal sigterm, sigint, sighup;
};

/* metrics.c: the Prometheus listener (metrics listen ADDRESS port N) */
struct metrics;
struct metrics *metrics_new(struct xtr_daemon *d);
/* Opens, moves or closes the listener as c says; -errno if it cannot listen. */
int metrics_configure(struct metrics *m, const struct xtr_conf *c);
void metrics_free(struct metrics *m);
/* The counters in Prometheus' text format: a heap buffer (caller frees), its length in *len. */
char *metrics_render(struct xtr_daemon *d, size_t *len);
/* http.c */
#define METRICS_REQ_MAX 4096
/*
 * An HTTP request in buf (len bytes so far): 1 and its path in path (cap
 * bytes) for a complete GET; 0 if incomplete; -EOPNOTSUPP for another
 * method, -E2BIG if too long, -EINVAL if malformed.
 */
int metrics_request(const char *buf, size_t len, char *path, size_t cap);

/* conf/parse.c, conf/printconf.c: in conf/conf.h */

#include "xtr-gateway/ms/ms.h"

#include "xtr-gateway/itr/mapcache.h"

#include "xtr-gateway/etr/etr.h"

#include "xtr-gateway/dataplane/pipeline.h"
#include "xtr-gateway/dataplane/hold.h"
#include "xtr-gateway/dataplane/gso.h"

/* dispatch.c: the engine a datagram received on port 4342 goes to */
enum xtr_to {
	XTR_TO_MS,
	XTR_TO_ETR,
	XTR_TO_ITR
};
enum xtr_to xtr_dispatch_to(const struct xtr_conf *c, const uint8_t *buf, size_t len);
/* The same, with the ITR's subscriptions (mc, may be NULL): their Map-Notifies go to the ITR. */
enum xtr_to xtr_dispatch(const struct xtr_conf *c, struct mapcache *mc, const struct lisp_addr *src,
			 const uint8_t *buf, size_t len);

/* net.c: UDP 4342 sockets on the libev loop */
struct xtr_net;
/* Opens the sockets the configuration asks for; fatal() when it cannot. */
struct xtr_net *xtr_net_open(struct xtr_daemon *d);
void xtr_net_close(struct xtr_net *n);
int xtr_net_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		 size_t len);
/* The first address of a family on an interface (getifaddrs). */
int xtr_net_if_addr(void *arg, const char *ifname, uint16_t afi, struct lisp_addr *out);

#include "xtr-gateway/dataplane/io.h"
#include "xtr-gateway/dataplane/route.h"

#include "xtr-gateway/notify/notify.h"

/* control.c */
struct control;
struct control *control_open(struct xtr_daemon *d, const char *path);
void control_close(struct control *c);

/* main.c */
/* Re-reads the configuration; 0, or -EINVAL with the reason in err (the old one stays). */
int xtr_reload(struct xtr_daemon *d, char *err, size_t errlen);

#endif /* XTR_GATEWAY_XTR_H */
