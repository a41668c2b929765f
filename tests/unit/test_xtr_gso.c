/*
 * Segmentation offload around the pipeline (xtr-gateway/dataplane/gso.c): a
 * 64 KiB TCP segment as the TUN hands it (TSO, virtio-net header) is cut
 * into MSS-sized packets with valid headers and checksums, encapsulated by
 * the pipeline into LISP packets no larger than the MTU, decapsulated, and
 * gathered back into one segment equal to the first; IPv4 and IPv6; what
 * may not be gathered is not; a checksum left to us is completed; bad
 * input is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/ippkt.h"
#include "tests/fakes.h"
#include "tests/unit/capture.h"
#include "xtr-gateway/xtr.h"

#define BIG	 65000
#define SEGS_MAX 64
#define SLOT	 (DP_HEADROOM + 2048)

static uint8_t slots[SEGS_MAX][SLOT];

/* A TSO segment: IPv4 (or IPv6) TCP 198.51.100.10:40000 -> 10.1.1.10:5201, timestamps, payload. */
static size_t tso(uint8_t *p, bool v6, size_t payload, uint8_t flags)
{
	size_t ip = v6 ? 40 : 20, len = ip + 32 + payload;
	uint8_t *t = p + ip;
	uint16_t c;

	memset(p, 0, ip + 32);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = 6;
		p[7] = 64;
		p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 0x10;
		p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[29] = 1, p[39] = 0x10;
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = 0x12, p[5] = 0x34;
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, (uint8_t[]){ 198, 51, 100, 10, 10, 1, 1, 10 }, 8);
		c = ippkt_csum_fold(ippkt_csum_add(0, p, 20));
		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
	}
	t[0] = 0x9c, t[1] = 0x40, t[2] = 0x14, t[3] = 0x51;
	t[4] = 0x10, t[5] = 0x20, t[6] = 0x30, t[7] = 0x40; /* seq */
	t[8] = 0, t[9] = 0, t[10] = 0x55, t[11] = 0x66;	    /* ack */
	t[12] = 8 << 4;					    /* 32 bytes: timestamps */
	t[13] = flags;
	t[14] = 0x01, t[15] = 0xf6;
	t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10, t[24] = 0, t[25] = 0, t[26] = 0, t[27] = 7;
	for (size_t i = 0; i < payload; i++)
		p[ip + 32 + i] = (uint8_t)(i * 7 + i / 251);
	return len;
}

/* The TCP checksum of the whole packet verifies. */
static bool tcp_ok(const uint8_t *p, size_t len)
{
	bool v4 = p[0] >> 4 == 4;
	size_t ip = v4 ? 20 : 40, l4 = len - ip;
	uint32_t s = v4 ? ippkt_csum_add(0, p + 12, 8) : ippkt_csum_add(0, p + 8, 32);

	s += 6 + (uint32_t)l4;
	return ippkt_csum_fold(ippkt_csum_add(s, p + ip, l4)) == 0;
}

