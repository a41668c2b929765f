/* LISP control message codec (RFC 9301 §5). */
#include "lib/lisp_msg.h"

#include <errno.h>
#include <string.h>

/* Word-0 bits of each message type. */
#define MREQ_A	   0x08000000u
#define MREQ_M	   0x04000000u
#define MREQ_P	   0x02000000u
#define MREQ_S	   0x01000000u
#define MREQ_PI	   0x00800000u
#define MREQ_SI	   0x00400000u
#define MREQ_I	   0x00100000u
#define MREQ_REC_N 0x80u
#define MREQ_L	   0x00004000u
#define MREQ_D	   0x00002000u
#define MREP_P	   0x08000000u
#define MREP_E	   0x04000000u
#define MREP_S	   0x02000000u
#define MREG_P	   0x08000000u
#define MREG_S	   0x04000000u
#define MREG_I	   0x02000000u
#define MREG_E	   0x00001000u
#define MREG_T	   0x00000800u
#define MREG_A	   0x00000400u
#define MREG_M	   0x00000100u
#define MNOT_I	   0x08000000u
#define ECM_S	   0x08000000u
#define ECM_D	   0x04000000u
#define ECM_E	   0x02000000u
#define ECM_M	   0x01000000u
#define LOC_L	   0x0004u
#define LOC_P	   0x0002u
#define LOC_R	   0x0001u
#define REC_A	   0x1000u
#define ECM_HLEN   4

static uint32_t flag(bool on, uint32_t bit)
{
	return on ? bit : 0;
}

int lisp_msg_type(const uint8_t *buf, size_t len)
{
	if (len < 1)
		return -EBADMSG;
	return buf[0] >> 4;
}

/* Reads word 0 and checks the type nibble. */
static uint32_t get_word0(struct buf_reader *r, const uint8_t *buf, size_t len, unsigned type)
{
	uint32_t w0;

	buf_reader_init(r, buf, len);
	w0 = buf_get_be32(r);
	if (!r->err && w0 >> 28 != type)
		r->err = -EBADMSG;
	return w0;
}

static int locator_decode(struct buf_reader *r, struct lisp_locator *l)
{
	uint16_t flags;

	l->priority = buf_get_u8(r);
	l->weight = buf_get_u8(r);
	l->mpriority = buf_get_u8(r);
	l->mweight = buf_get_u8(r);
	flags = buf_get_be16(r);
	if (r->err)
		return r->err;
	l->local = flags & LOC_L;
	l->probed = flags & LOC_P;
	l->reachable = flags & LOC_R;
	return lisp_rloc_decode(r, l->addr, &l->naddr, &l->afi_list);
}

int lisp_eid_record_decode(struct buf_reader *r, struct lisp_eid_record *rec)
{
	struct lisp_locator loc;
	uint16_t w, v;
	uint8_t plen;
	size_t start;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->ttl = buf_get_be32(r);
	rec->loc_count = buf_get_u8(r);
	plen = buf_get_u8(r);
	w = buf_get_be16(r);
	v = buf_get_be16(r);
	if (r->err)
		return r->err;
	rec->act = (uint8_t)(w >> 13);
	rec->authoritative = w & REC_A;
	rec->map_version = v & 0x0fff;
	rc = lisp_eid_decode(r, plen, &rec->eid);
	if (rc < 0)
		return rc;
	start = r->off;
	for (unsigned i = 0; i < rec->loc_count; i++) {
		rc = locator_decode(r, &loc);
		if (rc < 0)
			return rc;
	}
	rec->loc_view.p = r->p + start;
	rec->loc_view.len = r->off - start;
	rec->loc_view.count = rec->loc_count;
	return 0;
}

/* Validates count EID-records at r and returns them as a view. */
static int records_decode(struct buf_reader *r, unsigned count, struct lisp_view *v)
{
	struct lisp_eid_record rec;
	size_t start = r->off;
	int rc;

	for (unsigned i = 0; i < count; i++) {
		rc = lisp_eid_record_decode(r, &rec);
		if (rc < 0)
			return rc;
	}
	v->p = r->p + start;
	v->len = r->off - start;
	v->count = count;
	return 0;
}

