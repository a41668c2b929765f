/* LISP control message codec: spec test vectors both ways, round trips, malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/lisp_auth.h"
#include "lib/lisp_msg.h"
#include "tests/unit/tv.h"

static struct lisp_addr addr(const char *s)
{
	struct lisp_addr a;

	assert_int_equal(lisp_addr_parse(s, &a), 0);
	return a;
}

static struct lisp_prefix pfx(const char *s, uint32_t iid)
{
	struct lisp_prefix p;

	assert_int_equal(lisp_prefix_parse(s, iid, &p), 0);
	return p;
}

static struct lisp_locator loc(const char *s, uint8_t prio, uint8_t weight, bool local)
{
	struct lisp_locator l = { .priority = prio,
				  .weight = weight,
				  .mpriority = 255,
				  .local = local,
				  .reachable = true,
				  .naddr = 1 };

	l.addr[0] = addr(s);
	return l;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
}

/* TV1's record: 10.1.1.10/32 -> 192.0.2.10, TTL 1440, A=1. */
static struct lisp_locator tv1_loc;
static struct lisp_eid_record tv1_rec(void)
{
	struct lisp_eid_record r = { .ttl = 1440, .loc_count = 1, .authoritative = true };

	tv1_loc = loc("192.0.2.10", 1, 100, true);
	r.eid = pfx("10.1.1.10/32", 0);
	r.locs = &tv1_loc;
	return r;
}

/* Encodes a Map-Register or -Notify, signs it and compares with a vector. */
static void check_signed(const uint8_t *msg, size_t len, const uint8_t *want, size_t want_len)
{
	struct lisp_auth_key *k = lisp_auth_key_new(tv_key, strlen(tv_key));
	uint8_t copy[512];

	memcpy(copy, msg, len);
	assert_int_equal(lisp_auth_sign(k, copy, len), 0);
	assert_bytes(copy, len, want, want_len);
	assert_int_equal(lisp_auth_verify(k, want, want_len), 0);
	lisp_auth_key_free(k);
}

static void test_tv1_encode(void **state)
{
	struct lisp_map_register m = { .want_map_notify = true,
				       .nonce = 0x1122334455667788ull,
				       .auth = { .alg_id = LISP_ALG_HMAC_SHA256_128 } };
	struct lisp_eid_record r = tv1_rec();
	uint8_t buf[512];
	struct buf_writer w;

	(void)state;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	check_signed(buf, w.off, tv1, sizeof(tv1));

	m.auth.len = 16; /* TV1b: RFC 4868 truncated MAC */
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	check_signed(buf, w.off, tv1b, sizeof(tv1b));
}

static void assert_tv1_record(const struct lisp_view *v, bool authoritative)
{
	struct lisp_eid_record r;
	struct lisp_locator l;
	struct lisp_iter it, lit;
	struct lisp_prefix want = pfx("10.1.1.10/32", 0);
	struct lisp_addr rloc = addr("192.0.2.10");

	lisp_record_iter_init(&it, v);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(r.ttl, 1440);
	assert_int_equal(r.loc_count, 1);
	assert_int_equal(r.act, 0);
	assert_int_equal(r.authoritative, authoritative);
	assert_true(lisp_prefix_equal(&r.eid, &want));
	lisp_locator_iter_init(&lit, &r);
	assert_true(lisp_locator_iter_next(&lit, &l));
	assert_int_equal(l.priority, 1);
	assert_int_equal(l.weight, 100);
	assert_int_equal(l.mpriority, 255);
	assert_int_equal(l.mweight, 0);
	assert_true(l.local && l.reachable && !l.probed);
	assert_int_equal(l.naddr, 1);
	assert_true(lisp_addr_equal(&l.addr[0], &rloc));
	assert_false(lisp_locator_iter_next(&lit, &l));
	assert_false(lisp_record_iter_next(&it, &r));
}

