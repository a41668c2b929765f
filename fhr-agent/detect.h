/* Host announcements on the wire: the frame parser (pure) and the AF_PACKET glue. */
#ifndef FHR_AGENT_DETECT_H
#define FHR_AGENT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lisp_addr.h"

enum fhr_frame_kind {
	FHR_FRAME_ARP,
	FHR_FRAME_RARP,
	FHR_FRAME_ND,
};

struct fhr_frame {
	enum fhr_frame_kind kind;
	bool has_addr;		 /* RARP carries none */
	struct lisp_addr addr;	 /* the address the host speaks for */
	uint8_t mac[6];		 /* the host's MAC */
	bool solicit;		 /* an ARP request or NS from a host (not a probe, not DAD) ... */
	struct lisp_addr target; /* ... for this address */
	struct lisp_addr sender; /* its sender address as written (0.0.0.0 or :: for a probe) */
	bool tentative;		 /* an ARP probe or DAD: the host claims addr, not using it yet */
};

/*
 * An Ethernet frame: 0 and the announcement, -ENOENT (not one: another
 * protocol, operation or an address no host has) or -EBADMSG (truncated,
 * malformed).
 */
int fhr_parse_frame(const uint8_t *frame, size_t len, struct fhr_frame *out);

/* An IPv4 or IPv6 packet in an Ethernet frame */
struct fhr_ip {
	struct lisp_addr src, dst;
	uint8_t ttl;	 /* or hop limit */
	size_t off, len; /* the packet: frame[off, off + len) (the frame's padding left out) */
};
/* 0, -ENOENT (neither IPv4 nor IPv6) or -EBADMSG (truncated, malformed). */
int fhr_parse_ip(const uint8_t *frame, size_t len, struct fhr_ip *out);

/* Frames the agent sends; f holds at least FHR_ARP_LEN or FHR_ND_LEN bytes. */
#define FHR_ARP_LEN 42
#define FHR_ND_LEN  86 /* Ethernet, IPv6, ICMPv6 with one link-layer address option */
/* An ARP frame (op 1 request, 2 reply): Ethernet header, sender, target. FHR_ARP_LEN. */
size_t fhr_build_arp(uint8_t *f, uint16_t op, const uint8_t eth_dst[6], const uint8_t eth_src[6],
		     const uint8_t sha[6], const uint8_t sip[4], const uint8_t tha[6],
		     const uint8_t tip[4]);
/*
 * A neighbour solicitation (135, with the source link-layer address
 * lladdr) or advertisement (136, target link-layer address; flags: 0x80
 * router, 0x40 solicited, 0x20 override), hop limit 255, checksummed.
 * FHR_ND_LEN.
 */
size_t fhr_build_nd(uint8_t *f, uint8_t type, uint8_t flags, const uint8_t eth_dst[6],
		    const uint8_t eth_src[6], const uint8_t src[16], const uint8_t dst[16],
		    const uint8_t target[16], const uint8_t lladdr[6]);

struct fhr_daemon;
/* AF_PACKET sockets with a classic BPF filter on the lisp mobility interfaces (detect.c). */
void fhr_detect_open(struct fhr_daemon *d);
/* Opens the interfaces that did not exist yet (once a second); sends the locality probes due. */
void fhr_detect_tick(struct fhr_daemon *d, double now);
/* When fhr_detect_tick() next has work: INFINITY when nothing waits. */
double fhr_detect_next_due(const struct fhr_daemon *d);
void fhr_detect_close(struct fhr_daemon *d);
/* Its counters (show lisp statistics) */
struct fhr_detect_counters {
	uint64_t frames, malformed, proxy_arps, locality_probes, announced;
	uint64_t fwd_frames, forwarded, corrections, fwd_refused;
	/* extended subnet, a leaving VM's frames: steal frames sent; captured and held; over a
	 * limit (dropped); not to an EID of the VM (dropped); routed up (moved away), delivered
	 * here (it stays), dropped (it left the table); held now; waits for the VM that stays
	 * ended by the time limit, not by its answer */
	uint64_t steal_frames, stolen, stolen_over, stolen_refused, stolen_up, stolen_here;
	uint64_t stolen_dropped, stolen_holding, steal_timeouts;
};
struct fhr_detect_counters fhr_detect_counters(const struct fhr_daemon *d);
/* fhr_io.probe: an ARP request for eid, unicast to mac, from the interface's address. */
void fhr_detect_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac);
/*
 * Tells the hosts on ifname that a is at lladdr (NULL: our MAC): a
 * gratuitous ARP, or an unsolicited neighbour advertisement with the
 * override flag (they replace what they cached); to every host (to_mac
 * NULL) or only to to_mac / to_ip.
 */
void fhr_detect_announce(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
			 const uint8_t *lladdr, const uint8_t *to_mac,
			 const struct lisp_addr *to_ip);
/* Is a inside a prefix of ifname's own addresses (on the link)? */
bool fhr_detect_on_link(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a);
/* Our MAC on mobility interface ifname now: 0, or -ENODEV (not one we listen on). */
int fhr_detect_if_mac(struct fhr_daemon *d, const char *ifname, uint8_t mac[6]);
/*
 * Across subnets: the VM at mac on ifname is a moved-in one (its address
 * is not on the link here), or no longer. Its packets to hosts of its old
 * subnet, sent to their MACs which are not here, reach the agent (the
 * segment floods them): it forwards them and tells the VM to send to the
 * gateway's MAC instead.
 */
void fhr_detect_foreign(struct fhr_daemon *d, const char *ifname, const uint8_t *mac, bool yes);

/*
 * Extended subnet: the VM at mac of a (a leaving EID) paused to migrate
 * away; the hosts that reach it at layer 2 without hearing our
 * announcement (the other site's, across the extension; those behind its
 * hypervisor's bridge) would send to its paused guest. A frame from its MAC
 * (a RARP, as QEMU's self-announce) makes the bridges deliver its MAC to
 * us; frames to it (IPv4, IPv6) are captured and held, in arrival order,
 * bounded (FHR_HOLD_EID_PACKETS and _BYTES of a, FHR_HOLD_PACKETS and
 * _BYTES in all; beyond: dropped, counted), until one of the three below.
 * No-op elsewhere, or if a's MAC is drawn already.
 */
void fhr_detect_steal(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
		      const uint8_t *mac);
/* Moved away (after the route up): a's held packets routed on, in order; the capture of
 * its MAC ends. How many. */
size_t fhr_detect_steal_up(struct fhr_daemon *d, const struct lisp_addr *a);
/* It left the table: a's held packets dropped (counted); how many. */
size_t fhr_detect_steal_drop(struct fhr_daemon *d, const struct lisp_addr *a);
/*
 * It stays (the migration failed): the VM is asked for a (a broadcast ARP
 * request, a multicast neighbour solicitation), its answer teaches the
 * bridges its MAC at its port again; once a frame from it is seen (or
 * after 50 ms) the held packets are sent to it at layer 2, in order, one
 * hop less to live, and done called with their number. At once (0) if a
 * had nothing stolen.
 */
typedef void (*fhr_steal_done_fn)(struct fhr_daemon *d, const char *ifname,
				  const struct lisp_addr *a, const uint8_t *mac, size_t delivered);
void fhr_detect_steal_here(struct fhr_daemon *d, const char *ifname, const struct lisp_addr *a,
			   const uint8_t *mac, fhr_steal_done_fn done);

#endif /* FHR_AGENT_DETECT_H */
