/*
 * The eid-notify channel between a first-hop router (fhr-agent) and its
 * site gateways (xtr-gateway), shared by both: datagram framing with the
 * tenant's HMAC-SHA-256, the receiver's replay window, and the sender's
 * retransmission queue. No I/O here: the daemons move the bytes.
 *
 * Datagram: "VMRN" | version 2 | instance-id (4 bytes, big-endian) |
 * Envelope (proto/eid_notify.proto) | HMAC-SHA-256 over all before it.
 * The instance-id is in the clear so that the receiver picks the
 * tenant's key and checks the MAC before it decodes anything. The
 * channel's rules (who may say what, when) are written in the .proto.
 */
#ifndef LIB_NOTIFY_H
#define LIB_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/lisp_addr.h"
#include "lib/lisp_auth.h"
#include "proto/eid_notify.pb-c.h"

#define NOTIFY_PORT	 4349
#define NOTIFY_VERSION	 2
#define NOTIFY_HDR_LEN	 9 /* magic, version, instance-id */
#define NOTIFY_MAX	 16384
#define NOTIFY_KEEPALIVE 1.0 /* s between keepalives; a peer is dead after 3 missed */
#define NOTIFY_DEAD	 (3 * NOTIFY_KEEPALIVE + 0.5)

/* Packs env for instance-id iid, signed with k, into out; the length, or 0 if it does not fit. */
size_t notify_pack(struct lisp_auth_key *k, uint32_t iid, const Vmroam__Notify__Envelope *env,
		   uint8_t *out, size_t cap);

/* The instance-id of a datagram (to choose its key); -EBADMSG if it is not one of ours. */
int notify_peek_iid(const uint8_t *buf, size_t len, uint32_t *iid);

/*
 * The next datagram waiting on the non-blocking UDP socket fd (both ends'
 * receive loops): its length, with its sender in src and port and, when dst
 * is not NULL, the local address it was sent to (afi NONE when the socket
 * does not report it: notify_socket() asks for it); -1 when none is left.
 * Datagrams from a sender of no address family we know are skipped.
 */
ssize_t notify_recv(int fd, uint8_t *buf, size_t cap, struct lisp_addr *src, uint16_t *port,
		    struct lisp_addr *dst);

/*
 * A non-blocking UDP socket of family (AF_INET, AF_INET6: IPv6 only) for
 * the channel, bound to port on every address when port is not 0, that
 * reports each datagram's destination address; the fd or -errno.
 */
int notify_socket(int family, uint16_t port);
/* Makes fd report each datagram's destination address (IP_PKTINFO); 0 or -errno. */
int notify_socket_pktinfo(int fd, int family);

/*
 * Sends a datagram to dst:port on fd, from local address from when it is not
 * NULL nor afi NONE (the address the peer sent to, so that the answer comes
 * from where the peer expects it); 0 or -errno.
 */
int notify_sendmsg(int fd, const struct lisp_addr *from, const struct lisp_addr *dst, uint16_t port,
		   const uint8_t *buf, size_t len);

/* Sends a datagram to dst:port on fds[0] (IPv4) or fds[1] (IPv6); 0 or -errno. */
int notify_sendto(const int fds[2], const struct lisp_addr *dst, uint16_t port, const uint8_t *buf,
		  size_t len);

/*
 * Checks what binds a decoded envelope to this receiver: its direction
 * (-EPERM), receiver (-EXDEV: receiver NULL skips it) and, when
 * receiver_session is not 0, the session it names (-ESTALE: sent to an
 * earlier life of ours). 0 when it is ours.
 */
int notify_bound(const Vmroam__Notify__Envelope *env, Vmroam__Notify__Direction dir,
		 const char *receiver, uint64_t receiver_session);

/* A session: the time now in ns (it grows across restarts while the clock does). */
uint64_t notify_session_now(void);

/*
 * Anti-entropy digest of a table: 0 for an empty one, then
 * d = notify_digest_add(d, p) for each host prefix p, in any order (adding
 * the same prefix again removes it).
 */
uint64_t notify_digest_add(uint64_t d, const struct lisp_prefix *p);

/*
 * Checks the MAC with k and decodes. Returns the envelope (free with
 * vmroam__notify__envelope__free_unpacked) or NULL with *err = -EBADMSG
 * (not a datagram of ours, or undecodable), -EACCES (MAC), -EPROTO (the
 * instance-id inside differs from the one outside) or -EPROTONOSUPPORT
 * (another version).
 */
Vmroam__Notify__Envelope *notify_unpack(struct lisp_auth_key *k, const uint8_t *buf, size_t len,
					int *err);