static void test_tv1_decode(void **state)
{
	struct lisp_map_register m;

	(void)state;
	assert_int_equal(lisp_msg_type(tv1, sizeof(tv1)), LISP_TYPE_MAP_REGISTER);
	assert_int_equal(lisp_msg_decode_map_register(tv1, sizeof(tv1), &m), 0);
	assert_true(m.want_map_notify);
	assert_false(m.proxy_reply || m.lisp_sec || m.xtr_id_present || m.eid_notify ||
		     m.ttl_expiry || m.merge);
	assert_true(m.nonce == 0x1122334455667788ull);
	assert_int_equal(m.auth.key_id, 0);
	assert_int_equal(m.auth.alg_id, 2);
	assert_int_equal(m.auth.len, 32);
	assert_ptr_equal(m.auth.data, tv1 + 16);
	assert_int_equal(m.records.count, 1);
	assert_tv1_record(&m.records, true);

	assert_int_equal(lisp_msg_decode_map_register(tv1b, sizeof(tv1b), &m), 0);
	assert_int_equal(m.auth.len, 16);
	assert_tv1_record(&m.records, true);
}

static void test_tv2(void **state)
{
	struct lisp_map_register m = { .want_map_notify = true,
				       .xtr_id_present = true,
				       .nonce = 2,
				       .site_id = 7,
				       .auth = { .alg_id = LISP_ALG_HMAC_SHA1_96 } };
	struct lisp_locator l = loc("192.0.2.10", 1, 100, true);
	struct lisp_eid_record r = {
		.ttl = 1440, .loc_count = 1, .authoritative = true, .locs = &l
	};
	struct lisp_prefix want = pfx("2001:db8:a::10/128", 4100);
	struct lisp_map_register d;
	struct lisp_iter it;
	uint8_t buf[512];
	struct buf_writer w;

	(void)state;
	r.eid = want;
	for (int i = 0; i < 16; i++)
		m.xtr_id[i] = (uint8_t)(0x10 + i);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	check_signed(buf, w.off, tv2, sizeof(tv2));

	assert_int_equal(lisp_msg_decode_map_register(tv2, sizeof(tv2), &d), 0);
	assert_true(d.xtr_id_present && d.want_map_notify);
	assert_int_equal(d.nonce, 2);
	assert_int_equal(d.auth.alg_id, 1);
	assert_int_equal(d.auth.len, 20);
	assert_memory_equal(d.xtr_id, m.xtr_id, 16);
	assert_int_equal(d.site_id, 7);
	lisp_record_iter_init(&it, &d.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(r.eid.iid, 4100);
	assert_true(lisp_prefix_equal(&r.eid, &want));
}

static void test_tv3_tv10_notify(void **state)
{
	struct lisp_map_notify m = { .nonce = 0x1122334455667788ull,
				     .auth = { .alg_id = LISP_ALG_HMAC_SHA256_128 } };
	struct lisp_eid_record r = tv1_rec();
	struct lisp_map_notify d;
	uint8_t buf[512];
	struct buf_writer w;

	(void)state;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_notify(&w, &m, &r, 1), 0);
	check_signed(buf, w.off, tv3, sizeof(tv3));
	assert_int_equal(lisp_msg_decode_map_notify(tv3, sizeof(tv3), &d), 0);
	assert_false(d.ack);
	assert_true(d.nonce == 0x1122334455667788ull);
	assert_int_equal(d.auth.len, 32);
	assert_tv1_record(&d.records, true);

	m.ack = true;
	m.nonce = 0x0102030405060708ull;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_notify(&w, &m, &r, 1), 0);
	check_signed(buf, w.off, tv10, sizeof(tv10));
	assert_int_equal(lisp_msg_type(tv10, sizeof(tv10)), LISP_TYPE_MAP_NOTIFY_ACK);
	assert_int_equal(lisp_msg_decode_map_notify(tv10, sizeof(tv10), &d), 0);
	assert_true(d.ack);
	assert_true(d.nonce == 0x0102030405060708ull);
	assert_tv1_record(&d.records, true);
}

