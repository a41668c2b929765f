/*
 * LISP control messages (RFC 9301): Map-Request, Map-Reply, Map-Register,
 * Map-Notify, Map-Notify-Ack, Encapsulated Control Message; EID-records
 * and locator records.
 *
 * Decoders validate the whole message (every record, every locator, no
 * trailing bytes) and never allocate: lists come back as views into the
 * caller's buffer, walked with the iterators below, valid while that
 * buffer is. They return 0, -EBADMSG (truncated or inconsistent) or
 * -EPROTONOSUPPORT (an AFI, LCAF type or feature we do not handle; drop
 * the message and log it).
 *
 * Encoders write into a struct buf_writer and return 0, -EINVAL (bad
 * input) or -ENOSPC. Messages with authentication get a zero-filled
 * Authentication Data field of the right length; lisp_auth_sign() fills it.
 */
#ifndef LIB_LISP_MSG_H
#define LIB_LISP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/ippkt.h"
#include "lib/lisp_addr.h"

#define LISP_CONTROL_PORT 4342
#define LISP_DATA_PORT	  4341

enum lisp_type {
	LISP_TYPE_MAP_REQUEST = 1,
	LISP_TYPE_MAP_REPLY = 2,
	LISP_TYPE_MAP_REGISTER = 3,
	LISP_TYPE_MAP_NOTIFY = 4,
	LISP_TYPE_MAP_NOTIFY_ACK = 5,
	LISP_TYPE_MAP_REFERRAL = 6,
	LISP_TYPE_ECM = 8,
};

/* Negative Map-Reply actions (RFC 9301 §5.4). */
enum lisp_act {
	LISP_ACT_NO_ACTION = 0,
	LISP_ACT_NATIVE_FORWARD = 1,
	LISP_ACT_SEND_MAP_REQUEST = 2,
	LISP_ACT_DROP = 3,
	LISP_ACT_DROP_POLICY = 4,
	LISP_ACT_DROP_AUTH = 5,
};

#define LISP_MAX_ITR_RLOCS 32	/* IRC is 5 bits, count minus one */
#define LISP_TTL_DEFAULT   1440 /* minutes */

/* A list inside a decoded message: raw bytes plus the number of items. */
struct lisp_view {
	const uint8_t *p;
	size_t len;
	unsigned count;
};

struct lisp_locator {
	uint8_t priority, weight, mpriority, mweight;
	bool local;	/* L: local to the sending ETR */
	bool probed;	/* p: the probed locator in a probe reply */
	bool reachable; /* R */
	uint8_t naddr;	/* addresses in addr[] (1 unless an AFI-List) */
	bool afi_list;	/* encoded as an AFI-List LCAF */
	struct lisp_addr addr[LISP_AFI_LIST_MAX];
};

struct lisp_eid_record {
	uint32_t ttl; /* minutes */
	uint8_t loc_count;
	uint8_t act; /* enum lisp_act, meaningful when loc_count == 0 */
	bool authoritative;
	uint16_t map_version; /* 12 bits */
	struct lisp_prefix eid;
	const struct lisp_locator *locs; /* encode: loc_count locators */
	struct lisp_view loc_view;	 /* decode: the locators, see lisp_locator_iter */
};

/* Map-Request (type 1). */
struct lisp_map_request {
	bool authoritative;  /* A */
	bool map_data;	     /* M: a Map-Reply record follows */
	bool probe;	     /* P */
	bool smr;	     /* S */
	bool pitr;	     /* p */
	bool smr_invoked;    /* s */
	bool local_xtr;	     /* L */
	bool dont_map_reply; /* D */
	/*
	 * PubSub (RFC 9437): I, the xTR-ID (and Site-ID) after the records;
	 * N on the records, a subscription (decode: the first record's).
	 * lispers.net sends the xTR-ID alone: decode sets site_id_present
	 * only when the Site-ID follows; encode always sends both.
	 */
	bool xtr_id_present;
	bool site_id_present;
	bool notify;
	uint8_t xtr_id[16];
	uint64_t site_id;
	uint64_t nonce;
	struct lisp_prefix src_eid; /* afi NONE when absent; plen is the address length */
	uint8_t itr_rloc_count;	    /* 1..32 */
	struct lisp_addr itr_rlocs[LISP_MAX_ITR_RLOCS];
	struct lisp_view eids;		     /* decode: EID prefixes, see lisp_prefix_iter */
	struct lisp_eid_record map_data_rec; /* when map_data */
};

/* Map-Reply (type 2). */
struct lisp_map_reply {
	bool probe;	 /* P */
	bool echo_nonce; /* E */
	bool lisp_sec;	 /* S */
	uint64_t nonce;
	struct lisp_view records; /* decode: see lisp_record_iter */
};

