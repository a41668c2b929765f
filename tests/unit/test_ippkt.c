/* IP/UDP header codec: TV1's and TV9's full packets, IPv6, refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ippkt.h"
#include "tests/unit/tv.h"

static struct lisp_addr addr(const char *s)
{
	struct lisp_addr a;

	assert_int_equal(lisp_addr_parse(s, &a), 0);
	return a;
}

static void test_ipv4_vectors(void **state)
{
	struct ippkt_udp h = { .src = addr("192.0.2.10"),
			       .dst = addr("192.0.2.1"),
			       .sport = 4342,
			       .dport = 4342,
			       .ttl = 64,
			       .ip_id = 1,
			       .df = true };
	struct ippkt_udp d;
	uint8_t buf[256];
	struct buf_writer w;

	(void)state;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(ippkt_encode_udp(&w, &h, tv1, sizeof(tv1)), 0);
	assert_int_equal(w.off, sizeof(tv1_ip));
	assert_memory_equal(buf, tv1_ip, sizeof(tv1_ip));
	assert_int_equal(ippkt_decode_udp(tv1_ip, sizeof(tv1_ip), true, &d), 0);
	assert_true(lisp_addr_equal(&d.src, &h.src) && lisp_addr_equal(&d.dst, &h.dst));
	assert_int_equal(d.sport, 4342);
	assert_int_equal(d.ttl, 64);
	assert_true(d.df);
	assert_int_equal(d.payload_len, sizeof(tv1));
	assert_memory_equal(d.payload, tv1, sizeof(tv1));

	/* TV9: data plane, UDP checksum 0 */
	h = (struct ippkt_udp){ .src = addr("192.0.2.20"),
				.dst = addr("192.0.2.30"),
				.sport = 54321,
				.dport = 4341,
				.ttl = 64,
				.ip_id = 10,
				.df = true,
				.udp_csum0 = true };
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(ippkt_encode_udp(&w, &h, tv9 + 28, sizeof(tv9) - 28), 0);
	assert_int_equal(w.off, sizeof(tv9));
	assert_memory_equal(buf, tv9, sizeof(tv9));
	assert_int_equal(ippkt_decode_udp(tv9, sizeof(tv9), false, &d), 0);
	assert_true(d.udp_csum0);
	assert_int_equal(ippkt_decode_udp(tv9, sizeof(tv9), true, &d), -EBADMSG);
}

static void test_ipv6_and_refusals(void **state)
{
	struct ippkt_udp h = { .src = addr("2001:db8::1"),
			       .dst = addr("2001:db8::2"),
			       .sport = 1,
			       .dport = 4342,
			       .ttl = 9,
			       .tos = 0xb8 };
	const uint8_t payload[] = "abc";
	uint8_t buf[256], bad[256];
	struct ippkt_udp d;
	struct buf_writer w;
	uint16_t csum;

	(void)state;
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(ippkt_encode_udp(&w, &h, payload, 3), 0);
	assert_int_equal(w.off, 40 + 8 + 3);
	assert_int_equal(ippkt_decode_udp(buf, w.off, true, &d), 0);
	assert_int_equal(d.ttl, 9);
	assert_int_equal(d.tos, 0xb8);
	assert_int_equal(d.payload_len, 3);
	for (size_t n = 0; n < w.off; n++)
		assert_int_equal(ippkt_decode_udp(buf, n, true, &d), -EBADMSG);
	memcpy(bad, buf, w.off);
	bad[w.off - 1] ^= 1;
	assert_int_equal(ippkt_decode_udp(bad, w.off, true, &d), -EBADMSG);
	memcpy(bad, buf, w.off);
	bad[6] = 6; /* TCP */
	assert_int_equal(ippkt_decode_udp(bad, w.off, true, &d), -EPROTONOSUPPORT);
	/* IPv4: a fragment, a bad header checksum, a total length past the buffer */
	memcpy(bad, tv1_ip, sizeof(tv1_ip));
	bad[6] = 0x20; /* MF, with the header checksum made right again */
	bad[10] = bad[11] = 0;
	csum = ippkt_csum_fold(ippkt_csum_add(0, bad, 20));
	bad[10] = (uint8_t)(csum >> 8);
	bad[11] = (uint8_t)csum;
	assert_int_equal(ippkt_decode_udp(bad, sizeof(tv1_ip), true, &d), -EPROTONOSUPPORT);
	memcpy(bad, tv1_ip, sizeof(tv1_ip));
	bad[10] ^= 1;
	assert_int_equal(ippkt_decode_udp(bad, sizeof(tv1_ip), true, &d), -EBADMSG);
	for (size_t n = 0; n < sizeof(tv1_ip); n++)
		assert_int_equal(ippkt_decode_udp(tv1_ip, n, true, &d), -EBADMSG);
	bad[0] = 0x55;
	assert_int_equal(ippkt_decode_udp(bad, sizeof(tv1_ip), true, &d), -EPROTONOSUPPORT);
	/* mixed families */
	h.dst = addr("192.0.2.1");
	buf_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(ippkt_encode_udp(&w, &h, payload, 3), -EINVAL);
}

/* RFC 1071's sum, 16 bits at a time in network order: what the fast one must equal. */
static uint16_t ref_csum(uint32_t sum, const uint8_t *p, size_t n)
{
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void test_checksum_matches_reference(void **state)
{
	static uint8_t buf[70000];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	/* every length to 300 at every alignment to 8, and large ones, with odd start sums */
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 300; n++)
			assert_int_equal(
				ippkt_csum_fold(ippkt_csum_add((uint32_t)(n * 977), buf + off, n)),
				ref_csum((uint32_t)(n * 977), buf + off, n));
	assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0, buf, 65535)), ref_csum(0, buf, 65535));
	memset(buf, 0xff, 65536);
	assert_int_equal(ippkt_csum_fold(ippkt_csum_add(0xffff, buf, 65536)),
			 ref_csum(0xffff, buf, 65536));
	/* chained over pieces of even length: as one sum */
	assert_int_equal(
		ippkt_csum_fold(ippkt_csum_add(ippkt_csum_add(0, buf + 1, 1000), buf + 1001, 777)),
		ref_csum(0, buf + 1, 1777));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_vectors),
		cmocka_unit_test(test_ipv6_and_refusals),
		cmocka_unit_test(test_checksum_matches_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