/* A Map-Request: nonce, source EID, one ITR-RLOC, one record. */
static struct lisp_map_request request(uint64_t nonce, const char *src, const char *itr)
{
	struct lisp_map_request m = { .nonce = nonce, .itr_rloc_count = 1 };

	lisp_prefix_from_addr(&m.src_eid, 0, &(struct lisp_addr){ 0 });
	m.src_eid.addr = addr(src);
	m.itr_rlocs[0] = addr(itr);
	return m;
}

static void ecm_check(const uint8_t *tv, size_t tvlen, const struct lisp_map_request *m,
		      uint16_t ip_id, uint16_t sport)
{
	struct lisp_ecm e = { .inner = { .src = addr("192.0.2.20"),
					 .dst = addr("10.1.1.10"),
					 .ttl = 64,
					 .ip_id = ip_id,
					 .sport = sport,
					 .dport = LISP_CONTROL_PORT } };
	struct lisp_prefix eid = pfx("10.1.1.10/32", 0);
	uint8_t req[256], buf[512];
	struct buf_writer w;

	buf_writer_init(&w, req, sizeof(req));
	assert_int_equal(lisp_msg_encode_map_request(&w, m, &eid, 1), 0);
	assert_int_equal(w.off, 32);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_ecm(&w, &e, req, 32), 0);
	assert_bytes(buf, w.off, tv, tvlen);
}

static void test_tv4_tv6_ecm_encode(void **state)
{
	struct lisp_map_request m = request(0xa1a2a3a4a5a6a7a8ull, "10.2.2.20", "192.0.2.20");

	(void)state;
	ecm_check(tv4, sizeof(tv4), &m, 2, 50000);
	m = request(0xc1c2c3c4c5c6c7c8ull, "10.2.2.20", "192.0.2.20");
	m.smr_invoked = true;
	ecm_check(tv6, sizeof(tv6), &m, 5, 50001);
}

static void test_tv4_tv6_ecm_decode(void **state)
{
	const uint8_t *tvs[] = { tv4, tv6 };
	const size_t lens[] = { sizeof(tv4), sizeof(tv6) };
	struct lisp_addr itr = addr("192.0.2.20"), src = addr("10.2.2.20");
	struct lisp_prefix eid = pfx("10.1.1.10/32", 0), p;
	struct lisp_map_request m;
	struct lisp_ecm e;
	struct lisp_iter it;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(lisp_msg_type(tvs[i], lens[i]), LISP_TYPE_ECM);
		assert_int_equal(lisp_msg_decode_ecm(tvs[i], lens[i], &e), 0);
		assert_false(e.lisp_sec || e.ddt || e.to_etr || e.to_ms);
		assert_true(lisp_addr_equal(&e.inner.src, &itr));
		assert_int_equal(e.inner.dport, 4342);
		assert_int_equal(e.inner.sport, 50000 + i);
		assert_int_equal(e.inner.ttl, 64);
		assert_int_equal(e.inner.payload_len, 32);
		assert_int_equal(lisp_msg_decode_map_request(e.inner.payload, 32, &m), 0);
		assert_int_equal(m.smr_invoked, i == 1);
		assert_false(m.smr || m.probe || m.map_data || m.authoritative || m.pitr);
		assert_true(m.nonce == (i ? 0xc1c2c3c4c5c6c7c8ull : 0xa1a2a3a4a5a6a7a8ull));
		assert_true(lisp_addr_equal(&m.src_eid.addr, &src));
		assert_int_equal(m.itr_rloc_count, 1);
		assert_true(lisp_addr_equal(&m.itr_rlocs[0], &itr));
		assert_int_equal(m.eids.count, 1);
		lisp_prefix_iter_init(&it, &m.eids);
		assert_true(lisp_prefix_iter_next(&it, &p));
		assert_true(lisp_prefix_equal(&p, &eid));
		assert_false(lisp_prefix_iter_next(&it, &p));
	}
}