static void split_encap_decap_gather(bool v6)
{
	/* the TUN's MTU is 1500 minus the LISP overhead (36, 56): the MSS fills exactly that */
	const size_t MSS = v6 ? 1500 - 56 - 40 - 32 : 1500 - 36 - 20 - 32;
	static uint8_t big[BIG + 100], back[70000];
	const char *conf_text = "router lisp\n"
				" database-mapping 198.51.100.0/24 192.0.2.20 priority 1 weight 1\n"
				" database-mapping 2001:db8::/48 2001:db8::20 priority 1 weight 1\n"
				" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
				" ipv6 itr\n ipv6 itr map-resolver 2001:db8::1\n";
	struct mc_io io = { .send = fake_mr_send, .if_addr = fake_no_if_addr };
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6
						    : VIRTIO_NET_HDR_GSO_TCPV4,
				     .gso_size = MSS };
	uint8_t *bufs[SEGS_MAX];
	size_t lens[SEGS_MAX], ip = v6 ? 40 : 20, len = tso(big, v6, BIG, 0x18 /* ACK PSH */);
	struct gso_out go = {
		.bufs = bufs, .lens = lens, .cap = SLOT - DP_HEADROOM, .max = SEGS_MAX
	};
	struct dp_pkt pk[SEGS_MAX];
	const uint8_t *pp[SEGS_MAX];
	struct lisp_addr r4 = A("192.0.2.20"), r6 = A("2001:db8::20");
	struct xtr_conf *conf;
	struct mapcache *mc;
	struct dp itr, etr;
	struct gro_unit u;
	char err[256];
	int n;

	for (int i = 0; i < SEGS_MAX; i++)
		bufs[i] = slots[i] + DP_HEADROOM;
	n = gso_split(&vh, big, len, &go);
	assert_int_equal(n, (BIG + MSS - 1) / MSS);
	for (int i = 0; i < n; i++) {
		const uint8_t *s = bufs[i], *t = s + ip;
		size_t pl = i + 1 < n ? MSS : BIG - (size_t)(n - 1) * MSS;

		assert_int_equal(lens[i], ip + 32 + pl);
		if (!v6) {
			assert_int_equal(buf_load_be16(s + 2), lens[i]);
			assert_int_equal(buf_load_be16(s + 4), 0x1234 + i);
			assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, s, 20)), 0);
		} else {
			assert_int_equal(buf_load_be16(s + 4), lens[i] - 40);
		}
		assert_int_equal(buf_load_be32(t + 4), 0x10203040u + (uint32_t)i * MSS);
		assert_int_equal(t[13], i + 1 < n ? 0x10 : 0x18); /* PSH on the last only */
		assert_true(tcp_ok(s, lens[i]));
		assert_memory_equal(s + ip + 32, big + ip + 32 + (size_t)i * MSS, pl);
	}

	/* the pipeline encapsulates each: no LISP packet larger than the MTU */
	conf = xtr_conf_parse_string("t", conf_text, err, sizeof(err));
	assert_non_null(conf);
	mc = mc_new(&io);
	mc_configure(mc, &conf->itr, conf, 0);
	{
		struct lisp_addr a = v6 ? A("2001:db8:1::10") : A("10.1.1.10");
		struct lisp_locator l = {
			.priority = 1, .weight = 1, .reachable = true, .naddr = 1
		};
		struct lisp_eid_record r = { .ttl = 60, .locs = &l, .loc_count = 1 };
		struct lisp_map_reply m = { .nonce = 0 };
		struct buf_writer w;
		uint8_t b[256];

		l.addr[0] = v6 ? A("2001:db8::30") : A("192.0.2.30");
		assert_int_equal(mc_resolve(mc, 0, &a, 0), 0);
		m.nonce = fake_mr_nonce;
		assert_int_equal(
			lisp_prefix_parse(v6 ? "2001:db8:1::/48" : "10.1.1.0/24", 0, &r.eid), 0);
		buf_writer_init(&w, b, sizeof(b));
		assert_int_equal(lisp_msg_encode_map_reply(&w, &m, &r, 1), 0);
		mc_input(mc, &a, 4342, b, w.off, 0);
	}
	dp_init(&itr, mc, &r4, &r6, 1500);
	dp_init(&etr, mc, &r4, &r6, 1500);
	for (int i = 0; i < n; i++)
		pk[i] = (struct dp_pkt){ .buf = slots[i], .off = DP_HEADROOM, .len = lens[i] };
	dp_encap_batch(&itr, pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		if (pk[i].verdict != DP_FORWARD)
			fail_msg("encap %d: %s", i, dp_reason_name(pk[i].reason));
		assert_true(pk[i].len <= 1500);
		assert_int_equal(pk[i].len, lens[i] + (v6 ? 56 : 36));
	}
	dp_decap_batch(&etr, pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		if (pk[i].verdict != DP_FORWARD)
			fail_msg("decap %d: %s", i, dp_reason_name(pk[i].reason));
		assert_int_equal(pk[i].len, lens[i]);
		pp[i] = pk[i].buf + pk[i].off;
		lens[i] = pk[i].len;
	}

	/* gathered again: one segment equal to the original, the kernel to finish its checksum */
	assert_int_equal(gro_build(pp, lens, (size_t)n, &u, back, sizeof(back), false), (size_t)n);
	assert_non_null(u.buf);
	assert_int_equal(u.len, len);
	assert_int_equal(u.vh.gso_type, vh.gso_type);
	assert_int_equal(u.vh.gso_size, MSS);
	assert_int_equal(u.vh.hdr_len, ip + 32);
	assert_int_equal(u.vh.csum_start, ip);
	assert_int_equal(u.vh.csum_offset, 16);
	assert_true(u.vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_memory_equal(u.buf, big, ip + 16); /* headers up to the TCP checksum */
	assert_memory_equal(u.buf + ip + 18, big + ip + 18, len - ip - 18); /* all but the sum */
	mc_free(mc);
	xtr_conf_free(conf);
}

