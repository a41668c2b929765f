/*
 * fhr-agent: the LISP first-hop router agent inside a tenant container. It
 * sees VMs arrive on its `lisp mobility` interfaces (ARP, RARP, IPv6
 * neighbour discovery) and tells its site gateway(s) over the eid-notify
 * channel (lib/notify.h). Context struct and prototypes, grouped by file.
 */
#ifndef FHR_AGENT_FHR_H
#define FHR_AGENT_FHR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "lib/lisp_addr.h"
#include "lib/log.h"
#include "lib/notify.h"

#define FHR_NAME_MAX	   64
#define FHR_KEY_MAX	   128
#define FHR_SOCKET_DEFAULT "/run/vmroam/fhr-agent.sock"
#define FHR_GW_MAX	   8 /* eid-notify gateways of a dynamic-eid */

struct evhist;

/* Configuration (parse.c) */

struct fhr_conf_gw {
	struct lisp_addr addr;
	uint8_t key[FHR_KEY_MAX];
	size_t keylen;
};

struct fhr_conf_dyneid {
	char name[FHR_NAME_MAX];
	uint8_t hv_key[FHR_KEY_MAX]; /* hypervisor-events key: the tenant's hosts sign with it */
	size_t hv_keylen;
	char vrf[FHR_NAME_MAX]; /* of its eid-table, "" for the default one */
	uint32_t iid;
	struct lisp_prefix *prefixes; /* database-mapping PREFIX */
	size_t nprefixes;
	struct fhr_conf_gw gws[FHR_GW_MAX]; /* eid-notify ADDRESS key KEY */
	size_t ngws;
	unsigned eid_limit;	 /* eid-limit N */
	unsigned migration_hold; /* migration-hold MS: how long a leaving EID is held at most */
	unsigned line;
};
#define FHR_EID_LIMIT_DEFAULT	   4096
#define FHR_EID_LIMIT_MAX	   (1 << 20)
#define FHR_MIGRATION_HOLD_DEFAULT 2000	 /* ms */
#define FHR_MIGRATION_HOLD_MAX	   10000 /* ms */

struct fhr_conf_iface {
	char name[FHR_NAME_MAX];
	char mobility[FHR_NAME_MAX];
	bool extended_subnet, proxy_arp;
	unsigned line;
};

struct fhr_conf {
	char fhr_id[FHR_NAME_MAX]; /* fhr-id NAME; default: the host name */
	int nfqueue;		   /* nfqueue N: data-packet detection through that queue; -1 off */
	uint16_t hv_port;	   /* hypervisor-events port N (listening when a key is set) */
	struct fhr_conf_dyneid *dyneids;
	size_t ndyneids;
	struct fhr_conf_iface *ifaces;
	size_t nifaces;
};

struct fhr_conf *fhr_conf_load(const char *path, char *err, size_t errlen);
struct fhr_conf *fhr_conf_parse_string(const char *name, const char *text, char *err,
				       size_t errlen);
void fhr_conf_free(struct fhr_conf *c);
void fhr_conf_print(const struct fhr_conf *c, FILE *f);

/*
 * eids.c: the agent's EID table, and gw.c: its channel to the gateways (no
 * OS calls; both share struct fhr through eids_int.h)
 */

enum fhr_source {
	FHR_SRC_ARP,
	FHR_SRC_ND,
	FHR_SRC_RARP,
	FHR_SRC_DATA,
	FHR_SRC_HYPERVISOR,
	FHR_SRC_NEIGHBOR, /* the kernel's neighbour table (at start) */
};

enum fhr_eid_state {
	FHR_EID_DETECTED, /* seen, not yet acknowledged by every gateway */
	FHR_EID_ACKED,	  /* every gateway acknowledged it */
	FHR_EID_MOVED,	  /* a gateway says it now lives elsewhere */
};