static void test_tv5_smr(void **state)
{
	struct lisp_map_request m = request(0xb1b2b3b4b5b6b7b8ull, "10.1.1.10", "192.0.2.10"), d;
	struct lisp_prefix eid = pfx("10.2.2.20/32", 0), p;
	struct lisp_iter it;
	uint8_t buf[256];
	struct buf_writer w;

	(void)state;
	m.smr = true;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &m, &eid, 1), 0);
	assert_bytes(buf, w.off, tv5, sizeof(tv5));
	assert_int_equal(lisp_msg_decode_map_request(tv5, sizeof(tv5), &d), 0);
	assert_true(d.smr && !d.smr_invoked && !d.dont_map_reply);
	assert_true(lisp_addr_equal(&d.src_eid.addr, &m.src_eid.addr));
	assert_int_equal(d.src_eid.plen, 32);
	lisp_prefix_iter_init(&it, &d.eids);
	assert_true(lisp_prefix_iter_next(&it, &p));
	assert_true(lisp_prefix_equal(&p, &eid));
}

static void test_tv7_reply(void **state)
{
	struct lisp_map_reply m = { .nonce = 0xa1a2a3a4a5a6a7a8ull }, d;
	struct lisp_locator l = loc("192.0.2.30", 1, 100, false);
	struct lisp_eid_record r = {
		.ttl = 1440, .loc_count = 1, .authoritative = true, .locs = &l
	};
	struct lisp_iter it, lit;
	struct lisp_locator dl;
	uint8_t buf[256];
	struct buf_writer w;

	(void)state;
	r.eid = pfx("10.1.1.10/32", 0);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	assert_bytes(buf, w.off, tv7, sizeof(tv7));
	assert_int_equal(lisp_msg_decode_map_reply(tv7, sizeof(tv7), &d), 0);
	assert_false(d.probe || d.echo_nonce || d.lisp_sec);
	assert_true(d.nonce == 0xa1a2a3a4a5a6a7a8ull);
	lisp_record_iter_init(&it, &d.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_true(r.authoritative);
	lisp_locator_iter_init(&lit, &r);
	assert_true(lisp_locator_iter_next(&lit, &dl));
	assert_true(dl.reachable && !dl.local);
	assert_true(lisp_addr_equal(&dl.addr[0], &l.addr[0]));
}

static void test_tv8_negative(void **state)
{
	struct lisp_map_reply m = { .nonce = 0xd1d2d3d4d5d6d7d8ull }, d;
	struct lisp_eid_record r = { .ttl = 15, .act = LISP_ACT_NATIVE_FORWARD };
	struct lisp_prefix want = pfx("172.16.0.0/12", 0);
	struct lisp_iter it;
	uint8_t buf[256];
	struct buf_writer w;

	(void)state;
	r.eid = want;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
	assert_bytes(buf, w.off, tv8, sizeof(tv8));
	assert_int_equal(lisp_msg_decode_map_reply(tv8, sizeof(tv8), &d), 0);
	lisp_record_iter_init(&it, &d.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(r.ttl, 15);
	assert_int_equal(r.loc_count, 0);
	assert_int_equal(r.act, LISP_ACT_NATIVE_FORWARD);
	assert_false(r.authoritative);
	assert_true(lisp_prefix_equal(&r.eid, &want));
}

/* Decodes any control message by its type. */
static int decode_any(const uint8_t *buf, size_t len)
{
	struct lisp_map_request rq;
	struct lisp_map_reply rp;
	struct lisp_map_register rg;
	struct lisp_map_notify nt;
	struct lisp_ecm e;

	switch (lisp_msg_type(buf, len)) {
	case LISP_TYPE_MAP_REQUEST:
		return lisp_msg_decode_map_request(buf, len, &rq);
	case LISP_TYPE_MAP_REPLY:
		return lisp_msg_decode_map_reply(buf, len, &rp);
	case LISP_TYPE_MAP_REGISTER:
		return lisp_msg_decode_map_register(buf, len, &rg);
	case LISP_TYPE_MAP_NOTIFY:
	case LISP_TYPE_MAP_NOTIFY_ACK:
		return lisp_msg_decode_map_notify(buf, len, &nt);
	case LISP_TYPE_ECM:
		return lisp_msg_decode_ecm(buf, len, &e);
	default:
		return lisp_msg_decode_map_request(buf, len, &rq);
	}
}

/* Every strict prefix of every vector is -EBADMSG; each is an exact-size heap copy for ASan. */
static void test_truncations(void **state)
{
	const uint8_t *tvs[] = { tv1, tv1b, tv2, tv3, tv4, tv5, tv6, tv7, tv8, tv10 };
	const size_t lens[] = { sizeof(tv1), sizeof(tv1b), sizeof(tv2), sizeof(tv3), sizeof(tv4),
				sizeof(tv5), sizeof(tv6),  sizeof(tv7), sizeof(tv8), sizeof(tv10) };

	(void)state;
	for (size_t i = 0; i < sizeof(tvs) / sizeof(tvs[0]); i++) {
		assert_int_equal(decode_any(tvs[i], lens[i]), 0);
		for (size_t n = 0; n < lens[i]; n++) {
			uint8_t *copy = malloc(n ? n : 1);

			memcpy(copy, tvs[i], n);
			if (decode_any(copy, n) != -EBADMSG)
				fail_msg("vector %zu truncated to %zu bytes did not give -EBADMSG",
					 i, n);
			free(copy);
		}
	}
}

static void test_trailing_garbage(void **state)
{
	uint8_t buf[128];

	(void)state;
	memcpy(buf, tv7, sizeof(tv7));
	buf[sizeof(tv7)] = 0;
	assert_int_equal(decode_any(buf, sizeof(tv7) + 1), -EBADMSG);
	memcpy(buf, tv5, sizeof(tv5));
	buf[sizeof(tv5)] = 0;
	assert_int_equal(decode_any(buf, sizeof(tv5) + 1), -EBADMSG);
}

static void test_inconsistent(void **state)
{
	uint8_t buf[128];

	(void)state;
	/* IRC says two ITR-RLOCs: the record's mask-len/AFI bytes are read as AFI 32 */
	memcpy(buf, tv5, sizeof(tv5));
	buf[2] = 0x01;
	assert_int_equal(decode_any(buf, sizeof(tv5)), -EPROTONOSUPPORT);
	/* record count 2, one record present */
	memcpy(buf, tv5, sizeof(tv5));
	buf[3] = 2;
	assert_int_equal(decode_any(buf, sizeof(tv5)), -EBADMSG);
	/* Map-Reply locator count 2, one locator present */
	memcpy(buf, tv7, sizeof(tv7));
	buf[16] = 2;
	assert_int_equal(decode_any(buf, sizeof(tv7)), -EBADMSG);
	/* record count 0 */
	memcpy(buf, tv5, sizeof(tv5));
	buf[3] = 0;
	assert_int_equal(decode_any(buf, sizeof(tv5)), -EBADMSG);
	/* mask-len 33 for an IPv4 EID */
	memcpy(buf, tv7, sizeof(tv7));
	buf[17] = 33;
	assert_int_equal(decode_any(buf, sizeof(tv7)), -EBADMSG);
	/* unknown locator AFI 7 */
	memcpy(buf, tv7, sizeof(tv7));
	buf[35] = 7;
	assert_int_equal(decode_any(buf, sizeof(tv7)), -EPROTONOSUPPORT);
	/* ECM inner UDP checksum wrong */
	memcpy(buf, tv4, sizeof(tv4));
	buf[31] ^= 1;
	assert_int_equal(decode_any(buf, sizeof(tv4)), -EBADMSG);
	/* ECM with S (LISP-SEC) */
	memcpy(buf, tv4, sizeof(tv4));
	buf[0] |= 0x08;
	assert_int_equal(decode_any(buf, sizeof(tv4)), -EPROTONOSUPPORT);
}

/* All Map-Request flags, IPv6 and several ITR-RLOCs, an M=1 record, an IID source EID. */
static void test_request_roundtrip(void **state)
{
	struct lisp_map_request m = { .authoritative = true,
				      .map_data = true,
				      .probe = true,
				      .smr = true,
				      .pitr = true,
				      .smr_invoked = true,
				      .local_xtr = true,
				      .dont_map_reply = true,
				      .nonce = 42,
				      .itr_rloc_count = LISP_MAX_ITR_RLOCS };
	struct lisp_locator l = loc("2001:db8::1", 2, 3, true);
	struct lisp_prefix eids[2] = { pfx("2001:db8:a::/48", 7), pfx("10.0.0.0/8", 7) }, p;
	struct lisp_map_request d;
	struct lisp_eid_record r;
	struct lisp_iter it;
	uint8_t buf[1500];
	struct buf_writer w;

	(void)state;
	m.src_eid = pfx("2001:db8:b::1/128", 7);
	for (int i = 0; i < LISP_MAX_ITR_RLOCS; i++)
		m.itr_rlocs[i] = addr(i % 2 ? "2001:db8::9" : "192.0.2.9");
	m.map_data_rec =
		(struct lisp_eid_record){ .ttl = 5, .loc_count = 1, .locs = &l, .eid = m.src_eid };
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &m, eids, 2), 0);
	assert_int_equal(lisp_msg_decode_map_request(buf, w.off, &d), 0);
	assert_true(d.authoritative && d.map_data && d.probe && d.smr && d.pitr && d.smr_invoked &&
		    d.local_xtr && d.dont_map_reply);
	assert_int_equal(d.itr_rloc_count, 32);
	assert_true(lisp_addr_equal(&d.itr_rlocs[31], &m.itr_rlocs[31]));
	assert_true(lisp_prefix_equal(&d.src_eid, &m.src_eid));
	lisp_prefix_iter_init(&it, &d.eids);
	for (int i = 0; i < 2; i++) {
		assert_true(lisp_prefix_iter_next(&it, &p));
		assert_true(lisp_prefix_equal(&p, &eids[i]));
	}
	assert_int_equal(d.map_data_rec.ttl, 5);
	assert_true(lisp_prefix_equal(&d.map_data_rec.eid, &m.src_eid));
	r = d.map_data_rec;
	lisp_locator_iter_init(&it, &r);
	assert_true(lisp_locator_iter_next(&it, &l));
	assert_int_equal(l.priority, 2);
	/* every flag alone decodes alone */
	m = request(1, "10.0.0.1", "192.0.2.1");
	m.dont_map_reply = true;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &m, eids, 1), 0);
	assert_int_equal(lisp_msg_decode_map_request(buf, w.off, &d), 0);
	assert_true(d.dont_map_reply && !d.local_xtr && !d.smr && !d.probe);
}