/*
 * The receiver's view of one sender: its session, and per sequence space
 * a 64-message replay window, with the status of the reliable messages
 * in the window (to acknowledge a retransmission whose Ack was lost,
 * again, with it). A sender numbers its reliable messages (all but Ack
 * and Keepalive) and the rest in two spaces, and has at most
 * NOTIFY_WINDOW reliable ones unacknowledged (notify_tx): so every
 * retransmission is inside the window, however many Acks and Keepalives
 * went since, and is acknowledged again rather than refused as too old.
 */
#define NOTIFY_WINDOW 64
struct notify_rx {
	uint64_t session;
	uint64_t top, window;	/* reliable messages: window bit i: top - i seen */
	uint64_t utop, uwindow; /* the others (Ack, Keepalive), the same */
	uint64_t done_seq[NOTIFY_WINDOW];
	int32_t done_status[NOTIFY_WINDOW];
};

/* Is env reliable (retransmitted until acknowledged: all but Ack and Keepalive)? */
bool notify_is_reliable(const Vmroam__Notify__Envelope *env);

#define NOTIFY_RX_NEW_SESSION 1
/*
 * Accepts (session, seq) of the reliable messages' space or the other
 * one, or refuses it: 0, NOTIFY_RX_NEW_SESSION (the sender restarted:
 * resynchronise), -ESTALE (an older session) or -EALREADY (seen before,
 * or too old for the window). Changes r only when it accepts: call it
 * after every other check of the datagram.
 */
int notify_rx_accept(struct notify_rx *r, uint64_t session, uint64_t seq, bool reliable);
/* Remembers the status a reliable message (session's seq) was acknowledged with. */
void notify_rx_done(struct notify_rx *r, uint64_t seq, int32_t status);
/* The status seq of the current session was acknowledged with: 0, or -ENOENT if not known. */
int notify_rx_status(const struct notify_rx *r, uint64_t seq, int32_t *status);

/*
 * The sender's side of one peer: sequence numbers and the reliable
 * messages that wait for their Ack. Only the NOTIFY_WINDOW oldest of them
 * are in flight (sent, retransmitted 0.2, 0.4 ... 2 s apart); the others
 * wait unsent until Acks make room. A message about an EID replaces an
 * unacknowledged older one about the same EID (per-EID order: only the
 * newest state matters), sent or not.
 */
#define NOTIFY_TXQ_MAX 4096

struct notify_pending {
	uint64_t seq;
	char key[64]; /* what it is about ("" for none): a newer one with the key replaces it */
	double next, backoff; /* next: INFINITY while not sent (outside the send window) */
	unsigned tries;
	bool sent;
	size_t len;
	uint8_t *buf;
};

struct notify_tx {
	uint64_t session, seq, rseq; /* the last seq of the others, of the reliable messages */
	struct notify_pending *q;    /* in seq order */
	size_t n, cap;
	uint64_t retransmits, replaced, dropped;
};

void notify_tx_init(struct notify_tx *t, uint64_t session);
void notify_tx_free(struct notify_tx *t);
/* The next sequence number to put in an Envelope: an Ack or a Keepalive. */
uint64_t notify_tx_next(struct notify_tx *t);
/* The next one for a reliable message (then kept: notify_tx_keep). */
uint64_t notify_tx_next_reliable(struct notify_tx *t);
/*
 * Keeps a reliable datagram (not sent yet) until its Ack; false when the
 * queue is full (it is dropped, counted). notify_tx_due() sends it when
 * the send window has room.
 */
bool notify_tx_keep(struct notify_tx *t, uint64_t seq, const char *key, const uint8_t *buf,
		    size_t len, double now);
/* An Ack: forgets the message (its key copied to key when not NULL); false if none waited. */
bool notify_tx_ack(struct notify_tx *t, uint64_t seq, char *key, size_t keylen);
/*
 * The same, handing the datagram to the caller (who frees it) with its
 * length in len, or NULL if none waited.
 */
uint8_t *notify_tx_take(struct notify_tx *t, uint64_t seq, char *key, size_t keylen, size_t *len);
/* Forgets the message kept under key, if one is; true if one was. */
bool notify_tx_cancel(struct notify_tx *t, const char *key);
/*
 * Calls send for each message due for retransmission and for each one
 * not sent yet that the send window now has room for: after a keep, an
 * Ack, and on the daemon's tick.
 */
void notify_tx_due(struct notify_tx *t, double now,
		   void (*send)(void *arg, const uint8_t *buf, size_t len), void *arg);
/* Forgets everything (the peer restarted or died: a resync follows). */
void notify_tx_clear(struct notify_tx *t);
/* When notify_tx_due() next has a message to send: the earliest, or INFINITY when none waits. */
double notify_tx_next_due(const struct notify_tx *t);

#endif /* LIB_NOTIFY_H */
