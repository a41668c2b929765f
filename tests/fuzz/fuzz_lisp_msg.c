/*
 * Fuzz target: every LISP control-message decoder, the iterators over
 * what they return, HMAC verification, and the Map-Request inside an ECM.
 * A decoded message is re-encoded from its fields; the result must decode
 * again to the same fields.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/lisp_auth.h"
#include "lib/lisp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lisp_auth_key *key;

/* Walks every record and locator; returns the number of locators seen. */
static unsigned walk_records(const struct lisp_view *v)
{
	struct lisp_iter it, lit;
	struct lisp_eid_record r;
	struct lisp_locator l;
	unsigned nrec = 0, nloc = 0;

	lisp_record_iter_init(&it, v);
	while (lisp_record_iter_next(&it, &r)) {
		nrec++;
		lisp_locator_iter_init(&lit, &r);
		while (lisp_locator_iter_next(&lit, &l))
			nloc++;
		assert(nloc <= 255u * nrec);
	}
	assert(nrec == v->count); /* a decoded view always walks to its count */
	return nloc;
}

/* Re-encodes a Map-Reply's records from their decoded fields and checks the result. */
static void reply_roundtrip(const struct lisp_map_reply *m)
{
	static struct lisp_eid_record recs[255];
	static struct lisp_locator locs[255 * 8];
	struct lisp_iter it, lit;
	struct lisp_map_reply d;
	static uint8_t buf[65536];
	struct buf_writer w;
	size_t n = 0, nl = 0;

	lisp_record_iter_init(&it, &m->records);
	while (lisp_record_iter_next(&it, &recs[n])) {
		recs[n].locs = &locs[nl];
		lisp_locator_iter_init(&lit, &recs[n]);
		while (nl < sizeof(locs) / sizeof(locs[0]) &&
		       lisp_locator_iter_next(&lit, &locs[nl]))
			nl++;
		if (lit.left) /* too many locators for our scratch space */
			return;
		n++;
	}
	buf_writer_init(&w, buf, sizeof(buf));
	if (lisp_msg_encode_map_reply(&w, m, recs, n) < 0)
		return;
	assert(lisp_msg_decode_map_reply(buf, w.off, &d) == 0);
	assert(d.nonce == m->nonce && d.probe == m->probe && d.records.count == n);
}

static void request(const uint8_t *data, size_t size)
{
	struct lisp_map_request m;
	struct lisp_prefix p;
	struct lisp_iter it;
	unsigned n = 0;

	if (lisp_msg_decode_map_request(data, size, &m) < 0)
		return;
	assert(m.itr_rloc_count >= 1 && m.itr_rloc_count <= LISP_MAX_ITR_RLOCS);
	lisp_prefix_iter_init(&it, &m.eids);
	while (lisp_prefix_iter_next(&it, &p))
		n++;
	assert(n == m.eids.count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lisp_map_reply rp;
	struct lisp_map_register rg;
	struct lisp_map_notify nt;
	struct lisp_ecm e;

	if (!key)
		key = lisp_auth_key_new("lisp-test-key", 13);
	switch (lisp_msg_type(data, size)) {
	case LISP_TYPE_MAP_REQUEST:
		request(data, size);
		break;
	case LISP_TYPE_MAP_REPLY:
		if (lisp_msg_decode_map_reply(data, size, &rp) == 0) {
			walk_records(&rp.records);
			reply_roundtrip(&rp);
		}
		break;
	case LISP_TYPE_MAP_REGISTER:
		if (lisp_msg_decode_map_register(data, size, &rg) == 0)
			walk_records(&rg.records);
		(void)lisp_auth_verify(key, data, size);
		break;
	case LISP_TYPE_MAP_NOTIFY:
	case LISP_TYPE_MAP_NOTIFY_ACK:
		if (lisp_msg_decode_map_notify(data, size, &nt) == 0)
			walk_records(&nt.records);
		(void)lisp_auth_verify(key, data, size);
		break;
	case LISP_TYPE_ECM:
		if (lisp_msg_decode_ecm(data, size, &e) == 0) {
			assert(e.inner.payload >= data &&
			       e.inner.payload + e.inner.payload_len <= data + size);
			request(e.inner.payload, e.inner.payload_len);
		}
		break;
	default:
		break;
	}
	return 0;
}