/* What an EID just did, for fhr_io.known */
enum fhr_known {
	FHR_KNOWN_HERE, /* detected here: new */
	FHR_KNOWN_BACK, /* detected here again after a gateway said it had moved away */
	FHR_KNOWN_AWAY, /* a gateway says it now lives at another site */
	FHR_KNOWN_GONE, /* out of the table (departed, cleared) */
	/*
	 * Its VM paused to leave this host (a live migration's switchover):
	 * hold the packets our segments send it, and tell the segment it is at
	 * our MAC. The hold ends with FHR_KNOWN_AWAY (released up, after the
	 * route up), FHR_KNOWN_STAYS or FHR_KNOWN_GONE.
	 */
	FHR_KNOWN_LEAVING,
	/* It was leaving and stays here (the migration failed, or the hold time ended): the
	 * segment told its MAC again, then what was held delivered here. */
	FHR_KNOWN_STAYS,
	/*
	 * It leaves the table (FHR_KNOWN_GONE next) while the segment has it at
	 * our MAC since its LEAVING (it moved away, its VM left this host).
	 * Where the VM is still reached at layer 2 (extended subnet) the segment
	 * is told its own MAC again: the hosts that sent to us since go to it
	 * directly, not to a route that is going.
	 */
	FHR_KNOWN_LEFT,
	/*
	 * Its VM is paused now (leaving since FHR_KNOWN_LEAVING, which may come
	 * a few ms before the pause when the hypervisor leads the switchover):
	 * on an extended subnet the frames to its MAC are drawn to us and held
	 * (not while it runs: its own frames would take its MAC back, and what
	 * reached it directly after would pass what we held).
	 */
	FHR_KNOWN_PAUSED,
	/*
	 * Its hypervisor steers the frames bound for its VM (paused) to us:
	 * whatever we send it comes back, so nothing is delivered to it while
	 * so (over a hold limit: dropped, not passed on).
	 */
	FHR_KNOWN_STEERED,
	/*
	 * Steered, and its hold time is over (the VM still paused, no
	 * MovedAway): what was held is dropped, the hold goes on afresh.
	 */
	FHR_KNOWN_HOLD_DROP,
	/*
	 * Known here (HERE) or here again (BACK) without a MAC (its first
	 * packet came without a link-layer header), its MAC is learned now: what
	 * its arrival does with the MAC is done now.
	 */
	FHR_KNOWN_MAC_HERE,
	FHR_KNOWN_MAC_BACK,
};

struct fhr_io {
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	/*
	 * May be NULL: a (its MAC mac, NULL if none is known) on ifname is
	 * here now (its data packets need no detection), or no longer.
	 */
	void (*known)(void *arg, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
		      enum fhr_known what);
	/*
	 * May be NULL (across-subnet mode): an ARP request (a neighbour
	 * solicitation) for eid to mac, from us; mac NULL (not known): asked
	 * of every host (broadcast, its solicited-node group).
	 */
	void (*probe)(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac);
	void *arg;
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
};

/* Liveness probes of local EIDs (ARP, or a neighbour solicitation), in both modes */
#define FHR_PROBE_AFTER	 10.0 /* s without news: probe it (ARP, unicast) */
#define FHR_PROBE_EVERY	 3.0  /* then again */
#define FHR_PROBES	 3    /* unanswered: it is gone (DEPARTED) */
#define FHR_LIVENESS_GAP 1.0  /* s: the walk that probes runs once a second at most */

/* Two sites claiming one EID (see conflict_held() in eids.c) */
#define FHR_CONFLICT_GAP 1.0 /* s: detected again this soon after a MovedAway: still here */
#define FHR_CONFLICTS	 3   /* such conflicts in a minute before its re-assertion is held */

struct fhr_counters {
	uint64_t detections, arrivals, refreshes, moves_told, hijacks, out_of_prefix;
	uint64_t received, auth_failures, replays, malformed, refused_by_gw;
	uint64_t probes, departures, proxy_arps;
	uint64_t move_checks;  /* probes of an EID a gateway said moved away (is it still here?) */
	uint64_t eid_limit;    /* new EIDs refused: the dynamic-eid's eid-limit */
	uint64_t mac_asks;     /* arrivals without a MAC: it was asked for (broadcast) */
	uint64_t macs_learned; /* of them, MACs learned later (FHR_KNOWN_MAC_*) */
	uint64_t conflicts_held; /* re-assertions held: another site keeps claiming the EID */
	uint64_t moves_stale;	 /* MovedAway about an older state of an EID: ignored */
	uint64_t stale_session, misdirected; /* refused: an earlier life of ours; not ours */
	/* live migrations away: EIDs marked leaving; LEAVING for EIDs not here (ignored); how
	 * the leaving ended: moved away, stays (the VM runs here again), hold time over; the
	 * hypervisor said it left while it was leaving (its departure waits for the end) */
	uint64_t leaving, leaving_ignored, leaving_moved, leaving_stayed, leaving_expired;
	uint64_t leaving_unpaused;     /* held at a migration pass, no pause followed: ended */
	uint64_t leaving_steered_over; /* steered, hold time over: what was held dropped */
	uint64_t leaving_left;
};