/* One EID of a Map-Request; *flags gets its first byte (the N bit, RFC 9437). */
static int prefix_record_decode(struct buf_reader *r, struct lisp_prefix *p, uint8_t *flags)
{
	uint8_t plen;

	*flags = buf_get_u8(r);
	plen = buf_get_u8(r);
	if (r->err)
		return r->err;
	return lisp_eid_decode(r, plen, p);
}

static int request_body_decode(struct buf_reader *r, unsigned nrec, struct lisp_map_request *m)
{
	struct lisp_prefix p;
	size_t start;
	int rc;

	rc = lisp_eid_decode(r, 0, &m->src_eid);
	if (rc < 0)
		return rc;
	m->src_eid.plen = (uint8_t)lisp_afi_max_plen(m->src_eid.addr.afi);
	for (unsigned i = 0; i < m->itr_rloc_count; i++) {
		rc = lisp_addr_decode(r, &m->itr_rlocs[i]);
		if (rc < 0)
			return rc;
	}
	start = r->off;
	for (unsigned i = 0; i < nrec; i++) {
		uint8_t flags;

		rc = prefix_record_decode(r, &p, &flags);
		if (rc < 0)
			return rc;
		if (i == 0)
			m->notify = flags & MREQ_REC_N;
	}
	m->eids.p = r->p + start;
	m->eids.len = r->off - start;
	m->eids.count = nrec;
	if (m->map_data) {
		rc = lisp_eid_record_decode(r, &m->map_data_rec);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int lisp_msg_decode_map_request(const uint8_t *buf, size_t len, struct lisp_map_request *m)
{
	struct buf_reader r;
	uint32_t w0;
	unsigned nrec;
	int rc;

	memset(m, 0, sizeof(*m));
	w0 = get_word0(&r, buf, len, LISP_TYPE_MAP_REQUEST);
	m->nonce = buf_get_be64(&r);
	if (r.err)
		return r.err;
	m->authoritative = w0 & MREQ_A;
	m->map_data = w0 & MREQ_M;
	m->probe = w0 & MREQ_P;
	m->smr = w0 & MREQ_S;
	m->pitr = w0 & MREQ_PI;
	m->smr_invoked = w0 & MREQ_SI;
	m->local_xtr = w0 & MREQ_L;
	m->dont_map_reply = w0 & MREQ_D;
	m->xtr_id_present = w0 & MREQ_I;
	m->itr_rloc_count = (uint8_t)(((w0 >> 8) & 0x1f) + 1);
	nrec = w0 & 0xff;
	if (nrec == 0)
		return -EBADMSG;
	rc = request_body_decode(&r, nrec, m);
	if (rc < 0)
		return rc;
	if (m->xtr_id_present) {
		size_t left = buf_remaining(&r);

		/* RFC 9437: the xTR-ID and Site-ID; lispers.net: the xTR-ID alone */
		if (left != 16 && left != 24)
			return -EBADMSG;
		buf_get_bytes(&r, m->xtr_id, 16);
		m->site_id_present = left == 24;
		if (m->site_id_present)
			m->site_id = buf_get_be64(&r);
		if (r.err)
			return r.err;
	}
	return buf_remaining(&r) ? -EBADMSG : 0;
}

int lisp_msg_decode_map_reply(const uint8_t *buf, size_t len, struct lisp_map_reply *m)
{
	struct buf_reader r;
	uint32_t w0;
	int rc;

	memset(m, 0, sizeof(*m));
	w0 = get_word0(&r, buf, len, LISP_TYPE_MAP_REPLY);
	m->nonce = buf_get_be64(&r);
	if (r.err)
		return r.err;
	m->probe = w0 & MREP_P;
	m->echo_nonce = w0 & MREP_E;
	m->lisp_sec = w0 & MREP_S;
	if (m->lisp_sec)
		return -EPROTONOSUPPORT;
	if ((w0 & 0xff) == 0)
		return -EBADMSG;
	rc = records_decode(&r, w0 & 0xff, &m->records);
	if (rc < 0)
		return rc;
	return buf_remaining(&r) ? -EBADMSG : 0;
}

static int auth_decode(struct buf_reader *r, struct lisp_auth_field *a)
{
	a->key_id = buf_get_u8(r);
	a->alg_id = buf_get_u8(r);
	a->len = buf_get_be16(r);
	a->data = buf_get_view(r, a->len);
	return r->err;
}

/*
 * The part of a Map-Register, Map-Notify or Map-Notify-Ack after the
 * authentication data: nrec records, the xTR-ID and Site-ID when present,
 * and nothing else.
 */
static int auth_msg_tail(struct buf_reader *r, unsigned nrec, bool xtr, struct lisp_view *records,
			 uint8_t *xtr_id, uint64_t *site_id)
{
	int rc = records_decode(r, nrec, records);

	if (rc < 0)
		return rc;
	if (xtr) {
		buf_get_bytes(r, xtr_id, 16);
		*site_id = buf_get_be64(r);
	}
	if (r->err)
		return r->err;
	return buf_remaining(r) ? -EBADMSG : 0;
}

int lisp_msg_decode_map_register(const uint8_t *buf, size_t len, struct lisp_map_register *m)
{
	struct buf_reader r;
	uint32_t w0;

	memset(m, 0, sizeof(*m));
	w0 = get_word0(&r, buf, len, LISP_TYPE_MAP_REGISTER);
	m->nonce = buf_get_be64(&r);
	if (auth_decode(&r, &m->auth) < 0)
		return r.err;
	m->proxy_reply = w0 & MREG_P;
	m->lisp_sec = w0 & MREG_S;
	m->xtr_id_present = w0 & MREG_I;
	m->eid_notify = w0 & MREG_E;
	m->ttl_expiry = w0 & MREG_T;
	m->merge = w0 & MREG_A;
	m->want_map_notify = w0 & MREG_M;
	if ((w0 & 0xff) == 0)
		return -EBADMSG;
	return auth_msg_tail(&r, w0 & 0xff, m->xtr_id_present, &m->records, m->xtr_id, &m->site_id);
}

int lisp_msg_decode_map_notify(const uint8_t *buf, size_t len, struct lisp_map_notify *m)
{
	struct buf_reader r;
	uint32_t w0;

	memset(m, 0, sizeof(*m));
	if (len < 1 ||
	    (buf[0] >> 4 != LISP_TYPE_MAP_NOTIFY && buf[0] >> 4 != LISP_TYPE_MAP_NOTIFY_ACK))
		return -EBADMSG;
	w0 = get_word0(&r, buf, len, buf[0] >> 4);
	m->ack = w0 >> 28 == LISP_TYPE_MAP_NOTIFY_ACK;
	m->xtr_id_present = w0 & MNOT_I;
	m->nonce = buf_get_be64(&r);
	if (auth_decode(&r, &m->auth) < 0)
		return r.err;
	return auth_msg_tail(&r, w0 & 0xff, m->xtr_id_present, &m->records, m->xtr_id, &m->site_id);
}

int lisp_msg_decode_ecm(const uint8_t *buf, size_t len, struct lisp_ecm *m)
{
	struct buf_reader r;
	uint32_t w0;
	int rc;

	memset(m, 0, sizeof(*m));
	w0 = get_word0(&r, buf, len, LISP_TYPE_ECM);
	if (r.err)
		return r.err;
	m->lisp_sec = w0 & ECM_S;
	m->ddt = w0 & ECM_D;
	m->to_etr = w0 & ECM_E;
	m->to_ms = w0 & ECM_M;
	if (m->lisp_sec)
		return -EPROTONOSUPPORT;
	rc = ippkt_decode_udp(buf + ECM_HLEN, len - ECM_HLEN, true, &m->inner);
	if (rc < 0)
		return rc;
	if (m->inner.dport != LISP_CONTROL_PORT || m->inner.payload_len == 0)
		return -EBADMSG;
	return 0;
}

void lisp_record_iter_init(struct lisp_iter *it, const struct lisp_view *records)
{
	buf_reader_init(&it->r, records->p, records->len);
	it->left = records->count;
}

bool lisp_record_iter_next(struct lisp_iter *it, struct lisp_eid_record *out)
{
	if (it->left == 0 || lisp_eid_record_decode(&it->r, out) < 0)
		return false;
	it->left--;
	return true;
}

void lisp_locator_iter_init(struct lisp_iter *it, const struct lisp_eid_record *rec)
{
	buf_reader_init(&it->r, rec->loc_view.p, rec->loc_view.len);
	it->left = rec->loc_view.count;
}

bool lisp_locator_iter_next(struct lisp_iter *it, struct lisp_locator *out)
{
	if (it->left == 0 || locator_decode(&it->r, out) < 0)
		return false;
	it->left--;
	return true;
}

void lisp_prefix_iter_init(struct lisp_iter *it, const struct lisp_view *eids)
{
	buf_reader_init(&it->r, eids->p, eids->len);
	it->left = eids->count;
}

bool lisp_prefix_iter_next(struct lisp_iter *it, struct lisp_prefix *out)
{
	uint8_t flags;

	if (it->left == 0 || prefix_record_decode(&it->r, out, &flags) < 0)
		return false;
	it->left--;
	return true;
}

/* Encoders */

static bool prefix_valid(const struct lisp_prefix *p)
{
	return lisp_afi_addr_len(p->addr.afi) >= 0 && p->plen <= lisp_afi_max_plen(p->addr.afi);
}

static int locator_encode(struct buf_writer *w, const struct lisp_locator *l)
{
	if (l->naddr == 0 || l->naddr > LISP_AFI_LIST_MAX)
		return -EINVAL;
	buf_put_u8(w, l->priority);
	buf_put_u8(w, l->weight);
	buf_put_u8(w, l->mpriority);
	buf_put_u8(w, l->mweight);
	buf_put_be16(w, (uint16_t)(flag(l->local, LOC_L) | flag(l->probed, LOC_P) |
				   flag(l->reachable, LOC_R)));
	lisp_rloc_encode(w, l->addr, l->naddr, l->afi_list);
	return w->err;
}

int lisp_eid_record_encode(struct buf_writer *w, const struct lisp_eid_record *rec)
{
	int rc;

	if (!prefix_valid(&rec->eid) || rec->act > 7 || (rec->loc_count && !rec->locs))
		return -EINVAL;
	buf_put_be32(w, rec->ttl);
	buf_put_u8(w, rec->loc_count);
	buf_put_u8(w, rec->eid.plen);
	buf_put_be16(w, (uint16_t)((unsigned)rec->act << 13 | flag(rec->authoritative, REC_A)));
	buf_put_be16(w, rec->map_version & 0x0fff);
	lisp_eid_encode(w, &rec->eid);
	for (unsigned i = 0; i < rec->loc_count; i++) {
		rc = locator_encode(w, &rec->locs[i]);
		if (rc < 0)
			return rc;
	}
	return w->err;
}

static int records_encode(struct buf_writer *w, const struct lisp_eid_record *recs, size_t n)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = lisp_eid_record_encode(w, &recs[i]);
		if (rc < 0)
			return rc;
	}
	return w->err;
}

