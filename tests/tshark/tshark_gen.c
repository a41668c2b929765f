/*
 * Writes LISP packets built by our encoders into a pcap, and beside it
 * the field values we meant, as "FRAME FIELD VALUE" lines named by
 * Wireshark's LISP dissector fields. check.sh has tshark decode the pcap
 * and compares. The expected values come from the inputs given to the
 * encoders here, never from our decoder.
 *
 * usage: tshark_gen PCAP EXPECT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ippkt.h"
#include "lib/lisp_auth.h"
#include "lib/lisp_data.h"
#include "lib/lisp_msg.h"
#include "lib/notify.h"
#include "tests/fakes.h"
#include "xtr-gateway/xtr.h"

#define KEY "vmroam-tshark-key"

static FILE *pcap, *expect;
static int frame;

static struct lisp_addr A(const char *s) {
	struct lisp_addr a;

	if (lisp_addr_parse(s, &a) < 0) {
		fprintf(stderr, "bad address %s\n", s);
		exit(1);
	}
	return a;
}

static struct lisp_prefix
P(const char *s, uint32_t iid) {
	struct lisp_prefix p;

	if (lisp_prefix_parse(s, iid, &p) < 0) {
		fprintf(stderr, "bad prefix %s\n", s);
		exit(1);
	}
	return p;
}

static struct lisp_locator
L(const char *s, uint8_t prio, uint8_t weight, bool local) {
	struct lisp_locator l = { .priority = prio,
				  .weight = weight,
				  .mpriority = 255,
				  .local = local,
				  .reachable = true,
				  .naddr = 1 };

	l.addr[0] = A(s);
	return l;
}

static void
check(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "tshark_gen: %s: %s\n", what, strerror(-rc));
		exit(1);
	}
}

static void put32(uint32_t x)
{
	fwrite(&x, 4, 1, pcap); /* pcap headers are in host order, told by the magic */
}

static void pcap_open(const char *path)
{
	pcap = fopen(path, "wb");
	if (!pcap) {
		perror(path);
		exit(1);
	}
	put32(0xa1b2c3d4);
	put32(2 | 4 << 16); /* version 2.4 */
	put32(0);
	put32(0);
	put32(65535);
	put32(1); /* Ethernet */
}

/* Wraps an IP packet in Ethernet and appends it as the next frame. */
static void emit(const uint8_t *ip, size_t len)
{
	uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };

	if ((ip[0] >> 4) == 6) {
		eth[12] = 0x86;
		eth[13] = 0xdd;
	}
	frame++;
	put32((uint32_t)frame);
	put32(0);
	put32((uint32_t)(len + 14));
	put32((uint32_t)(len + 14));
	fwrite(eth, 14, 1, pcap);
	fwrite(ip, len, 1, pcap);
}

static void want(const char *field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void want(const char *field, const char *fmt, ...)
{
	va_list ap;

	fprintf(expect, "%d %s ", frame, field);
	va_start(ap, fmt);
	vfprintf(expect, fmt, ap);
	va_end(ap);
	fputc('\n', expect);
}

/* Sends a control message in IP/UDP with a real checksum. */
static void emit_udp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		     const uint8_t *msg, size_t len, bool csum0)
{
	struct ippkt_udp h = { .src = A(src),
			       .dst = A(dst),
			       .sport = sport,
			       .dport = dport,
			       .ttl = 64,
			       .df = true,
			       .ip_id = (uint16_t)frame,
			       .udp_csum0 = csum0 };
	uint8_t pkt[2048];
	struct buf_writer w;

	buf_writer_init(&w, pkt, sizeof(pkt));
	check(ippkt_encode_udp(&w, &h, msg, len), "ip/udp");
	emit(pkt, w.off);
}

static void frame_register(struct lisp_auth_key *k)
{
	struct lisp_map_register m = { .proxy_reply = true,
				       .xtr_id_present = true,
				       .want_map_notify = true,
				       .nonce = 0x0102030405060709ull,
				       .site_id = 0x42,
				       .auth = { .alg_id = 2 } };
	struct lisp_locator l[2] = { L("192.0.2.10", 1, 50, true),
				     L("2001:db8:ffff::10", 2, 50, false) };
	struct lisp_eid_record r = { .ttl = 1440,
				     .loc_count = 2,
				     .authoritative = true,
				     .locs = l,
				     .eid = P("2001:db8:a::10/128", 4100) };
	uint8_t buf[512];
	struct buf_writer w;

	for (int i = 0; i < 16; i++)
		m.xtr_id[i] = (uint8_t)(0xa0 + i);
	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_map_register(&w, &m, &r, 1), "map-register");
	check(lisp_auth_sign(k, buf, w.off), "sign");
	emit_udp("192.0.2.10", 4342, "192.0.2.1", 4342, buf, w.off, false);
	want("lisp.type", "3");
	want("lisp.nonce", "0x0102030405060709");
	want("lisp.mreg.flags.pmr", "1");
	want("lisp.mreg.flags.xtrid", "1");
	want("lisp.mreg.flags.wmn", "1");
	want("lisp.mreg.flags.sec", "0");
	want("lisp.keyid", "0x0002");
	want("lisp.authlen", "32");
	want("lisp.records", "1");
	want("lisp.mapping.ttl", "1440");
	want("lisp.mapping.loccnt", "2");
	want("lisp.mapping.auth", "1");
	want("lisp.mapping.eid.masklen", "128");
	want("lisp.mapping.eid.afi", "16387");
	want("lisp.lcaf.type", "2");
	want("lisp.lcaf.iid", "4100");
	want("lisp.lcaf.iid.ipv6", "2001:db8:a::10");
	want("lisp.loc.locator", "192.0.2.10,2001:db8:ffff::10");
	want("lisp.loc.priority", "1,2");
	want("lisp.loc.weight", "50,50");
	want("lisp.loc.multicast_priority", "255,255");
	want("lisp.loc.flags.local", "1,0");
	want("lisp.loc.flags.reach", "1,1");
	want("lisp.loc.flags.probe", "0,0");
	want("lisp.xtrid", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	want("lisp.siteid", "0000000000000042");
	want("udp.checksum.status", "1");
	want("ip.checksum.status", "1");
	want("hmac", "sha256");
}

