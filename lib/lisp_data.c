/* LISP data-plane header codec. */
#include "lib/lisp_data.h"

#include <errno.h>
#include <string.h>

#include "lib/buf.h"

#define DATA_N 0x80u
#define DATA_L 0x40u
#define DATA_E 0x20u
#define DATA_V 0x10u
#define DATA_I 0x08u
#define DATA_K 0x03u

int lisp_data_decode(const uint8_t *buf, size_t len, struct lisp_data_hdr *h)
{
	uint32_t w0, w1;

	memset(h, 0, sizeof(*h));
	if (len < LISP_DATA_HDR_LEN)
		return -EBADMSG;
	w0 = buf_load_be32(buf);
	w1 = buf_load_be32(buf + 4);
	h->nonce_present = buf[0] & DATA_N;
	h->lsb_valid = buf[0] & DATA_L;
	h->echo_nonce = (buf[0] & DATA_E) && h->nonce_present;
	h->map_version = (buf[0] & DATA_V) && !h->nonce_present;
	h->iid_present = buf[0] & DATA_I;
	h->key_id = buf[0] & DATA_K;
	if (h->nonce_present)
		h->nonce = w0 & 0xffffff;
	if (h->map_version) {
		h->src_version = (w0 >> 12) & 0xfff;
		h->dst_version = w0 & 0xfff;
	}
	if (h->iid_present) {
		h->iid = w1 >> 8;
		h->lsb = h->lsb_valid ? (w1 & 0xff) : 0;
	} else {
		h->lsb = h->lsb_valid ? w1 : 0;
	}
	return 0;
}

int lisp_data_encode(const struct lisp_data_hdr *h, uint8_t *out)
{
	uint32_t w0 = 0, w1 = 0;

	if ((h->nonce_present && h->map_version) || h->nonce > 0xffffff || h->src_version > 0xfff ||
	    h->dst_version > 0xfff || h->iid > 0xffffff || h->key_id > 3 ||
	    (h->iid_present && h->lsb > 0xff))
		return -EINVAL;
	w0 = (h->nonce_present ? DATA_N : 0) | (h->lsb_valid ? DATA_L : 0) |
	     (h->echo_nonce && h->nonce_present ? DATA_E : 0) | (h->map_version ? DATA_V : 0) |
	     (h->iid_present ? DATA_I : 0) | h->key_id;
	w0 <<= 24;
	if (h->nonce_present)
		w0 |= h->nonce;
	else if (h->map_version)
		w0 |= (uint32_t)h->src_version << 12 | h->dst_version;
	if (h->iid_present)
		w1 = h->iid << 8 | (h->lsb_valid ? h->lsb : 0);
	else if (h->lsb_valid)
		w1 = h->lsb;
	for (int i = 0; i < 4; i++) {
		out[i] = (uint8_t)(w0 >> (24 - 8 * i));
		out[4 + i] = (uint8_t)(w1 >> (24 - 8 * i));
	}
	return 0;
}