struct fhr;
struct fhr *fhr_new(const struct fhr_io *io, uint64_t session);
void fhr_free(struct fhr *f);
/*
 * Applies conf (borrowed): gateways and their keys. Each gets a Hello and
 * the whole table at the next fhr_tick(), so that what is detected in
 * between (the neighbour table at start) goes with it.
 */
void fhr_configure(struct fhr *f, const struct fhr_conf *conf, double now);
/*
 * A detection on interface ifname: address a (and mac, NULL when the frame
 * had none) is here. Returns 1 (new or back: the gateways are told), 0
 * (known: refreshed), -ENOENT (in no dynamic-eid of that interface),
 * -EEXIST (another MAC claims a known EID: the hijack guard).
 */
int fhr_detect(struct fhr *f, const char *ifname, const struct lisp_addr *a, const uint8_t *mac,
	       enum fhr_source src, double now);
/* RARP: only a MAC. The EIDs bound to it (learned before) are detected again; how many. */
int fhr_detect_mac(struct fhr *f, const char *ifname, const uint8_t *mac, double now);
/*
 * Probes (fhr_io.probe) the EIDs known with that MAC, on ifname: where a
 * frame proves nothing about where its sender is (extended subnet: a
 * broadcast may have crossed the layer-2 extension), its answer does.
 * Returns how many were probed.
 */
int fhr_probe_mac(struct fhr *f, const char *ifname, const uint8_t *mac);
/* Is a inside a database-mapping prefix of ifname's dynamic-eid? */
bool fhr_in_dynamic_eid(const struct fhr *f, const char *ifname, const struct lisp_addr *a);
/* Is a an EID here (not moved away) on ifname? Its MAC, if known, to mac (may be NULL). */
bool fhr_is_here(const struct fhr *f, const char *ifname, const struct lisp_addr *a, uint8_t *mac);
/*
 * The hypervisor says the VM with mac left this host: its EIDs are
 * forgotten and the gateways told they departed (withdrawn at once, so the
 * VM's registration elsewhere wins without waiting for timers); how many.
 */
int fhr_depart_mac(struct fhr *f, const uint8_t *mac, double now);
/*
 * The hypervisor says the VM of address a (instance-id iid) paused to
 * leave this host (a live migration's switchover). An EID here is marked
 * leaving (it stays ours: the digest counts it), takes a new version and
 * the gateways are told LEAVING; fhr_io.known(FHR_KNOWN_LEAVING) holds its
 * packets. The leaving ends with a MovedAway (moved away as usual), with
 * fhr_stays(), or after the dynamic-eid's migration-hold (then REFRESH).
 * A departure (fhr_depart_mac) while it is leaving waits for that end.
 * Returns 1 (marked), 0 (leaving already), -ENOENT (not here: unknown or
 * moved away; counted and ignored).
 */
int fhr_leaving(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now);
/*
 * The hypervisor says the VM of a is paused now to leave (libvirt's
 * SUSPENDED, or the watcher's word once it paused it): fhr_leaving(), then
 * fhr_io.known(FHR_KNOWN_PAUSED) if it is leaving. Returns as fhr_leaving().
 */
int fhr_paused(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now);
/*
 * As fhr_paused(), its frames steered to us by its hypervisor from before
 * the pause (nothing to draw): fhr_leaving(), then fhr_io.known(
 * FHR_KNOWN_STEERED). While steered its hold time does not deliver it
 * here: what was held is dropped and the hold goes on (FHR_KNOWN_HOLD_DROP),
 * until the MovedAway, the hypervisor's word that it runs here (which stops
 * the steering of our frames first), or its departure.
 */
int fhr_steered(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now);
/*
 * The VM of a began a migration pass that may be its last (HV_PAUSING): it
 * pauses within milliseconds if the pass is the last. The EID is leaving as
 * with fhr_leaving(), tentatively: unless fhr_leaving() follows within
 * FHR_PAUSING_WAIT (the pause), the VM ran on, and the leaving ends as
 * with fhr_stays(). Another pass renews the wait. Returns as fhr_leaving().
 */
int fhr_leaving_soon(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now);
#define FHR_PAUSING_WAIT 0.1 /* s */
/*
 * The VM of a runs here again (HV_LIVE while it was leaving: the migration
 * failed): no longer leaving, a new version, the gateways told REFRESH
 * (they deliver what they hold here), fhr_io.known(FHR_KNOWN_STAYS).
 * Returns 1, or 0 when it was not leaving.
 */