static void frame_notify(struct lisp_auth_key *k)
{
	struct lisp_map_notify m = { .nonce = 0xfedcba9876543210ull, .auth = { .alg_id = 1 } };
	struct lisp_locator l = L("192.0.2.10", 1, 100, false);
	struct lisp_eid_record r = {
		.ttl = 1440, .loc_count = 1, .locs = &l, .eid = P("10.1.1.0/24", 0)
	};
	uint8_t buf[512];
	struct buf_writer w;

	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_map_notify(&w, &m, &r, 1), "map-notify");
	check(lisp_auth_sign(k, buf, w.off), "sign");
	emit_udp("192.0.2.1", 4342, "192.0.2.10", 4342, buf, w.off, false);
	want("lisp.type", "4");
	want("lisp.nonce", "0xfedcba9876543210");
	want("lisp.keyid", "0x0001");
	want("lisp.authlen", "20");
	want("lisp.mapping.eid.ipv4", "10.1.1.0");
	want("lisp.mapping.eid.masklen", "24");
	want("lisp.mapping.auth", "0");
	want("lisp.loc.locator", "192.0.2.10");
	want("udp.checksum.status", "1");
	want("hmac", "sha1");
}

/* What our ETR sent last (frame_register_sha1). */
static uint8_t etr_out[512];
static size_t etr_out_len;

static int keep_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		     size_t len)
{
	(void)arg;
	(void)dst;
	(void)dport;
	if (len > sizeof(etr_out))
		return -EMSGSIZE;
	memcpy(etr_out, buf, len);
	etr_out_len = len;
	return 0;
}

/* The Map-Register our ETR sends to a Map-Server configured hash-function sha1 (HMAC-SHA-1-96). */
static void frame_register_sha1(void)
{
	static const char *text = "router lisp\n"
				  " database-mapping 10.5.5.0/24 192.0.2.10 priority 1 weight 100\n"
				  " ipv4 etr\n"
				  " ipv4 etr map-server 192.0.2.1 key " KEY " hash-function sha1\n";
	struct etr_io io = { .send = keep_send, .if_addr = fake_no_if_addr };
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string("tshark_gen", text, err, sizeof(err));
	struct etr *e;

	if (!c) {
		fprintf(stderr, "tshark_gen: %s\n", err);
		exit(1);
	}
	e = etr_new(&io);
	etr_configure(e, c, 0);
	etr_tick(e, 0);
	check(etr_out_len ? 0 : -EIO, "the ETR's map-register");
	emit_udp("192.0.2.10", 4342, "192.0.2.1", 4342, etr_out, etr_out_len, false);
	want("lisp.type", "3");
	want("lisp.mreg.flags.wmn", "1");
	want("lisp.keyid", "0x0001");
	want("lisp.authlen", "20");
	want("lisp.records", "1");
	want("lisp.mapping.ttl", "1440");
	want("lisp.mapping.eid.ipv4", "10.5.5.0");
	want("lisp.mapping.eid.masklen", "24");
	want("lisp.loc.locator", "192.0.2.10");
	want("lisp.loc.weight", "100");
	want("udp.checksum.status", "1");
	want("hmac", "sha1");
	etr_free(e);
	xtr_conf_free(c);
}