static void tso_v4(void **state)
{
	(void)state;
	split_encap_decap_gather(false);
}

static void tso_v6(void **state)
{
	(void)state;
	split_encap_decap_gather(true);
}

static void not_gathered(void **state)
{
	static uint8_t a[2000], b[2000], c[2000], back[8000];
	const uint8_t *pp[3] = { a, b, c };
	size_t lens[3];
	struct gro_unit u;

	(void)state;
	lens[0] = tso(a, false, 1000, 0x10);
	lens[1] = tso(b, false, 1000, 0x10);
	lens[2] = tso(c, false, 1000, 0x10);
	/* b does not continue a (same sequence number): each alone */
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 1);
	assert_null(u.buf);
	/* in sequence: all three; but a SYN, a FIN, another port, other options stop it */
	b[24] = 0x10, b[25] = 0x20, b[26] = 0x34, b[27] = 0x28; /* seq + 1000 */
	c[24] = 0x10, c[25] = 0x20, c[26] = 0x38, c[27] = 0x10; /* seq + 2000 */
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 3);
	c[33] = 0x11; /* FIN */
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 2);
	c[33] = 0x10;
	c[21] = 0x52; /* another destination port */
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 2);
	c[21] = 0x40;
	b[47] = 8; /* another timestamp */
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 1);
	b[47] = 7;
	/* a shorter one in the middle ends the unit after it */
	lens[1] = tso(b, false, 500, 0x10);
	b[24] = 0x10, b[25] = 0x20, b[26] = 0x34, b[27] = 0x28;
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 2);
	/* no room: alone */
	lens[1] = tso(b, false, 1000, 0x10);
	b[24] = 0x10, b[25] = 0x20, b[26] = 0x34, b[27] = 0x28;
	assert_int_equal(gro_build(pp, lens, 3, &u, back, 1500, false), 1);
	/* not TCP (UDP): alone */
	a[9] = 17;
	assert_int_equal(gro_build(pp, lens, 3, &u, back, sizeof(back), false), 1);
}

/* An IPv4 UDP datagram 198.51.100.10:40000 -> 10.1.1.10:9 with payload bytes of value v. */
static size_t udp4(uint8_t *p, size_t payload, uint8_t v)
{
	size_t len = 28 + payload;
	uint16_t c;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (uint8_t[]){ 198, 51, 100, 10, 10, 1, 1, 10 }, 8);
	c = ippkt_csum_fold(ippkt_csum_add(0, p, 20));
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 0x9c, p[21] = 0x40, p[23] = 9;
	p[24] = (uint8_t)((len - 20) >> 8);
	p[25] = (uint8_t)(len - 20);
	memset(p + 28, v, payload);
	return len;
}