int fhr_stays(struct fhr *f, uint32_t iid, const struct lisp_addr *a, double now);
/* EIDs leaving now. */
size_t fhr_leaving_count(const struct fhr *f);
/*
 * What is due by now: the end of leaving EIDs' holds, liveness probes, then
 * the channel's Hellos, Keepalives, retransmissions, dead gateways (gw.c).
 */
void fhr_tick(struct fhr *f, double now);
/*
 * When fhr_tick() next has work (the earliest of the above): 0 at once,
 * INFINITY when nothing is due until something happens (a detection, a
 * datagram). Call it after every change; no wake-up is needed before.
 */
double fhr_next_due(struct fhr *f);
/*
 * Across-subnet mode (ip proxy-arp on the interface): should the agent
 * answer an ARP request or neighbour solicitation on ifname for target
 * (asked by requester)? Yes
 * for an address of the interface's dynamic-eid that is not here (never
 * seen, or moved away): the peer then reaches it through the routed LISP
 * path instead of waiting on a subnet it left.
 */
bool fhr_proxy_arp(const struct fhr *f, const char *ifname, const struct lisp_addr *target,
		   const struct lisp_addr *requester);
/* Forgets EIDs inside under (NULL: all) and tells the gateways they departed; how many. */
int fhr_clear(struct fhr *f, const struct lisp_prefix *under, double now);

struct fhr_eid_info {
	struct lisp_prefix p;
	const char *policy, *ifname;
	uint8_t mac[6];
	bool has_mac;
	enum fhr_source source;
	enum fhr_eid_state state;
	double since, last_seen;
	unsigned probes; /* liveness probes not answered yet */
	bool leaving;	 /* its VM is leaving (since leaving_since): its packets are held */
	double leaving_since;
};
typedef int (*fhr_eid_fn)(const struct fhr_eid_info *e, void *arg);
int fhr_eid_walk(const struct fhr *f, fhr_eid_fn fn, void *arg);
size_t fhr_eid_count(const struct fhr *f);
/* Dynamic-eid d of the configuration: its EIDs now, and the new ones refused at its eid-limit. */
void fhr_dyn_info(const struct fhr *f, size_t d, size_t *eids, uint64_t *refused);

/* gw.c: the channel to the gateways */
/* A datagram from a gateway (UDP 4349), to our channel socket. */
void fhr_input(struct fhr *f, const struct lisp_addr *src, uint16_t sport, const uint8_t *buf,
	       size_t len, double now);
struct fhr_gw_info {
	struct lisp_addr addr;
	uint32_t iid;
	const char *policy;
	bool up;
	double last_heard;
	size_t pending;
	uint32_t eids; /* ours it acknowledged (what its digest should cover) */
	bool in_sync;  /* its last Keepalive's digest matched ours (or nothing to compare yet) */
	uint64_t sent, acked, retransmits, resyncs, digest_resyncs;
	uint64_t replays, refused; /* its datagrams: replayed; for another receiver or life */
};
/* The gateways of every dynamic-eid, and gateway i of them (out's policy borrowed). */
size_t fhr_gw_count(const struct fhr *f);
void fhr_gw_info(const struct fhr *f, size_t i, struct fhr_gw_info *out);

/* eids.c again: the counters of table and channel (borrowed), a source's name. */
const struct fhr_counters *fhr_counters(const struct fhr *f);
const char *fhr_source_name(enum fhr_source s);

/* hyper.c: HypervisorEvents from the tenant's hosts (hypervisor-hooks/; no OS calls) */

#define FHR_HV_PORT  4350
#define FHR_HV_ADDRS 8

struct fhr_hv_io {
	/* sends an Ack from the listening socket */
	int (*send)(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len);
	void *arg;
	struct evhist *evh; /* where its events go (borrowed); NULL: nowhere */
	/* our MAC on interface ifname (0): a hypervisor may steer a guest's frames there in its
	 * switchover; NULL, or an error: not offered */
	int (*if_mac)(void *arg, const char *ifname, uint8_t mac[6]);
};

