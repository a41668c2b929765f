/* Data-plane header: TV9, every flag, refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/lisp_data.h"
#include "tests/unit/tv.h"

static void test_tv9(void **state)
{
	const uint8_t *hdr = tv9 + 28; /* after outer IPv4 + UDP */
	struct lisp_data_hdr h;
	uint8_t out[8];

	(void)state;
	assert_int_equal(lisp_data_decode(hdr, 8, &h), 0);
	assert_true(h.nonce_present && h.lsb_valid && h.iid_present);
	assert_false(h.echo_nonce || h.map_version);
	assert_int_equal(h.nonce, 0xabcdef);
	assert_int_equal(h.iid, 4100);
	assert_int_equal(h.lsb, 1);
	assert_int_equal(lisp_data_encode(&h, out), 0);
	assert_memory_equal(out, hdr, 8);
	for (size_t n = 0; n < 8; n++)
		assert_int_equal(lisp_data_decode(hdr, n, &h), -EBADMSG);
}

static void test_forms(void **state)
{
	const uint8_t iid_only[8] = { 0x08, 0, 0, 0, 0x00, 0x10, 0x04, 0x00 };
	struct lisp_data_hdr h = { .iid_present = true, .iid = 4100 }, d;
	uint8_t out[8], in[8];

	(void)state;
	assert_int_equal(lisp_data_encode(&h, out), 0);
	assert_memory_equal(out, iid_only, 8);
	/* map-version */
	h = (struct lisp_data_hdr){ .map_version = true,
				    .src_version = 0xabc,
				    .dst_version = 0x123 };
	assert_int_equal(lisp_data_encode(&h, out), 0);
	assert_int_equal(lisp_data_decode(out, 8, &d), 0);
	assert_true(d.map_version && !d.nonce_present);
	assert_int_equal(d.src_version, 0xabc);
	assert_int_equal(d.dst_version, 0x123);
	/* 32 locator-status bits without an instance-id */
	h = (struct lisp_data_hdr){ .lsb_valid = true, .lsb = 0x80000001u, .key_id = 2 };
	assert_int_equal(lisp_data_encode(&h, out), 0);
	assert_int_equal(lisp_data_decode(out, 8, &d), 0);
	assert_int_equal(d.lsb, 0x80000001u);
	assert_int_equal(d.key_id, 2);
	/* N and V both set on receipt: a nonce; E without N is ignored; reserved bit ignored */
	memset(in, 0, 8);
	in[0] = 0x80 | 0x10 | 0x04;
	in[3] = 7;
	assert_int_equal(lisp_data_decode(in, 8, &d), 0);
	assert_true(d.nonce_present && !d.map_version);
	assert_int_equal(d.nonce, 7);
	in[0] = 0x20;
	assert_int_equal(lisp_data_decode(in, 8, &d), 0);
	assert_false(d.echo_nonce);
	/* refusals */
	h = (struct lisp_data_hdr){ .nonce_present = true, .map_version = true };
	assert_int_equal(lisp_data_encode(&h, out), -EINVAL);
	h = (struct lisp_data_hdr){ .iid_present = true, .iid = 0x1000000 };
	assert_int_equal(lisp_data_encode(&h, out), -EINVAL);
	h = (struct lisp_data_hdr){ .nonce_present = true, .nonce = 0x1000000 };
	assert_int_equal(lisp_data_encode(&h, out), -EINVAL);
	h = (struct lisp_data_hdr){ .iid_present = true, .lsb_valid = true, .lsb = 0x100 };
	assert_int_equal(lisp_data_encode(&h, out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tv9),
		cmocka_unit_test(test_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