int lisp_msg_encode_map_request(struct buf_writer *w, const struct lisp_map_request *m,
				const struct lisp_prefix *eids, size_t n)
{
	uint32_t w0;
	int rc;

	if (n == 0 || n > 255 || m->itr_rloc_count == 0 || m->itr_rloc_count > LISP_MAX_ITR_RLOCS)
		return -EINVAL;
	w0 = (uint32_t)LISP_TYPE_MAP_REQUEST << 28 | flag(m->authoritative, MREQ_A) |
	     flag(m->map_data, MREQ_M) | flag(m->probe, MREQ_P) | flag(m->smr, MREQ_S) |
	     flag(m->pitr, MREQ_PI) | flag(m->smr_invoked, MREQ_SI) | flag(m->local_xtr, MREQ_L) |
	     flag(m->dont_map_reply, MREQ_D) | flag(m->xtr_id_present, MREQ_I) |
	     (uint32_t)(m->itr_rloc_count - 1) << 8 | (uint32_t)n;
	buf_put_be32(w, w0);
	buf_put_be64(w, m->nonce);
	lisp_eid_encode(w, &m->src_eid);
	for (unsigned i = 0; i < m->itr_rloc_count; i++)
		lisp_addr_encode(w, &m->itr_rlocs[i]);
	for (size_t i = 0; i < n; i++) {
		if (!prefix_valid(&eids[i]))
			return -EINVAL;
		buf_put_u8(w, m->notify ? MREQ_REC_N : 0);
		buf_put_u8(w, eids[i].plen);
		lisp_eid_encode(w, &eids[i]);
	}
	if (m->map_data) {
		rc = lisp_eid_record_encode(w, &m->map_data_rec);
		if (rc < 0)
			return rc;
	}
	if (m->xtr_id_present) {
		buf_put_bytes(w, m->xtr_id, 16);
		buf_put_be64(w, m->site_id);
	}
	return w->err;
}