static void udp_gathered(void **state)
{
	static uint8_t d[6][200], back[2000];
	const uint8_t *pp[6] = { d[0], d[1], d[2], d[3], d[4], d[5] };
	size_t lens[6];
	struct gro_unit u;
	uint32_t s;

	(void)state;
	for (int i = 0; i < 5; i++)
		lens[i] = udp4(d[i], 64, (uint8_t)i);
	lens[5] = udp4(d[5], 64, 5);
	d[5][23] = 10;		     /* another port */
	lens[4] = udp4(d[4], 30, 4); /* the last one shorter */
	/* only where the TUN takes UDP segments */
	assert_int_equal(gro_build(pp, lens, 6, &u, back, sizeof(back), false), 1);
	assert_int_equal(gro_build(pp, lens, 6, &u, back, sizeof(back), true), 5);
	assert_int_equal(u.vh.gso_type, 5); /* VIRTIO_NET_HDR_GSO_UDP_L4 */
	assert_int_equal(u.vh.gso_size, 64);
	assert_int_equal(u.vh.hdr_len, 28);
	assert_int_equal(u.vh.csum_start, 20);
	assert_int_equal(u.vh.csum_offset, 6);
	assert_int_equal(u.len, 28 + 4 * 64 + 30);
	assert_int_equal(buf_load_be16(u.buf + 2), u.len);
	assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, u.buf, 20)), 0);
	assert_int_equal(buf_load_be16(u.buf + 24), u.len - 20);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 64; k++)
			assert_int_equal(u.buf[28 + i * 64 + k], i);
	/* the checksum field holds the pseudo-header sum (UDP, the whole length) */
	s = ippkt_csum_add(0, u.buf + 12, 8) + 17 + (uint32_t)(u.len - 20);
	assert_int_equal(buf_load_be16(u.buf + 26), (uint16_t)~ippkt_csum_fold(s));
	/* and cut again as the TUN hands such a segment over: the same datagrams */
	{
		static uint8_t o[8][256];
		uint8_t *bufs[8] = { o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] };
		size_t ol[8];
		struct gso_out go = { .bufs = bufs, .lens = ol, .cap = 256, .max = 8 };

		assert_int_equal(gso_split(&u.vh, u.buf, u.len, &go), 5);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(ol[i], lens[i]);
			assert_memory_equal(o[i] + 20, d[i] + 20, 6); /* ports, length */
			assert_memory_equal(o[i] + 28, d[i] + 28, lens[i] - 28);
			s = ippkt_csum_add(0, o[i] + 12, 8) + 17 + (uint32_t)(ol[i] - 20);
			assert_int_equal(ippkt_csum_fold(ippkt_csum_add(s, o[i] + 20, ol[i] - 20)),
					 0);
			assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, o[i], 20)), 0);
		}
	}
	/* a longer one after a shorter one, a fragment: not gathered */
	lens[1] = udp4(d[1], 30, 1);
	assert_int_equal(gro_build(pp, lens, 6, &u, back, sizeof(back), true), 2);
	d[0][6] = 0x20; /* more fragments */
	assert_int_equal(gro_build(pp, lens, 6, &u, back, sizeof(back), true), 1);
}

static void checksum_and_refusals(void **state)
{
	static uint8_t p[3000], o[SEGS_MAX][2048];
	uint8_t *bufs[SEGS_MAX];
	size_t lens[SEGS_MAX], len;
	struct gso_out go = { .bufs = bufs, .lens = lens, .cap = 2048, .max = SEGS_MAX };
	struct virtio_net_hdr vh = { 0 };
	uint32_t s;

	(void)state;
	for (int i = 0; i < SEGS_MAX; i++)
		bufs[i] = o[i];
	/* a plain packet whose checksum the kernel left to us: the field holds the pseudo sum */
	len = tso(p, false, 1000, 0x18);
	s = ippkt_csum_add(0, p + 12, 8) + 6 + (uint32_t)(len - 20);
	s = (uint16_t)~ippkt_csum_fold(s);
	p[36] = (uint8_t)(s >> 8);
	p[37] = (uint8_t)s;
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = 20;
	vh.csum_offset = 16;
	assert_int_equal(gso_split(&vh, p, len, &go), 1);
	assert_true(tcp_ok(o[0], lens[0]));
	/* as it is when nothing is asked */
	vh.flags = 0;
	assert_int_equal(gso_split(&vh, p, len, &go), 1);
	assert_memory_equal(o[0], p, len);
	/* refused: the checksum place outside, UDP GSO (not asked for), v6 type on v4, no MSS,
	 * not TCP, too many segments for out */
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = (uint16_t)len;
	assert_int_equal(gso_split(&vh, p, len, &go), -EINVAL);
	vh = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 100 };
	assert_int_equal(gso_split(&vh, p, len, &go), -EPROTONOSUPPORT);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(gso_split(&vh, p, len, &go), -EINVAL);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = 0;
	assert_int_equal(gso_split(&vh, p, len, &go), -EINVAL);
	vh.gso_size = 10;
	assert_int_equal(gso_split(&vh, p, len, &go), -EMSGSIZE); /* 100 segments > 64 */
	p[9] = 17;
	vh.gso_size = 500;
	assert_int_equal(gso_split(&vh, p, len, &go), -EINVAL);
	p[9] = 6;
	assert_int_equal(gso_split(&vh, p, 30, &go), -EINVAL); /* cut short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tso_v4),
		cmocka_unit_test(tso_v6),
		cmocka_unit_test(not_gathered),
		cmocka_unit_test(udp_gathered),
		cmocka_unit_test(checksum_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
