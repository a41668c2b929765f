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
};

/*
 * An Ethernet frame: 0 and the announcement, -ENOENT (not one: another
 * protocol, operation or an address no host has) or -EBADMSG (truncated,
 * malformed).
 */
int fhr_parse_frame(const uint8_t *frame, size_t len, struct fhr_frame *out);

struct fhr_daemon;
/* AF_PACKET sockets with a classic BPF filter on the lisp mobility interfaces (detect.c). */
void fhr_detect_open(struct fhr_daemon *d);
/* Opens the interfaces that did not exist yet. */
void fhr_detect_retry(struct fhr_daemon *d);
void fhr_detect_close(struct fhr_daemon *d);
/* fhr_io.probe: an ARP request for eid, unicast to mac, from the interface's address. */
void fhr_detect_probe(void *arg, const char *ifname, const struct lisp_addr *eid,
		      const uint8_t *mac);

#endif /* FHR_AGENT_DETECT_H */