struct fhr_hv_counters {
	uint64_t received, accepted, auth_failures, unknown_iid, malformed, stale, replays, busy;
	uint64_t by_kind[5]; /* arriving, live, left, leaving, pausing */
	uint64_t detected;   /* EIDs new here because of a live VM (or its RARP) */
	uint64_t departed;   /* EIDs withdrawn because their VM left */
	uint64_t live_unknown, out_of_prefix, bindings_dropped;
	uint64_t misdirected;	  /* another direction, or sent to another FHR's address */
	uint64_t leaving;	  /* EIDs marked leaving because their VM paused to leave */
	uint64_t leaving_unknown; /* HV_LEAVING for a VM with no EID here (ignored) */
	uint64_t stayed;	  /* leaving EIDs that stay: HV_LIVE while they were leaving */
};

/* What the hypervisors said of one VM interface (MAC) of instance-id iid. */
struct fhr_hv_binding {
	uint8_t mac[6];
	uint32_t iid;
	char domain[64], host[64];
	struct lisp_addr addrs[FHR_HV_ADDRS];
	size_t naddrs;
	int last_kind; /* 0 arriving, 1 live, 2 left, 3 leaving */
	bool live;
	double since, updated;
};

struct fhr_hv;
struct fhr_hv *fhr_hv_new(struct fhr *f, const struct fhr_hv_io *io, uint64_t session);
void fhr_hv_free(struct fhr_hv *h);
/* The keys of conf (borrowed); how many instance-ids take events (0: no listener needed). */
size_t fhr_hv_configure(struct fhr_hv *h, const struct fhr_conf *conf);
/*
 * A datagram on the listener (UDP 4350) sent to our address dst (afi NONE:
 * not known); now is unix time (events are stamped with it).
 */
void fhr_hv_input(struct fhr_hv *h, const struct lisp_addr *src, uint16_t sport,
		  const struct lisp_addr *dst, const uint8_t *buf, size_t len, double now);
/* A RARP from mac on ifname: the addresses the hosts bound to it are detected there (the
 * FHR's own table is fhr_detect_mac()'s); how many are new. */
int fhr_hv_mac_seen(struct fhr_hv *h, const char *ifname, const uint8_t *mac, double now);
/* Drops bindings nobody spoke of for a day. */
void fhr_hv_tick(struct fhr_hv *h, double now);
/* When fhr_hv_tick() next may drop one (never before; INFINITY: no binding). */
double fhr_hv_next_due(const struct fhr_hv *h);
const struct fhr_hv_counters *fhr_hv_counters(const struct fhr_hv *h);
size_t fhr_hv_bindings(const struct fhr_hv *h, const struct fhr_hv_binding **out);

/* The daemon (main.c) */
struct fhr_detect_state;
struct fhr_neigh_stale;
struct fhr_nfq_state;
struct fhr_ctl;
struct nl;
struct fhr_daemon {
	struct ev_loop *loop;
	const char *conf_path, *ctl_path;
	struct fhr_conf *conf;
	struct fhr *fhr;
	int udp[2]; /* IPv4, IPv6: to and from the gateways */
	ev_io udp_io[2];
	ev_timer due;	 /* the earliest deadline of every module (main.c: arm()) */
	ev_prepare arm;	 /* sets it before the loop sleeps */
	double start_at; /* the first work (Hello, whole table) waits for the probed hosts */
	ev_signal sigterm, sigint, sighup;
	struct fhr_detect_state *detect;
	struct fhr_nfq_state *nfq;
	struct fhr_nft *own; /* without a queue: our table for the redirects (else nfq's) */
	struct nl *rt;	     /* rtnetlink, for across-subnet host routes; NULL until needed */
	struct nl *neigh;    /* the neighbour table's changes; NULL when not watched */
	struct fhr_neigh_stale *stale; /* neigh.c: the entries probed at start */
	size_t nstale;
	ev_io neigh_io;
	struct fhr_ctl *ctl;
	struct evhist *evh; /* the event history (show lisp event-history) */
	struct fhr_hv *hv;
	int hv_fd[2]; /* the HypervisorEvent listener, IPv4 and IPv6; -1 when off */
	ev_io hv_io[2];
	bool reexec; /* SIGHUP with a valid configuration: start again in place after shutdown */
};

/*
 * detect_nfq.c: data packets of unknown hosts through NFQUEUE; the packets
 * are picked by the agent's nftables table (detect_nft.c)
 */