static void frame_smr(void)
{
	struct lisp_map_request m = { .smr = true,
				      .nonce = 0xb1b2b3b4b5b6b7b8ull,
				      .itr_rloc_count = 2 };
	struct lisp_prefix eid = P("10.2.2.20/32", 0);
	uint8_t buf[512];
	struct buf_writer w;

	m.src_eid = P("10.1.1.10/32", 0);
	m.itr_rlocs[0] = A("192.0.2.10");
	m.itr_rlocs[1] = A("2001:db8::10");
	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_map_request(&w, &m, &eid, 1), "smr");
	emit_udp("192.0.2.10", 49154, "192.0.2.20", 4342, buf, w.off, false);
	want("lisp.type", "1");
	want("lisp.mreq.flags.smr", "1");
	want("lisp.mreq.flags.smri", "0");
	want("lisp.mreq.flags.probe", "0");
	want("lisp.irc", "1");
	want("lisp.records", "1");
	want("lisp.mreq.srceid.ipv4", "10.1.1.10");
	want("lisp.mreq.itr_rloc_ipv4", "192.0.2.10");
	want("lisp.mreq.itr_rloc_ipv6", "2001:db8::10");
	want("lisp.mreq.record.prefix.length", "32");
	want("lisp.mreq.record.prefix.ipv4", "10.2.2.20");
	want("udp.checksum.status", "1");
}

static void frame_ecm_v6(void)
{
	struct lisp_map_request m = { .smr_invoked = true,
				      .nonce = 0xc1c2c3c4c5c6c7c8ull,
				      .itr_rloc_count = 1 };
	struct lisp_ecm e = { .inner = { .src = A("2001:db8::20"),
					 .dst = A("2001:db8:a::10"),
					 .sport = 50001,
					 .dport = 4342,
					 .ttl = 64 } };
	struct lisp_prefix eid = P("2001:db8:a::10/128", 4100);
	uint8_t req[512], buf[1024];
	struct buf_writer w;

	m.src_eid = P("2001:db8:b::1/128", 0);
	m.itr_rlocs[0] = A("2001:db8::20");
	buf_writer_init(&w, req, sizeof(req));
	check(lisp_msg_encode_map_request(&w, &m, &eid, 1), "map-request");
	size_t len = w.off;

	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_ecm(&w, &e, req, len), "ecm");
	emit_udp("2001:db8::20", 50001, "2001:db8::1", 4342, buf, w.off, false);
	want("lisp.type", "8,1");
	want("lisp.ecm.flags.sec", "0");
	want("lisp.ecm.flags.ddt", "0");
	want("lisp.nonce", "0xc1c2c3c4c5c6c7c8");
	want("lisp.mreq.flags.smri", "1");
	want("lisp.mreq.flags.smr", "0");
	want("lisp.mreq.srceid_ipv6", "2001:db8:b::1");
	want("lisp.mreq.itr_rloc_ipv6", "2001:db8::20");
	want("lisp.mreq.record.prefix.length", "128");
	want("lisp.lcaf.iid", "4100");
	want("lisp.lcaf.iid.ipv6", "2001:db8:a::10");
	want("ipv6.dst", "2001:db8::1,2001:db8:a::10");
	want("udp.checksum.status", "1,1");
}

static void frame_replies(void)
{
	struct lisp_locator l = L("192.0.2.30", 1, 100, false);
	struct lisp_eid_record r[2] = {
		{ .ttl = 1440,
		  .loc_count = 1,
		  .authoritative = true,
		  .locs = &l,
		  .eid = P("10.1.1.10/32", 0) },
		{ .ttl = 15, .act = LISP_ACT_DROP, .eid = P("172.16.0.0/12", 0) },
	};
	struct lisp_map_reply m = { .nonce = 0xa1a2a3a4a5a6a7a8ull };
	uint8_t buf[512];
	struct buf_writer w;

	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_map_reply(&w, &m, r, 2), "map-reply");
	emit_udp("192.0.2.30", 4342, "192.0.2.20", 50000, buf, w.off, false);
	want("lisp.type", "2");
	want("lisp.records", "2");
	want("lisp.mrep.flags.probe", "0");
	want("lisp.mapping.ttl", "1440,15");
	want("lisp.mapping.loccnt", "1,0");
	want("lisp.mapping.act", "0,3");
	want("lisp.mapping.auth", "1,0");
	want("lisp.mapping.eid.ipv4", "10.1.1.10,172.16.0.0");
	want("lisp.mapping.eid.masklen", "32,12");

	/* an RLOC-probe reply: P=1, p on the probed locator */
	m.probe = true;
	l.probed = true;
	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_map_reply(&w, &m, r, 1), "probe reply");
	emit_udp("192.0.2.30", 4342, "192.0.2.20", 50000, buf, w.off, false);
	want("lisp.type", "2");
	want("lisp.mrep.flags.probe", "1");
	want("lisp.loc.flags.probe", "1");
	want("lisp.loc.flags.reach", "1");
}

/* Inner packet: UDP between two EIDs. */
static size_t inner_udp(const char *src, const char *dst, uint8_t *out, size_t cap)
{
	struct ippkt_udp h = {
		.src = A(src), .dst = A(dst), .sport = 1000, .dport = 2000, .ttl = 63
	};
	struct buf_writer w;

	buf_writer_init(&w, out, cap);
	check(ippkt_encode_udp(&w, &h, "vmroam", 6), "inner");
	return w.off;
}