/* Authentication header common to Map-Register, Map-Notify and Map-Notify-Ack. */
struct lisp_auth_field {
	uint8_t key_id;
	uint8_t alg_id;
	uint16_t len;	     /* Authentication Data Length */
	const uint8_t *data; /* decode: view of the authentication data */
};

/* Map-Register (type 3). */
struct lisp_map_register {
	bool proxy_reply;     /* P */
	bool lisp_sec;	      /* S */
	bool xtr_id_present;  /* I */
	bool eid_notify;      /* E */
	bool ttl_expiry;      /* T */
	bool merge;	      /* a */
	bool want_map_notify; /* M */
	uint64_t nonce;
	struct lisp_auth_field auth;
	struct lisp_view records;
	uint8_t xtr_id[16]; /* when xtr_id_present */
	uint64_t site_id;
};

/* Map-Notify (type 4) and Map-Notify-Ack (type 5). */
struct lisp_map_notify {
	bool ack;	     /* true: Map-Notify-Ack */
	bool xtr_id_present; /* bit 4 (NAT-traversal use); decode only, never sent */
	uint64_t nonce;
	struct lisp_auth_field auth;
	struct lisp_view records;
	uint8_t xtr_id[16];
	uint64_t site_id;
};

/* The E flag in the first byte of an ECM: forwarded by a Map-Server to an ETR. */
#define LISP_ECM_E_BIT 0x02

/* Encapsulated Control Message (type 8). */
struct lisp_ecm {
	bool lisp_sec;		/* S: not supported, decode refuses it */
	bool ddt;		/* D */
	bool to_etr;		/* E */
	bool to_ms;		/* M */
	struct ippkt_udp inner; /* inner IP/UDP header; payload = the control message */
};

/* Returns the type of the control message in buf (0..15), or -EBADMSG if empty. */
int lisp_msg_type(const uint8_t *buf, size_t len);

int lisp_msg_decode_map_request(const uint8_t *buf, size_t len, struct lisp_map_request *m);
int lisp_msg_decode_map_reply(const uint8_t *buf, size_t len, struct lisp_map_reply *m);
int lisp_msg_decode_map_register(const uint8_t *buf, size_t len, struct lisp_map_register *m);
/* Decodes type 4 or 5 (m->ack tells which). */
int lisp_msg_decode_map_notify(const uint8_t *buf, size_t len, struct lisp_map_notify *m);
/* Decodes the ECM header and inner IP/UDP (checksum verified); inner.payload is the message. */
int lisp_msg_decode_ecm(const uint8_t *buf, size_t len, struct lisp_ecm *m);

/* eids: n prefixes (1..255). */
int lisp_msg_encode_map_request(struct buf_writer *w, const struct lisp_map_request *m,
				const struct lisp_prefix *eids, size_t n);
int lisp_msg_encode_map_reply(struct buf_writer *w, const struct lisp_map_reply *m,
			      const struct lisp_eid_record *recs, size_t n);
int lisp_msg_encode_map_register(struct buf_writer *w, const struct lisp_map_register *m,
				 const struct lisp_eid_record *recs, size_t n);
int lisp_msg_encode_map_notify(struct buf_writer *w, const struct lisp_map_notify *m,
			       const struct lisp_eid_record *recs, size_t n);
/* Writes the ECM header, then m->inner's IP/UDP header around msg (len bytes). */
int lisp_msg_encode_ecm(struct buf_writer *w, const struct lisp_ecm *m, const uint8_t *msg,
			size_t len);

/*
 * Iterators over the lists of a message that decoded successfully.
 * next() returns true and fills *out, or false at the end.
 */
struct lisp_iter {
	struct buf_reader r;
	unsigned left;
};

void lisp_record_iter_init(struct lisp_iter *it, const struct lisp_view *records);
bool lisp_record_iter_next(struct lisp_iter *it, struct lisp_eid_record *out);

void lisp_locator_iter_init(struct lisp_iter *it, const struct lisp_eid_record *rec);
bool lisp_locator_iter_next(struct lisp_iter *it, struct lisp_locator *out);

/* The EID prefixes of a Map-Request. */
void lisp_prefix_iter_init(struct lisp_iter *it, const struct lisp_view *eids);
bool lisp_prefix_iter_next(struct lisp_iter *it, struct lisp_prefix *out);

/* Decodes one EID-record with its locators from r (used by the decoders and iterators). */
int lisp_eid_record_decode(struct buf_reader *r, struct lisp_eid_record *rec);
/* Encodes one EID-record with rec->locs. */
int lisp_eid_record_encode(struct buf_writer *w, const struct lisp_eid_record *rec);

#endif /* LIB_LISP_MSG_H */
