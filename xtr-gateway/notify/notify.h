/*
 * The gateway's end of the eid-notify channel with first-hop routers:
 * the engine (notify/notify.c, no OS calls) and its UDP sockets
 * (notify/notify_io.c).
 */
#ifndef XTR_GATEWAY_NOTIFY_NOTIFY_H
#define XTR_GATEWAY_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"
#include "xtr-gateway/etr/etr.h"

struct etr;
struct evhist;
struct xtr_conf;
struct xtr_daemon;

/* notify/notify.c: the engine */
struct xtr_notify_io {
	/* from: our address the FHR sends to (afi NONE: any) */
	int (*send)(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len);
	/* May be NULL: host EID p is behind first-hop router fhr (add), or not any more. */
	void (*route)(void *arg, const struct lisp_prefix *p, const struct lisp_addr *fhr,
		      bool add);
	void *arg;
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
};
struct xtr_notify_counters {
	uint64_t received, auth_failures, malformed, replays, refused_prefix, refused_policy;
	uint64_t misdirected;	  /* another direction or receiver: captured elsewhere */
	uint64_t stale_session;	  /* for an earlier life of ours */
	uint64_t peer_limit;	  /* refused: the dynamic-eid's eid-notify peer-limit */
	uint64_t hellos;	  /* answered */
	uint64_t answers_limited; /* Hellos and stale datagrams not answered (rate) */
};
struct xtr_notify_peer_counters {
	uint64_t received, sent, arrivals, departures, resyncs, moved_away, replays, malformed;
	uint64_t refused_prefix, refused_policy, deaths;
	uint64_t older;	  /* events older than what was applied, ignored */
	uint64_t leaving; /* its VMs paused to leave (a migration's switchover): held */
};
struct xtr_notify_peer_info {
	const char *id, *dynamic_eid;
	uint32_t iid;
	struct lisp_addr addr;
	uint16_t port;
	bool alive;
	double last_heard;
	uint64_t session;
	size_t eids, pending;
	bool in_sync; /* the digest of its last Keepalive matches what we hold (when both quiet) */
	struct xtr_notify_peer_counters c;
};
struct xtr_notify;
/*
 * A new engine (caller frees: xtr_notify_free()); io is copied, etr
 * borrowed (the EIDs go to it). name: ours, the sender of what we send
 * (the host name).
 */
struct xtr_notify *xtr_notify_new(const struct xtr_notify_io *io, struct etr *etr,
				  const char *name);
/* Frees n and its peers; NULL is a no-op. */
void xtr_notify_free(struct xtr_notify *n);
/* Applies conf (borrowed until the next call): the dynamic-eids' eid-notify keys. */
void xtr_notify_configure(struct xtr_notify *n, const struct xtr_conf *conf);
/* True if some dynamic-eid has an eid-notify authentication-key: then we listen. */
bool xtr_notify_enabled(const struct xtr_conf *conf);
/* A datagram from src:sport sent to our address dst (afi NONE when not known). */
void xtr_notify_input(struct xtr_notify *n, const struct lisp_addr *src, uint16_t sport,
		      const struct lisp_addr *dst, const uint8_t *buf, size_t len, double now);
/* Keepalives, retransmissions, dead peers. Every second. */
void xtr_notify_tick(struct xtr_notify *n, double now);
/* The ETR's events: an EID that moved away is told to the FHR that reported it. */
void xtr_notify_event(struct xtr_notify *n, enum etr_event ev, const struct lisp_prefix *e,
		      double now);
/* The channel's counters (borrowed, valid as long as n). */
const struct xtr_notify_counters *xtr_notify_counters(const struct xtr_notify *n);
/* Our session on the channel: the FHRs name it in what they send (tests use it too). */
uint64_t xtr_notify_session(const struct xtr_notify *n);
/* The peers (FHRs) known, and peer i of them (out's strings borrowed until n changes). */
size_t xtr_notify_peer_count(const struct xtr_notify *n);
void xtr_notify_peer_info(const struct xtr_notify *n, size_t i, struct xtr_notify_peer_info *out);

/* notify/notify_io.c: its UDP sockets (port 4349) on the daemon's loop */
struct xtr_notify_io_state;
/* Opens them in d->notify_io when the configuration takes notifications; fatal() if it cannot. */
void xtr_notify_io_open(struct xtr_daemon *d);
/* Closes them and frees d->notify_io; nothing when it is NULL. */
void xtr_notify_io_close(struct xtr_daemon *d);
/* xtr_notify_io.send (arg: the daemon): through the socket of dst's family; 0 or -errno. */
int xtr_notify_send(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
		    uint16_t dport, const uint8_t *buf, size_t len);

#endif /* XTR_GATEWAY_NOTIFY_NOTIFY_H */