static void frame_data(void)
{
	struct lisp_data_hdr h = {
		.nonce_present = true, .iid_present = true, .nonce = 0x123456, .iid = 4100
	};
	uint8_t buf[512];
	size_t n;

	check(lisp_data_encode(&h, buf), "data header");
	n = inner_udp("10.2.2.20", "10.1.1.10", buf + 8, sizeof(buf) - 8);
	emit_udp("192.0.2.20", 54321, "192.0.2.30", 4341, buf, n + 8, true);
	want("lisp-data.flags.nonce", "1");
	want("lisp-data.flags.iid", "1");
	want("lisp-data.flags.lsb", "0");
	want("lisp-data.flags.mv", "0");
	want("lisp-data.nonce", "%u", 0x123456u);
	want("lisp-data.iid", "4100");
	want("ip.src", "192.0.2.20,10.2.2.20");
	want("udp.dstport", "4341,2000");

	h = (struct lisp_data_hdr){ .map_version = true,
				    .src_version = 0x123,
				    .dst_version = 0x456,
				    .lsb_valid = true,
				    .lsb = 3 };
	check(lisp_data_encode(&h, buf), "data header");
	n = inner_udp("2001:db8:b::1", "2001:db8:a::10", buf + 8, sizeof(buf) - 8);
	emit_udp("2001:db8::20", 54322, "2001:db8::30", 4341, buf, n + 8, false);
	want("lisp-data.flags.mv", "1");
	want("lisp-data.flags.lsb", "1");
	want("lisp-data.flags.nonce", "0");
	want("lisp-data.srcmapver", "%u", 0x123u);
	want("lisp-data.dstmapver", "%u", 0x456u);
	want("ipv6.src", "2001:db8::20,2001:db8:b::1");
	want("udp.checksum.status", "1,1");
}

/* What our ITR sent last (frame_source_eid). */
static uint8_t itr_out[1024];
static size_t itr_out_len;

static int itr_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		    size_t len)
{
	(void)arg;
	(void)dst;
	(void)dport;
	if (len > sizeof(itr_out))
		return -EMSGSIZE;
	memcpy(itr_out, buf, len);
	itr_out_len = len;
	return 0;
}

/*
 * The ECM Map-Requests our ITR (xtr-gateway/itr/mapcache.c) sends when a
 * packet from 10.2.2.20 misses: the Source-EID is that host, in the
 * instance-id's LCAF like the EID-record (RFC 9301 §5.3), or plain in
 * instance-id 0.
 */
static void frame_source_eid(void)
{
	struct mc_io io = { .send = itr_send, .if_addr = fake_no_if_addr };
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string(
		"tshark",
		"router lisp\n database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n",
		err, sizeof(err));
	struct mapcache *mc = mc_new(&io);
	struct lisp_addr dst = A("10.1.1.10"), src = A("10.2.2.20");

	if (!c) {
		fprintf(stderr, "tshark_gen: %s\n", err);
		exit(1);
	}
	mc_configure(mc, &c->itr, c, 0);
	check(mc_resolve_from(mc, 4100, &dst, &src, 0), "resolve from a host");
	emit_udp("192.0.2.20", 4342, "192.0.2.1", 4342, itr_out, itr_out_len, false);
	want("lisp.type", "8,1");
	want("lisp.mreq.flags.smri", "0");
	want("lisp.mreq.srceid.afi", "16387");
	want("lisp.lcaf.type", "2,2");
	want("lisp.lcaf.iid", "4100,4100");
	want("lisp.lcaf.iid.afi", "1,1");
	want("lisp.lcaf.iid.ipv4", "10.2.2.20,10.1.1.10");
	want("lisp.mreq.itr_rloc_ipv4", "192.0.2.20");
	want("lisp.mreq.record.prefix.length", "32");
	want("ip.dst", "192.0.2.1,10.1.1.10");
	want("udp.checksum.status", "1,1");

	dst = A("10.1.1.11");
	src = A("10.2.2.21");
	check(mc_resolve_from(mc, 0, &dst, &src, 0), "resolve from a host");
	emit_udp("192.0.2.20", 4342, "192.0.2.1", 4342, itr_out, itr_out_len, false);
	want("lisp.type", "8,1");
	want("lisp.mreq.srceid.afi", "1");
	want("lisp.mreq.srceid.ipv4", "10.2.2.21");
	want("lisp.mreq.itr_rloc_ipv4", "192.0.2.20");
	want("lisp.mreq.record.prefix.afi", "1");
	want("lisp.mreq.record.prefix.ipv4", "10.1.1.11");
	want("udp.checksum.status", "1,1");
	mc_free(mc);
	xtr_conf_free(c);
}

/* What the Map-Server engine sent (frame_pubsub): its Map-Notifies. */
static uint8_t ms_out[4][1024];
static size_t ms_out_len[4];
static int ms_nout;

static int ms_keep(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg;
	(void)dst;
	(void)dport;
	if (lisp_msg_type(buf, len) != LISP_TYPE_MAP_NOTIFY || ms_nout == 4 || len > 1024)
		return 0;
	memcpy(ms_out[ms_nout], buf, len);
	ms_out_len[ms_nout++] = len;
	return 0;
}

