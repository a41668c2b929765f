/*
 * The FHR agent's engine state, shared by its two halves and by no one
 * else: eids.c (the EID table: states, versions, limits, conflict hold)
 * and gw.c (the eid-notify channel to the gateways). Everyone else sees
 * struct fhr through fhr.h only.
 */
#ifndef FHR_AGENT_EIDS_INT_H
#define FHR_AGENT_EIDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhr-agent/fhr.h"
#include "lib/lisp_auth.h"
#include "lib/notify.h"

/* An EID of the table (eids.c); acked is the channel's (gw.c). */
struct fhr_eid {
	struct lisp_prefix p;
	int dyn;
	char ifname[FHR_NAME_MAX];
	uint8_t mac[6];
	bool has_mac;
	enum fhr_source source;
	enum fhr_eid_state state;
	double since, last_seen;
	uint64_t version; /* of the table, at its last change */
	uint32_t acked;	  /* bit i: gateway i of its dynamic-eid holds its newest state */
	unsigned probes;  /* unanswered liveness probes (across-subnet mode, or contested) */
	double last_probe;
	bool contested; /* another MAC claimed it: probe the known one, it keeps it while it answers */
	double moved_at;       /* a gateway said it moved away (then it was probed) */
	double conflict_since; /* the first of its conflicts in this minute */
	unsigned conflicts;    /* still here right after another site claimed it, this minute */
	double hold_until;     /* flapping between sites: not re-asserted before */
	bool leaving;	       /* its VM paused to leave (fhr_leaving): held until the end */
	bool steered;	       /* and its frames steered to us by its hypervisor (fhr_steered) */
	bool left_pending;     /* its VM left while it was leaving (or draining): departs later */
	bool announced_ours;   /* since its LEAVING the segment has it at our MAC */
	bool back;	       /* its arrival was a return (FHR_KNOWN_BACK) */
	double leaving_since;
	double tentative_until; /* leaving from a migration pass, no pause yet (0: paused) */
	uint64_t leave_from;	/* its version before the LEAVING (a MovedAway may name it) */
};

/*
 * A moved-away EID that was leaving departs (its VM left) this long after
 * the MovedAway: what was held went up through the gateways, and the
 * segment, told the VM's MAC at its departure, must not send past it.
 */
#define FHR_LEFT_DRAIN 1.0 /* s */

/* The events gw_notify() sends (EventKind of proto/eid_notify.proto, kept out of eids.c). */
enum gw_event {
	GW_ARRIVED,
	GW_DEPARTED,
	GW_REFRESH,
	GW_LEAVING,
};

/* A gateway of a dynamic-eid: our end of the channel to it (gw.c). */
struct gw {
	int dyn;
	size_t idx; /* in the dynamic-eid's eid-notify list */
	struct lisp_addr addr;
	char name[LISP_ADDR_STRLEN]; /* its address: the receiver we name, the sender it names */
	uint32_t iid;
	struct lisp_auth_key *key;
	uint64_t session;    /* ours on this channel (raised above a gateway's min_session) */
	struct notify_rx rx; /* rx.session: the gateway's, 0 until the Ack of our Hello */
	struct notify_tx tx;
	double last_heard, last_keepalive, last_resync;
	bool up, heard, need_hello;
	unsigned mismatches; /* Keepalives in a row whose digest differs from ours */
	uint64_t hello_seq;  /* of our Hello waiting for its Ack; 0: none */
	uint64_t sent, acked, resyncs, digest_resyncs;
	uint64_t replays, refused; /* its datagrams (by address and key): replayed; not for us */
};

/*
 * The EIDs that departed lately, each as it was when it left: a gateway
 * that restarted since learns them after its Resync snapshot (which lists
 * only what is here), so that it withdraws what its earlier life
 * registered. Kept as long as a Map-Server keeps a registration.
 */
#define FHR_GONE_MAX  256
#define FHR_GONE_LIFE 180.0

struct fhr {
	struct fhr_io io;
	struct fhr_eid gone[FHR_GONE_MAX]; /* a ring; .last_seen: when it departed */
	size_t gone_next;
	const struct fhr_conf *conf;
	struct ptable *eids;
	size_t *neids;	   /* per dynamic-eid */
	uint64_t *refused; /* per dynamic-eid: new EIDs refused at its eid-limit */
	struct gw *gws;
	size_t ngws;
	uint64_t session;
	uint64_t version;     /* of the table: one more for every change */
	size_t nleaving;      /* EIDs leaving */
	size_t ndeferred;     /* EIDs whose departure waits (left_pending) */
	double last_liveness; /* the liveness walk runs once a second at most */
	double live_due;      /* the walk's next work (a probe, a departure); 0 at once */
	bool live_dirty;      /* an EID probed answered: live_due may be later than it says */
	struct fhr_counters c;
	struct log_rate rl, rl_info, rl_limit;
	uint8_t out[NOTIFY_MAX];
};

/* The earlier of two deadlines (INFINITY: none); no libm for it. */
static inline double due_min(double a, double b)
{
	return a < b ? a : b;
}

/* gw.c, for eids.c */
/* Builds the gateways of conf (the old ones go): each gets a Hello at the next gw_tick(). */
void gw_configure(struct fhr *f, const struct fhr_conf *conf, double now);
/* Frees the gateways (their keys and queues). */
void gw_free_all(struct fhr *f);
/*
 * Gives e the table's next version and tells every gateway of its
 * dynamic-eid what (arrived, departed, refresh, leaving), reliably (the
 * first send at once), superseding older news of e.
 */
void gw_notify(struct fhr *f, struct fhr_eid *e, enum gw_event what, double now);
/* eids.c, for gw.c: a MovedAway for e (its leaving ends; a departure that waited goes after
 * FHR_LEFT_DRAIN). */
void fhr_leaving_moved(struct fhr *f, struct fhr_eid *e);
/* Keepalives, Hellos, retransmissions, dead gateways. */
void gw_tick(struct fhr *f, double now);
/* When gw_tick() next has something to do: 0 at once, INFINITY never (no gateway). */
double gw_next_due(const struct fhr *f);

#endif /* FHR_AGENT_EIDS_INT_H */
