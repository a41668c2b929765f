/* HMAC sign/verify against the spec vectors, and every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

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

/* tv1's Map-Register (header and record) re-made with algorithm alg and an alen-byte MAC field. */
static size_t remake_tv1(uint8_t *m, uint8_t alg, uint8_t alen)
{
	size_t rec = sizeof(tv1) - 48; /* tv1: 16-byte header, 32-byte MAC, then the record */

	memcpy(m, tv1, 16);
	m[13] = alg;
	m[14] = 0;
	m[15] = alen;
	memset(m + 16, 0, alen);
	memcpy(m + 16 + alen, tv1 + 48, rec);
	return 16 + alen + rec;
}

/*
 * Issue 17 item 5a: HMAC-SHA-1-96 (algorithm 1), as a Map-Server that
 * knows nothing else wants it: the full 20 bytes as OpenSSL computes them
 * over the zeroed message, the 12-byte form, and the Map-Notify back.
 */
static void test_sha1(void **state)
{
	uint8_t m[256], want[EVP_MAX_MD_SIZE];
	unsigned wlen = 0;
	size_t len = remake_tv1(m, LISP_ALG_HMAC_SHA1_96, 20);

	(void)state;
	assert_non_null(HMAC(EVP_sha1(), tv_key, (int)strlen(tv_key), m, len, want, &wlen));
	assert_int_equal(wlen, 20);
	assert_int_equal(lisp_auth_sign(key, m, len), 0);
	assert_memory_equal(m + 16, want, 20);
	assert_int_equal(lisp_auth_verify(key, m, len), 0);
	/* the acknowledging Map-Notify: same ids, type 4, its own MAC */
	m[0] = 0x40;
	m[1] = m[2] = 0;
	memset(m + 16, 0, 20);
	assert_int_equal(lisp_auth_sign(key, m, len), 0);
	assert_int_equal(lisp_auth_verify(key, m, len), 0);
	assert_memory_not_equal(m + 16, want, 20);
	/* RFC 2404's 12 bytes: the first 12 of the HMAC over the message with 12 zero bytes */
	len = remake_tv1(m, LISP_ALG_HMAC_SHA1_96, 12);
	assert_non_null(HMAC(EVP_sha1(), tv_key, (int)strlen(tv_key), m, len, want, &wlen));
	assert_int_equal(lisp_auth_sign(key, m, len), 0);
	assert_memory_equal(m + 16, want, 12);
	assert_int_equal(lisp_auth_verify(key, m, len), 0);
	m[20] ^= 1;
	assert_int_equal(lisp_auth_verify(key, m, len), -EACCES);
	/* SHA-1 with a length that is neither 12 nor 20 */
	len = remake_tv1(m, LISP_ALG_HMAC_SHA1_96, 16);
	assert_int_equal(lisp_auth_sign(key, m, len), -EPROTONOSUPPORT);
	assert_int_equal(lisp_auth_verify(key, m, len), -EPROTONOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_verify),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sha1),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
