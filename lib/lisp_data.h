/*
 * The 8-byte LISP data-plane header (RFC 9300 §5.3).
 */
#ifndef LIB_LISP_DATA_H
#define LIB_LISP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LISP_DATA_HDR_LEN 8

struct lisp_data_hdr {
	bool nonce_present;   /* N */
	bool lsb_valid;	      /* L */
	bool echo_nonce;      /* E (meaningless without N) */
	bool map_version;     /* V */
	bool iid_present;     /* I */
	uint8_t key_id;	      /* KK, 0 = not encrypted */
	uint32_t nonce;	      /* 24 bits, when N */
	uint16_t src_version; /* 12 bits, when V (and not N) */
	uint16_t dst_version; /* 12 bits, when V (and not N) */
	uint32_t iid;	      /* 24 bits, when I */
	uint32_t lsb;	      /* 32 bits, or the low 8 when I */
};

/*
 * Decodes the first 8 bytes of buf. Returns 0, or -EBADMSG when shorter.
 * Per RFC 9300, N and V together mean a nonce; the reserved bit is ignored.
 */
int lisp_data_decode(const uint8_t *buf, size_t len, struct lisp_data_hdr *h);

/*
 * Writes the header into out[8]. Returns 0, or -EINVAL when N and V are
 * both set, or a value does not fit its field (nonce, versions, iid >
 * 24 bits, lsb > 8 bits with I, key_id > 3).
 */
int lisp_data_encode(const struct lisp_data_hdr *h, uint8_t *out);

#endif /* LIB_LISP_DATA_H */