int lisp_msg_encode_map_reply(struct buf_writer *w, const struct lisp_map_reply *m,
			      const struct lisp_eid_record *recs, size_t n)
{
	if (n == 0 || n > 255 || m->lisp_sec)
		return -EINVAL;
	buf_put_be32(w, (uint32_t)LISP_TYPE_MAP_REPLY << 28 | flag(m->probe, MREP_P) |
				flag(m->echo_nonce, MREP_E) | (uint32_t)n);
	buf_put_be64(w, m->nonce);
	return records_encode(w, recs, n);
}

/* Full HMAC output for an algorithm, the length we send when none is given. */
static uint16_t auth_default_len(uint8_t alg)
{
	switch (alg) {
	case 1:
		return 20;
	case 2:
	case 3:
		return 32;
	default:
		return 0;
	}
}

static void auth_encode(struct buf_writer *w, const struct lisp_auth_field *a)
{
	uint16_t len = a->len ? a->len : auth_default_len(a->alg_id);

	buf_put_u8(w, a->key_id);
	buf_put_u8(w, a->alg_id);
	buf_put_be16(w, len);
	buf_put_zero(w, len);
}

int lisp_msg_encode_map_register(struct buf_writer *w, const struct lisp_map_register *m,
				 const struct lisp_eid_record *recs, size_t n)
{
	int rc;

	if (n == 0 || n > 255)
		return -EINVAL;
	buf_put_be32(w, (uint32_t)LISP_TYPE_MAP_REGISTER << 28 | flag(m->proxy_reply, MREG_P) |
				flag(m->lisp_sec, MREG_S) | flag(m->xtr_id_present, MREG_I) |
				flag(m->eid_notify, MREG_E) | flag(m->ttl_expiry, MREG_T) |
				flag(m->merge, MREG_A) | flag(m->want_map_notify, MREG_M) |
				(uint32_t)n);
	buf_put_be64(w, m->nonce);
	auth_encode(w, &m->auth);
	rc = records_encode(w, recs, n);
	if (rc < 0)
		return rc;
	if (m->xtr_id_present) {
		buf_put_bytes(w, m->xtr_id, 16);
		buf_put_be64(w, m->site_id);
	}
	return w->err;
}

int lisp_msg_encode_map_notify(struct buf_writer *w, const struct lisp_map_notify *m,
			       const struct lisp_eid_record *recs, size_t n)
{
	unsigned type = m->ack ? LISP_TYPE_MAP_NOTIFY_ACK : LISP_TYPE_MAP_NOTIFY;

	if (n > 255)
		return -EINVAL;
	buf_put_be32(w, (uint32_t)type << 28 | (uint32_t)n);
	buf_put_be64(w, m->nonce);
	auth_encode(w, &m->auth);
	return records_encode(w, recs, n);
}

int lisp_msg_encode_ecm(struct buf_writer *w, const struct lisp_ecm *m, const uint8_t *msg,
			size_t len)
{
	if (m->lisp_sec)
		return -EINVAL;
	buf_put_be32(w, (uint32_t)LISP_TYPE_ECM << 28 | flag(m->ddt, ECM_D) |
				flag(m->to_etr, ECM_E) | flag(m->to_ms, ECM_M));
	if (w->err)
		return w->err;
	return ippkt_encode_udp(w, &m->inner, msg, len);
}