/* RFC 9437: the I bit (0x00100000), the N bit of a record (0x80), the xTR-ID and Site-ID. */
static void test_request_pubsub(void **state)
{
	struct lisp_map_request m = request(0x1122334455667788ull, "10.0.0.1", "192.0.2.1"), d;
	struct lisp_prefix eid = pfx("10.1.1.5/32", 0), p;
	uint8_t buf[256];
	struct buf_writer w;
	struct lisp_iter it;
	size_t end;

	(void)state;
	m.xtr_id_present = m.notify = true;
	for (int i = 0; i < 16; i++)
		m.xtr_id[i] = (uint8_t)(0xa0 + i);
	m.site_id = 0x0102030405060708ull;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_request(&w, &m, &eid, 1), 0);
	end = w.off;
	assert_int_equal(buf[1] & 0x10, 0x10);	   /* I */
	assert_int_equal(buf[end - 24 - 8], 0x80); /* the record's N bit */
	assert_int_equal(buf[end - 24], 0xa0);	   /* xTR-ID */
	assert_int_equal(buf[end - 1], 0x08);	   /* Site-ID, last byte */
	assert_int_equal(lisp_msg_decode_map_request(buf, end, &d), 0);
	assert_true(d.xtr_id_present && d.site_id_present && d.notify);
	assert_memory_equal(d.xtr_id, m.xtr_id, 16);
	assert_int_equal(d.site_id, m.site_id);
	lisp_prefix_iter_init(&it, &d.eids);
	assert_true(lisp_prefix_iter_next(&it, &p));
	assert_true(lisp_prefix_equal(&p, &eid));
	/* lispers.net: the xTR-ID alone */
	assert_int_equal(lisp_msg_decode_map_request(buf, end - 8, &d), 0);
	assert_true(d.xtr_id_present && !d.site_id_present);
	assert_memory_equal(d.xtr_id, m.xtr_id, 16);
	/* anything else after the records is refused */
	for (size_t cut = 1; cut <= 24; cut++)
		if (cut != 8)
			assert_int_equal(lisp_msg_decode_map_request(buf, end - cut, &d), -EBADMSG);
	/* without I, the 24 bytes are trailing garbage */
	buf[1] &= (uint8_t)~0x10;
	assert_int_equal(lisp_msg_decode_map_request(buf, end, &d), -EBADMSG);
	assert_int_equal(lisp_msg_decode_map_request(buf, end - 24, &d), 0);
	assert_false(d.xtr_id_present);
	assert_true(d.notify);
}