/*
 * Publish/subscribe (RFC 9437), from the engines themselves: our ITR's
 * subscribing ECM Map-Request (the I bit, the N bit of its record, the
 * xTR-ID and Site-ID after it), the Map-Server's Map-Notify that confirms
 * it (the request's nonce), the ITR's Map-Notify-Ack, and a publication.
 */
static void frame_pubsub(void)
{
	struct mc_io io = { .send = itr_send, .if_addr = fake_no_if_addr };
	struct ms_io mio = { .send = ms_keep };
	struct xtr_counters gc = { 0 };
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string(
		"tshark",
		"router lisp\n database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
		" itr subscribe xtr-id b0b1b2b3b4b5b6b7b8b9babbbcbdbebf site-id 20"
		" authentication-key " KEY "\n",
		err, sizeof(err));
	struct xtr_conf *mc_conf = xtr_conf_parse_string(
		"tshark-ms",
		"router lisp\n site DC\n  authentication-key " KEY "\n"
		"  eid-prefix 10.1.1.0/24 accept-more-specifics\n"
		" subscriber BRANCH\n  authentication-key " KEY "\n"
		"  xtr-id b0b1b2b3b4b5b6b7b8b9babbbcbdbebf site-id 20\n  itr-rloc 192.0.2.20\n"
		" ipv4 map-server\n ipv4 map-resolver\n",
		err, sizeof(err));
	struct mapcache *mc = mc_new(&io);
	struct ms *ms = ms_new(&mio, &gc);
	struct lisp_addr dst = A("10.1.1.5"), itr = A("192.0.2.20"), msa = A("192.0.2.1");
	struct lisp_map_request q;
	struct lisp_ecm ecm;
	char nonce[32];

	if (!c || !mc_conf) {
		fprintf(stderr, "tshark_gen: %s\n", err);
		exit(1);
	}
	mc_configure(mc, &c->itr, c, 0);
	ms_configure(ms, &mc_conf->msmr, &mc_conf->reply, 0);
	check(mc_resolve(mc, 0, &dst, 0), "resolve");
	check(lisp_msg_decode_ecm(itr_out, itr_out_len, &ecm), "ecm");
	check(lisp_msg_decode_map_request(ecm.inner.payload, ecm.inner.payload_len, &q), "request");
	snprintf(nonce, sizeof(nonce), "0x%016llx", (unsigned long long)q.nonce);
	emit_udp("192.0.2.20", 4342, "192.0.2.1", 4342, itr_out, itr_out_len, false);
	want("lisp.type", "8,1");
	want("lisp.nonce", "%s", nonce);
	want("lisp.mreq.res", "0x000080");    /* bit 11 of the header: I (0x00100000) */
	want("lisp.mreq.record.res", "0x80"); /* N */
	want("lisp.mreq.record.prefix.ipv4", "10.1.1.5");
	want("lisp.mreq.itr_rloc_ipv4", "192.0.2.20");
	want("udp.checksum.status", "1,1");

	ms_input(ms, &itr, 4342, itr_out, itr_out_len, 0);
	check(ms_nout != 1 ? -ENOMSG : 0, "no confirmation from the Map-Server");
	emit_udp("192.0.2.1", 4342, "192.0.2.20", 4342, ms_out[0], ms_out_len[0], false);
	want("lisp.type", "4");
	want("lisp.nonce", "%s", nonce);
	want("lisp.keyid", "0x0002");
	want("lisp.authlen", "32");
	want("lisp.records", "1");
	/* nothing registered yet: the negative answer, the site's hole */
	want("lisp.mapping.eid.ipv4", "10.1.1.0");
	want("lisp.mapping.eid.masklen", "24");
	want("lisp.mapping.ttl", "1");
	want("udp.checksum.status", "1");
	want("hmac", "sha256");

	itr_out_len = 0;
	mc_input(mc, &msa, 4342, ms_out[0], ms_out_len[0], 0);
	check(!itr_out_len ? -ENOMSG : 0, "no Map-Notify-Ack from the ITR");
	emit_udp("192.0.2.20", 4342, "192.0.2.1", 4342, itr_out, itr_out_len, false);
	want("lisp.type", "5"); /* tshark 4.0 decodes no further: the MAC is checked by openssl */
	want("udp.checksum.status", "1");
	want("hmac", "sha256");
	ms_input(ms, &itr, 4342, itr_out, itr_out_len, 0);

	/* a publication: 10.1.1.5 registered at 192.0.2.11, the next nonce */
	{
		struct lisp_map_register m = { .xtr_id_present = true,
					       .nonce = 7,
					       .auth = { .alg_id = 2 } };
		struct lisp_locator l = L("192.0.2.11", 1, 100, true);
		struct lisp_eid_record r = { .ttl = 1440,
					     .loc_count = 1,
					     .authoritative = true,
					     .locs = &l,
					     .eid = P("10.1.1.5/32", 0) };
		struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
		struct lisp_addr etr = A("192.0.2.11");
		uint8_t buf[512];
		struct buf_writer w;

		buf_writer_init(&w, buf, sizeof(buf));
		check(lisp_msg_encode_map_register(&w, &m, &r, 1), "map-register");
		check(lisp_auth_sign(k, buf, w.off), "sign");
		lisp_auth_key_free(k);
		ms_input(ms, &etr, 4342, buf, w.off, 1);
	}
	check(ms_nout != 2 ? -ENOMSG : 0, "no publication from the Map-Server");
	snprintf(nonce, sizeof(nonce), "0x%016llx", (unsigned long long)(q.nonce + 1));
	emit_udp("192.0.2.1", 4342, "192.0.2.20", 4342, ms_out[1], ms_out_len[1], false);
	want("lisp.type", "4");
	want("lisp.nonce", "%s", nonce);
	want("lisp.mapping.eid.ipv4", "10.1.1.5");
	want("lisp.mapping.eid.masklen", "32");
	want("lisp.mapping.ttl", "1440");
	want("lisp.loc.locator", "192.0.2.11");
	want("hmac", "sha256");
	ms_free(ms);
	mc_free(mc);
	xtr_conf_free(c);
	xtr_conf_free(mc_conf);
}

