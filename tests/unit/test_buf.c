/* buf: bounds, byte order, sticky errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/buf.h"

static void test_reader(void **state)
{
	const uint8_t data[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct buf_reader r, sub;
	uint8_t out[4];

	(void)state;
	buf_reader_init(&r, data, sizeof(data));
	assert_int_equal(buf_get_u8(&r), 1);
	assert_int_equal(buf_get_be16(&r), 0x0203);
	assert_int_equal(buf_get_be32(&r), 0x04050607);
	assert_true(buf_get_be64(&r) == 0x08090a0b0c0d0e0full);
	assert_int_equal(buf_remaining(&r), 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(buf_get_u8(&r), 0); /* past the end */
	assert_int_equal(r.err, -EBADMSG);
	buf_reader_init(&r, data, 3);
	assert_int_equal(buf_get_be32(&r), 0); /* 4 of 3: error, nothing consumed */
	assert_int_equal(buf_get_u8(&r), 0);   /* sticky, though one byte is left */
	assert_int_equal(buf_remaining(&r), 0);
	buf_reader_init(&r, data, 6);
	buf_reader_sub(&r, 4, &sub);
	assert_int_equal(buf_remaining(&r), 2);
	assert_int_equal(buf_get_be32(&sub), 0x01020304);
	assert_int_equal(buf_get_u8(&sub), 0);
	assert_int_equal(sub.err, -EBADMSG);
	assert_int_equal(r.err, 0);
	buf_reader_sub(&r, 3, &sub);
	assert_int_equal(sub.err, -EBADMSG);
	assert_int_equal(r.err, -EBADMSG);
	buf_reader_init(&r, data, 2);
	buf_get_bytes(&r, out, 4);
	assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);
	assert_null(buf_peek(&r, 1));
}

static void test_writer(void **state)
{
	uint8_t b[16];
	const uint8_t want[] = { 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct buf_writer w;

	(void)state;
	buf_writer_init(&w, b, 15);
	buf_put_u8(&w, 0xab);
	buf_put_be16(&w, 0x1234);
	buf_put_be32(&w, 0xdeadbeef);
	buf_put_be64(&w, 1);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.off, 15);
	assert_memory_equal(b, want, 15);
	buf_put_u8(&w, 1);
	assert_int_equal(w.err, -ENOSPC);
	assert_int_equal(w.off, 15);
	buf_writer_init(&w, b, 4);
	buf_put_be16(&w, 0);
	buf_patch_be16(&w, 0, 0x5566);
	buf_patch_be16(&w, 1, 0x7788); /* beyond what was written: ignored */
	assert_int_equal(b[0], 0x55);
	assert_int_equal(b[1], 0x66);
	buf_put_zero(&w, 3);
	assert_int_equal(w.err, -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
