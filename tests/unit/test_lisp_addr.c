/* Addresses and prefixes: text forms, order, hashing, containment, wire forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/lisp_addr.h"

static void test_parse_format(void **state)
{
	const char *good[] = { "192.0.2.1", "2001:db8::1", "::", "52:54:00:aa:bb:02" };
	const char *bad[] = { "",
			      "192.0.2",
			      "192.0.2.256",
			      "2001:db8:::1",
			      "52:54:00:aa:bb",
			      "52:54:00:aa:bb:0g",
			      "52-54-00-aa-bb-02",
			      "x" };
	char buf[LISP_ADDR_STRLEN];
	struct lisp_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(lisp_addr_parse(good[i], &a), 0);
		assert_string_equal(lisp_addr_format(&a, buf, sizeof(buf)), good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lisp_addr_parse(bad[i], &a), -EINVAL);
	a.afi = LISP_AFI_NONE;
	assert_string_equal(lisp_addr_format(&a, buf, sizeof(buf)), "no-address");
}

static void test_prefix(void **state)
{
	const char *bad[] = { "10.1.1.0/33",  "10.1.1.1/24", "10.1.1.0/",      "10.1.1.0/-1",
			      "10.1.1.0/24x", "/24",	     "2001:db8::/129", "2001:db8::1/64" };
	struct lisp_prefix p, q, h;
	char buf[LISP_PREFIX_STRLEN];
	struct lisp_addr a;

	(void)state;
	assert_int_equal(lisp_prefix_parse("10.1.1.0/24", 4100, &p), 0);
	assert_string_equal(lisp_prefix_format(&p, buf, sizeof(buf)), "[4100] 10.1.1.0/24");
	assert_int_equal(lisp_prefix_parse("10.1.1.10", 4100, &h), 0);
	assert_int_equal(h.plen, 32);
	assert_true(lisp_prefix_contains(&p, &h));
	assert_false(lisp_prefix_contains(&h, &p));
	assert_true(lisp_prefix_contains_addr(&p, 4100, &h.addr));
	assert_false(lisp_prefix_contains_addr(&p, 0, &h.addr));
	q = h;
	q.iid = 1;
	assert_false(lisp_prefix_contains(&p, &q));
	assert_int_equal(lisp_prefix_parse("2001:db8:a::/48", 0, &q), 0);
	assert_string_equal(lisp_prefix_format(&q, buf, sizeof(buf)), "2001:db8:a::/48");
	assert_false(lisp_prefix_contains(&p, &q));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lisp_prefix_parse(bad[i], 0, &p), -EINVAL);
	assert_int_equal(lisp_addr_parse("10.1.1.77", &a), 0);
	lisp_prefix_from_addr(&p, 3, &a);
	assert_int_equal(p.plen, 32);
	p.plen = 20;
	lisp_prefix_mask(&p);
	assert_string_equal(lisp_prefix_format(&p, buf, sizeof(buf)), "[3] 10.1.0.0/20");
	assert_int_equal(lisp_prefix_parse("0.0.0.0/0", 0, &p), 0);
	assert_true(lisp_prefix_contains_addr(&p, 0, &a));
}

static void test_order_hash(void **state)
{
	struct lisp_prefix a, b;

	(void)state;
	assert_int_equal(lisp_prefix_parse("10.1.1.0/24", 1, &a), 0);
	b = a;
	assert_true(lisp_prefix_equal(&a, &b));
	assert_int_equal(lisp_prefix_hash(&a), lisp_prefix_hash(&b));
	b.plen = 25;
	assert_true(lisp_prefix_cmp(&a, &b) < 0);
	assert_int_not_equal(lisp_prefix_hash(&a), lisp_prefix_hash(&b));
	b = a;
	b.iid = 2;
	assert_true(lisp_prefix_cmp(&a, &b) < 0);
	assert_int_not_equal(lisp_prefix_hash(&a), lisp_prefix_hash(&b));
	assert_int_equal(lisp_prefix_parse("2001:db8::/32", 1, &b), 0);
	assert_true(lisp_prefix_cmp(&a, &b) < 0); /* IPv4 sorts before IPv6 */
	assert_true(lisp_addr_cmp(&a.addr, &b.addr) < 0);
	assert_int_not_equal(lisp_addr_hash(&a.addr), lisp_addr_hash(&b.addr));
}

static void test_wire(void **state)
{
	/* IID-LCAF around IPv6 (TV2's EID) and a plain IPv4 EID */
	const uint8_t lcaf[] = { 0x40, 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x16, 0x00, 0x00,
				 0x10, 0x04, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a,
				 0,    0,    0,	   0,	 0,    0,    0,	   0,	 0,    0x10 };
	const uint8_t afi_list[] = {
		0x40, 0x03, 0, 0, 0x01, 0, 0x00, 0x06, 0x00, 0x01, 192, 0, 2, 1
	};
	struct lisp_prefix p, want;
	struct lisp_addr addrs[LISP_AFI_LIST_MAX];
	uint8_t n, buf[64], bad[sizeof(lcaf)];
	bool list;
	struct buf_reader r;
	struct buf_writer w;

	(void)state;
	assert_int_equal(lisp_prefix_parse("2001:db8:a::10/128", 4100, &want), 0);
	buf_reader_init(&r, lcaf, sizeof(lcaf));
	assert_int_equal(lisp_eid_decode(&r, 128, &p), 0);
	assert_true(lisp_prefix_equal(&p, &want));
	buf_writer_init(&w, buf, sizeof(buf));
	lisp_eid_encode(&w, &want);
	assert_int_equal(w.off, sizeof(lcaf));
	assert_memory_equal(buf, lcaf, sizeof(lcaf));
	/* LCAF length one short of its content */
	memcpy(bad, lcaf, sizeof(lcaf));
	bad[7] = 0x15;
	buf_reader_init(&r, bad, sizeof(bad));
	assert_int_equal(lisp_eid_decode(&r, 128, &p), -EBADMSG);
	/* LCAF length one more than its content */
	bad[7] = 0x17;
	buf_reader_init(&r, bad, sizeof(bad));
	assert_int_equal(lisp_eid_decode(&r, 128, &p), -EBADMSG);
	/* an LCAF type we do not handle */
	memcpy(bad, lcaf, sizeof(lcaf));
	bad[4] = 5;
	buf_reader_init(&r, bad, sizeof(bad));
	assert_int_equal(lisp_eid_decode(&r, 128, &p), -EPROTONOSUPPORT);
	/* AFI-List with one IPv4 address */
	buf_reader_init(&r, afi_list, sizeof(afi_list));
	assert_int_equal(lisp_rloc_decode(&r, addrs, &n, &list), 0);
	assert_true(list);
	assert_int_equal(n, 1);
	assert_int_equal(addrs[0].afi, LISP_AFI_IPV4);
	buf_writer_init(&w, buf, sizeof(buf));
	lisp_rloc_encode(&w, addrs, n, true);
	assert_memory_equal(buf, afi_list, sizeof(afi_list));
	/* mask-len longer than the address */
	buf_reader_init(&r, lcaf, sizeof(lcaf));
	assert_int_equal(lisp_eid_decode(&r, 129, &p), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_order_hash),
		cmocka_unit_test(test_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