void fhr_nfq_open(struct fhr_daemon *d, unsigned queue);
void fhr_nfq_close(struct fhr_daemon *d);
/* fhr_io.known: exempt a (or not any more) from the queue. */
void fhr_nfq_known(struct fhr_daemon *d, const struct lisp_addr *a, bool yes);
/* The local hold of a leaving EID's packets: limits (beyond: counted, accepted at once) */
#define FHR_HOLD_EIDS	     256	/* EIDs held at a time */
#define FHR_HOLD_EID_PACKETS 4096	/* packets of one EID */
#define FHR_HOLD_EID_BYTES   (4u << 20) /* bytes of one EID (IP lengths) */
#define FHR_HOLD_PACKETS     16384	/* packets in all */
#define FHR_HOLD_BYTES	     (16u << 20)
enum fhr_release {
	FHR_RELEASE_UP,	  /* moved away: after the route up, to the site gateway */
	FHR_RELEASE_HERE, /* it stays (or the hold time ended): delivered on the segment */
	FHR_RELEASE_GONE, /* it left the table: they go on as routed */
	FHR_RELEASE_DROP, /* its frames steered to us, its hold time over: dropped (held on) */
};
struct fhr_hold_counters {
	uint64_t held, released[4], over_limit, eids_refused;
	uint64_t holding; /* held now */
};
/*
 * Holds the packets our segments send to a (a leaving EID) from now on:
 * true, or false (no nfqueue configured: logged once; FHR_HOLD_EIDS held
 * already, or the set refused it: counted).
 */
bool fhr_nfq_hold(struct fhr_daemon *d, const struct lisp_addr *a);
/* Lets a's held packets go, in arrival order, and ends its hold; how many. */
size_t fhr_nfq_release(struct fhr_daemon *d, const struct lisp_addr *a, enum fhr_release how);
/* a's frames are steered to us by its hypervisor: over a hold limit they are dropped. */
void fhr_nfq_steered(struct fhr_daemon *d, const struct lisp_addr *a);
/* Packets held for a now. */
uint32_t fhr_nfq_held(const struct fhr_daemon *d, const struct lisp_addr *a);
struct fhr_hold_counters fhr_nfq_counters(const struct fhr_daemon *d);

/* detect_nft.c: that table, inet vmroam_fhr_qN, through libnftnl (no process) */
struct fhr_nft;
/*
 * Replaces the table of queue (a crashed run's goes) in one transaction:
 * no ICMP redirects out of c's ip proxy-arp interfaces; sets of known EIDs
 * (size addresses each at most) whose packets return, then the queue
 * (bypass) for the dynamic-eid prefixes of c on their mobility interfaces.
 * queue -1: table vmroam_fhr, only the redirects. 0 and *out (caller
 * frees: fhr_nft_close()), or -errno.
 */
int fhr_nft_open(struct fhr_nft **out, const struct fhr_conf *c, int queue, uint32_t size);
/* Adds a to its family's known set, or deletes it: 0 or -errno (-ENFILE: the set is full). */
int fhr_nft_known(struct fhr_nft *t, const struct lisp_addr *a, bool yes);
/* The same with the leaving set: the packets our segments send to a are queued (held). */
int fhr_nft_leaving(struct fhr_nft *t, const struct lisp_addr *a, bool yes);
/* Deletes the table and frees t; NULL is a no-op. */
void fhr_nft_close(struct fhr_nft *t);
/* The queue statement in use: "nft_queue", or "xt_NFQUEUE" where the kernel has no nft_queue. */
const char *fhr_nft_queue_form(const struct fhr_nft *t);

/*
 * neigh.c: the kernel's neighbour table on the mobility interfaces seeds
 * the EID table: its PERMANENT entries at once, the others are probed by
 * fhr_neigh_probe_stale() once detection is open (how many: its return).
 */
void fhr_neigh_seed(struct fhr_daemon *d);
/*
 * Tells the VM vm (at vmmac) that came back on ifname the true MACs of the
 * hosts the neighbour table has there (unicast gratuitous ARPs, override
 * advertisements): a site it was at gave it ours for the hosts of its
 * subnet. Returns how many.
 */
size_t fhr_neigh_tell(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *vm,
		      const uint8_t *vmmac);
size_t fhr_neigh_probe_stale(struct fhr_daemon *d);
/* Then watches its changes. */
void fhr_neigh_watch(struct fhr_daemon *d);

/* control.c: the control socket fhrctl talks to (the xtr_ctl protocol's dynamic-eid commands) */
struct fhr_ctl *fhr_ctl_open(struct fhr_daemon *d, const char *path);
void fhr_ctl_close(struct fhr_ctl *c);

#endif /* FHR_AGENT_FHR_H */
