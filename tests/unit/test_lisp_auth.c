/* HMAC sign/verify against the spec vectors, and every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/lisp_auth.h"
#include "tests/unit/tv.h"

static struct lisp_auth_key *key;

static int setup(void **state)
{
	(void)state;
	key = lisp_auth_key_new(tv_key, strlen(tv_key));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lisp_auth_key_free(key);
	lisp_auth_key_free(NULL);
	return 0;
}

static void test_vectors_verify(void **state)
{
	const uint8_t *tvs[] = { tv1, tv1b, tv2, tv3, tv10 };
	const size_t lens[] = { sizeof(tv1), sizeof(tv1b), sizeof(tv2), sizeof(tv3), sizeof(tv10) };
	uint8_t copy[256];

	(void)state;
	for (int i = 0; i < 5; i++) {
		memcpy(copy, tvs[i], lens[i]);
		assert_int_equal(lisp_auth_verify(key, copy, lens[i]), 0);
		assert_memory_equal(copy, tvs[i], lens[i]); /* verify does not touch the message */
		/* re-signing a zeroed copy reproduces the vector */
		memset(copy + LISP_AUTH_DATA_OFF, 0, copy[15]);
		assert_int_equal(lisp_auth_sign(key, copy, lens[i]), 0);
		assert_memory_equal(copy, tvs[i], lens[i]);
	}
	assert_int_equal(lisp_auth_full_len(LISP_ALG_HMAC_SHA1_96), 20);
	assert_int_equal(lisp_auth_full_len(LISP_ALG_HMAC_SHA256_128), 32);
	assert_int_equal(lisp_auth_full_len(3), 0);
}

static void test_refusals(void **state)
{
	struct lisp_auth_key *other = lisp_auth_key_new("lisp-test-kez", 13);
	uint8_t m[256];

	(void)state;
	assert_int_equal(lisp_auth_verify(other, tv1, sizeof(tv1)), -EACCES);
	lisp_auth_key_free(other);
	/* one bit flipped in a record, in the MAC, in the header */
	for (size_t at = 0; at < sizeof(tv1); at++) {
		if (at >= 12 && at < 16)
			continue; /* the auth header itself: other refusals below */
		memcpy(m, tv1, sizeof(tv1));
		m[at] ^= 0x01;
		if (lisp_auth_verify(key, m, sizeof(tv1)) != -EACCES)
			fail_msg("flipped byte %zu not refused", at);
	}
	memcpy(m, tv1, sizeof(tv1));
	assert_int_equal(lisp_auth_verify(key, m, sizeof(tv1) - 1), -EACCES);
	m[15] = 20; /* SHA-256 with a 20-byte MAC */
	assert_int_equal(lisp_auth_verify(key, m, sizeof(tv1)), -EPROTONOSUPPORT);
	m[15] = 0x20;
	m[13] = 3; /* HKDF variant: not done */
	assert_int_equal(lisp_auth_verify(key, m, sizeof(tv1)), -EPROTONOSUPPORT);
	m[13] = 0;
	assert_int_equal(lisp_auth_verify(key, m, sizeof(tv1)), -ENOKEY);
	m[13] = 2;
	m[14] = 0x01; /* auth length past the end */
	assert_int_equal(lisp_auth_verify(key, m, sizeof(tv1)), -EBADMSG);
	assert_int_equal(lisp_auth_verify(key, tv1, 15), -EBADMSG);
	assert_int_equal(lisp_auth_verify(key, tv5, sizeof(tv5)), -EBADMSG); /* a Map-Request */
	assert_int_equal(lisp_auth_sign(key, m, sizeof(tv1)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_verify),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