static void test_register_flags_and_afi_list(void **state)
{
	struct lisp_map_register m = { .proxy_reply = true,
				       .eid_notify = true,
				       .ttl_expiry = true,
				       .merge = true,
				       .nonce = 9,
				       .auth = { .alg_id = LISP_ALG_HMAC_SHA256_128 } };
	struct lisp_locator l = loc("192.0.2.1", 1, 1, true), dl;
	struct lisp_eid_record r = { .ttl = 0, .loc_count = 1, .locs = &l };
	struct lisp_map_register d;
	struct lisp_iter it, lit;
	uint8_t buf[512];
	struct buf_writer w;

	(void)state;
	l.afi_list = true;
	l.naddr = 2;
	l.addr[1] = addr("2001:db8::1");
	r.eid = pfx("10.1.0.0/16", 0x123456);
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), 0);
	assert_int_equal(lisp_msg_decode_map_register(buf, w.off, &d), 0);
	assert_true(d.proxy_reply && d.eid_notify && d.ttl_expiry && d.merge);
	assert_false(d.want_map_notify || d.xtr_id_present || d.lisp_sec);
	lisp_record_iter_init(&it, &d.records);
	assert_true(lisp_record_iter_next(&it, &r));
	assert_int_equal(r.ttl, 0);
	assert_int_equal(r.eid.iid, 0x123456);
	lisp_locator_iter_init(&lit, &r);
	assert_true(lisp_locator_iter_next(&lit, &dl));
	assert_true(dl.afi_list);
	assert_int_equal(dl.naddr, 2);
	assert_true(lisp_addr_equal(&dl.addr[1], &l.addr[1]));
	/* bad encoder input */
	r = (struct lisp_eid_record){ .loc_count = 1, .locs = &l, .eid = r.eid };
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 0), -EINVAL);
	buf_writer_init(&w, buf, 20);
	assert_int_equal(lisp_msg_encode_map_register(&w, &m, &r, 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tv1_encode),
		cmocka_unit_test(test_tv1_decode),
		cmocka_unit_test(test_tv2),
		cmocka_unit_test(test_tv3_tv10_notify),
		cmocka_unit_test(test_tv4_tv6_ecm_encode),
		cmocka_unit_test(test_tv4_tv6_ecm_decode),
		cmocka_unit_test(test_tv5_smr),
		cmocka_unit_test(test_tv7_reply),
		cmocka_unit_test(test_tv8_negative),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_pubsub),
		cmocka_unit_test(test_register_flags_and_afi_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