/* A packet encapsulated by the data-plane pipeline (xtr-gateway/dataplane/pipeline.c), not lib/. */
static void frame_pipeline(void)
{
	struct mc_io io = { .send = fake_mr_send, .if_addr = fake_no_if_addr };
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string(
		"tshark",
		"router lisp\n database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n",
		err, sizeof(err));
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 60, .loc_count = 1, .locs = &l };
	struct mapcache *mc = mc_new(&io);
	struct lisp_addr eid = A("10.1.1.10"), r4 = A("192.0.2.20");
	struct lisp_map_reply m;
	uint8_t buf[512];
	struct buf_writer w;
	struct dp_pkt p;
	struct dp dp;
	size_t n;

	mc_configure(mc, &c->itr, c, 0);
	check(mc_resolve(mc, 4100, &eid, 0), "resolve");
	m = (struct lisp_map_reply){ .nonce = fake_mr_nonce };
	l.addr[0] = A("192.0.2.30");
	r.eid = P("10.1.1.0/24", 4100);
	buf_writer_init(&w, buf, sizeof(buf));
	check(lisp_msg_encode_map_reply(&w, &m, &r, 1), "map-reply");
	mc_input(mc, &l.addr[0], 4342, buf, w.off, 0);
	dp_init(&dp, mc, &r4, NULL, 1500);
	n = inner_udp("10.2.2.20", "10.1.1.10", buf + DP_HEADROOM, sizeof(buf) - DP_HEADROOM);
	p = (struct dp_pkt){ .buf = buf, .off = DP_HEADROOM, .len = n, .iid = 4100 };
	dp_encap_batch(&dp, &p, 1);
	if (p.verdict != DP_FORWARD) {
		fprintf(stderr, "tshark_gen: pipeline did not encapsulate: %s\n",
			dp_reason_name(p.reason));
		exit(1);
	}
	emit(p.buf + p.off, p.len);
	want("ip.dst", "192.0.2.30,10.1.1.10");
	want("ip.ttl", "63,63"); /* the inner TTL, copied */
	want("ip.flags.df", "1,0");
	want("ip.checksum.status", "1,1");
	want("udp.dstport", "4341,2000");
	want("lisp-data.flags.nonce", "1");
	want("lisp-data.flags.iid", "1");
	want("lisp-data.flags.lsb", "0");
	want("lisp-data.iid", "4100");
	mc_free(mc);
	xtr_conf_free(c);
}

/* Packs env for instance-id 4100 with the channel's key and sends it between src and dst. */
static void emit_notify(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			Vmroam__Notify__Envelope *env)
{
	struct lisp_auth_key *k = lisp_auth_key_new("notify-key", 10);
	uint8_t out[NOTIFY_MAX];
	size_t len = notify_pack(k, env->instance_id, env, out, sizeof(out));

	lisp_auth_key_free(k);
	check(len ? 0 : -1, "notify_pack");
	emit_udp(src, sport, dst, dport, out, len, false);
	want("vmroam_notify.instance_id", "%u", env->instance_id);
	want("vmroam_notify.version", "%d", NOTIFY_VERSION);
	want("notify_hmac", "sha256");
	want("pbf.vmroam.notify.Envelope.instance_id", "%u", env->instance_id);
	want("pbf.vmroam.notify.Envelope.sender", "%s", env->sender);
	want("pbf.vmroam.notify.Envelope.receiver", "%s", env->receiver);
	want("pbf.vmroam.notify.Envelope.session", "%llu", (unsigned long long)env->session);
	want("pbf.vmroam.notify.Envelope.receiver_session", "%llu",
	     (unsigned long long)env->receiver_session);
	want("pbf.vmroam.notify.Envelope.seq", "%llu", (unsigned long long)env->seq);
	want("pbf.vmroam.notify.Envelope.direction", "%d", env->direction);
	want("pbf.vmroam.notify.Envelope.dynamic_eid", "%s", env->dynamic_eid);
}

static void envelope(Vmroam__Notify__Envelope *env, Vmroam__Notify__Direction dir,
		     const char *sender, const char *receiver, uint64_t seq)
{
	vmroam__notify__envelope__init(env);
	env->instance_id = 4100;
	env->direction = dir;
	env->sender = (char *)(uintptr_t)sender;
	env->receiver = (char *)(uintptr_t)receiver;
	env->session = 1796400000123456789ull;
	env->receiver_session = 1796400000987654321ull;
	env->seq = seq;
	env->dynamic_eid = (char *)(uintptr_t) "VMS";
}

/* The eid-notify channel (version 2): an event, a snapshot part, a keepalive with a digest. */

/* A host's HypervisorEvent hv to the FHR (UDP 4350), in envelope env of sequence seq. */
static void emit_hv(Vmroam__Notify__Envelope *env, Vmroam__Notify__HypervisorEvent *hv,
		    uint64_t seq)
{
	envelope(env, VMROAM__NOTIFY__DIRECTION__HYPERVISOR_TO_FHR, "host-9/virtwatch",
		 "198.51.100.1", seq);
	env->body_case = VMROAM__NOTIFY__ENVELOPE__BODY_HYPERVISOR_EVENT;
	env->hypervisor_event = hv;
	emit_notify("192.0.2.99", 40001, "198.51.100.1", 4350, env);
}
static void frames_eid_notify(void)
{
	static uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	Vmroam__Notify__EidEvent ev[2], *evp[2] = { &ev[0], &ev[1] };
	Vmroam__Notify__Envelope env;
	Vmroam__Notify__Resync rs;
	Vmroam__Notify__Keepalive ka;

	for (int i = 0; i < 2; i++) {
		vmroam__notify__eid_event__init(&ev[i]);
		ev[i].kind = VMROAM__NOTIFY__EVENT_KIND__DEPARTED;
		ev[i].dynamic_eid = (char *)(uintptr_t) "VMS";
		ev[i].eid = (char *)(uintptr_t)(i ? "198.51.100.11" : "198.51.100.10");
		ev[i].eid_len = 32;
		ev[i].mac.data = mac;
		ev[i].mac.len = 6;
		ev[i].interface = (char *)(uintptr_t) "br0";
		ev[i].source = VMROAM__NOTIFY__SOURCE__SOURCE_ND;
		ev[i].event_seq = 42 + (uint64_t)i;
	}
	envelope(&env, VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY, "fhr-dc1", "192.0.2.10", 7);
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT;
	env.eid_event = &ev[0];
	emit_notify("198.51.100.198", 40000, "192.0.2.10", NOTIFY_PORT, &env);
	want("pbf.vmroam.notify.EidEvent.kind", "%d", VMROAM__NOTIFY__EVENT_KIND__DEPARTED);
	want("pbf.vmroam.notify.EidEvent.eid", "198.51.100.10");
	want("pbf.vmroam.notify.EidEvent.eid_len", "32");
	want("pbf.vmroam.notify.EidEvent.event_seq", "42");
	want("pbf.vmroam.notify.EidEvent.interface", "br0");
	want("pbf.vmroam.notify.EidEvent.mac", "52:54:00:12:34:56");
	want("pbf.vmroam.notify.EidEvent.source", "%d", VMROAM__NOTIFY__SOURCE__SOURCE_ND);

	envelope(&env, VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY, "fhr-dc1", "192.0.2.10", 8);
	vmroam__notify__resync__init(&rs);
	ev[0].kind = ev[1].kind = VMROAM__NOTIFY__EVENT_KIND__REFRESH;
	rs.eids = evp;
	rs.n_eids = 2;
	rs.complete = true;
	rs.as_of = 44;
	rs.part = 2;
	rs.parts = 2;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_RESYNC;
	env.resync = &rs;
	emit_notify("198.51.100.198", 40000, "192.0.2.10", NOTIFY_PORT, &env);
	want("pbf.vmroam.notify.Resync.as_of", "44");
	want("pbf.vmroam.notify.Resync.part", "2");
	want("pbf.vmroam.notify.Resync.parts", "2");
	want("pbf.vmroam.notify.EidEvent.eid", "198.51.100.10,198.51.100.11");
	want("pbf.vmroam.notify.EidEvent.event_seq", "42,43");

	envelope(&env, VMROAM__NOTIFY__DIRECTION__GATEWAY_TO_FHR, "192.0.2.10", "fhr-dc1", 9);
	vmroam__notify__keepalive__init(&ka);
	ka.eids = 3;
	ka.digest = 0x0123456789abcdefull;
	ka.pending = 1;
	env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_KEEPALIVE;
	env.keepalive = &ka;
	emit_notify("192.0.2.10", NOTIFY_PORT, "198.51.100.198", 40000, &env);
	want("pbf.vmroam.notify.Keepalive.eids", "3");
	want("pbf.vmroam.notify.Keepalive.digest", "%llu", 0x0123456789abcdefull);
	want("pbf.vmroam.notify.Keepalive.pending", "1");

	/* a hypervisor's event to the FHR (UDP 4350) */
	{
		static char *addrs[2] = { "198.51.100.10", "2001:db8:d::10" };
		Vmroam__Notify__HypervisorEvent hv;
		Vmroam__Notify__VmInterface vif, *vifp = &vif;

		vmroam__notify__hypervisor_event__init(&hv);
		vmroam__notify__vm_interface__init(&vif);
		hv.kind = VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LIVE;
		hv.domain = (char *)(uintptr_t) "vm-a";
		hv.uuid = (char *)(uintptr_t) "6f1c2a70-1111-4c4c-9c9c-000000000001";
		hv.tenant = (char *)(uintptr_t) "TENANT-A";
		hv.host = (char *)(uintptr_t) "host-9";
		hv.reason = (char *)(uintptr_t) "resumed/migrated";
		hv.timestamp = 1796400000.5;
		vif.mac.data = mac;
		vif.mac.len = 6;
		vif.bridge = (char *)(uintptr_t) "br0";
		vif.target = (char *)(uintptr_t) "vnet0";
		vif.addresses = addrs;
		vif.n_addresses = 2;
		hv.interfaces = &vifp;
		hv.n_interfaces = 1;
		emit_hv(&env, &hv, 10);
		want("pbf.vmroam.notify.HypervisorEvent.kind", "%d",
		     VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LIVE);
		want("pbf.vmroam.notify.HypervisorEvent.domain", "vm-a");
		want("pbf.vmroam.notify.HypervisorEvent.reason", "resumed/migrated");
		want("pbf.vmroam.notify.VmInterface.mac", "52:54:00:12:34:56");
		want("pbf.vmroam.notify.VmInterface.target", "vnet0");
		want("pbf.vmroam.notify.VmInterface.addresses", "198.51.100.10,2001:db8:d::10");
		/* the watcher's LEAVING before it pauses the guest (its switchover) */
		hv.kind = VMROAM__NOTIFY__HYPERVISOR_KIND__HV_LEAVING;
		hv.reason = (char *)(uintptr_t) "switchover: 16292 KiB left";
		hv.pause_follows = true;
		emit_hv(&env, &hv, 11);
		want("pbf.vmroam.notify.HypervisorEvent.reason", "switchover: 16292 KiB left");
		want("pbf.vmroam.notify.HypervisorEvent.pause_follows", "1");
		/* the FHR's Ack of it: where the watcher may steer the guest's frames */
		{
			static uint8_t fhr_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x01, 0x0a };
			Vmroam__Notify__Ack ack;
			Vmroam__Notify__SteerTo st, *stp = &st;

			envelope(&env, VMROAM__NOTIFY__DIRECTION__FHR_TO_HYPERVISOR, "fhr-dc1",
				 "host-9/virtwatch", 12);
			vmroam__notify__ack__init(&ack);
			vmroam__notify__steer_to__init(&st);
			ack.seq = 11;
			st.vm_mac = (ProtobufCBinaryData){ 6, mac };
			st.fhr_mac = (ProtobufCBinaryData){ 6, fhr_mac };
			ack.steer = &stp;
			ack.n_steer = 1;
			env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_ACK;
			env.ack = &ack;
			emit_notify("198.51.100.1", 4350, "192.0.2.99", 40001, &env);
			want("pbf.vmroam.notify.Ack.seq", "11");
			want("pbf.vmroam.notify.SteerTo.vm_mac", "52:54:00:12:34:56");
			want("pbf.vmroam.notify.SteerTo.fhr_mac", "02:00:5e:00:01:0a");
		}
		/* the LEAVING at the pause, the guest's frames steered to the FHR since */
		hv.reason = (char *)(uintptr_t) "paused for its switchover, its frames steered";
		hv.pause_follows = false;
		hv.steered = true;
		emit_hv(&env, &hv, 13);
		want("pbf.vmroam.notify.HypervisorEvent.steered", "1");
	}
}

int main(int argc, char **argv)
{
	struct lisp_auth_key *k;

	if (argc != 3) {
		fprintf(stderr, "usage: tshark_gen PCAP EXPECT\n");
		return 1;
	}
	pcap_open(argv[1]);
	expect = fopen(argv[2], "w");
	if (!expect) {
		perror(argv[2]);
		return 1;
	}
	k = lisp_auth_key_new(KEY, strlen(KEY));
	fprintf(expect, "0 key %s\n", KEY);
	fprintf(expect, "0 notify_key notify-key\n");
	frame_register(k);
	frame_notify(k);
	frame_register_sha1();
	frame_smr();
	frame_ecm_v6();
	frame_source_eid();
	frame_pubsub();
	frame_replies();
	frame_data();
	frame_pipeline();
	frames_eid_notify();
	lisp_auth_key_free(k);
	fclose(pcap);
	fclose(expect);
	return 0;
}
