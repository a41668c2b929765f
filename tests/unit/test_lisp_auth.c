/* HMAC sign/verify against the spec vectors, and every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

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

/* One test case of RFC 2202 (HMAC-SHA-1) or RFC 4231 (HMAC-SHA-256). */
struct rfc_case {
	uint8_t alg;
	uint8_t key_byte; /* the key: key_len bytes of it (0: key_str; 1: 0x01, 0x02, ...) */
	size_t key_len;
	const char *key_str;
	uint8_t data_byte; /* the data: data_len bytes of it, or data_str */
	size_t data_len;
	const char *data_str;
	const char *mac; /* hex; shorter than the full MAC: the truncated form the RFC gives */
};

static const struct rfc_case rfc_cases[] = {
	/* RFC 2202 §3, test cases 1-7 */
	{ 1, 0x0b, 20, NULL, 0, 0, "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ 1, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ 1, 0xaa, 20, NULL, 0xdd, 50, NULL, "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ 1, 1, 25, NULL, 0xcd, 50, NULL, "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ 1, 0x0c, 20, NULL, 0, 0, "Test With Truncation", "4c1a03424b55e07fe7f27be1" },
	{ 1, 0xaa, 80, NULL, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ 1, 0xaa, 80, NULL, 0, 0,
	  "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	/* RFC 4231 §4, test cases 1-7 */
	{ 2, 0x0b, 20, NULL, 0, 0, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 2, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 2, 0xaa, 20, NULL, 0xdd, 50, NULL,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ 2, 1, 25, NULL, 0xcd, 50, NULL,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 2, 0x0c, 20, NULL, 0, 0, "Test With Truncation", "a3b6167473100ee06e0c796c2955552b" },
	{ 2, 0xaa, 131, NULL, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 2, 0xaa, 131, NULL, 0, 0,
	  "This is a test using a larger than block-size key and a larger than block-size data. "
	  "The key needs to be hashed before being used by the HMAC algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	/* the empty key (a block of zeros), with and without data (Python's hmac module) */
	{ 1, 0, 0, "", 0, 0, "", "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d" },
	{ 2, 0, 0, "", 0, 0, "",
	  "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad" },
	{ 1, 0, 0, "", 0, 0, "The quick brown fox jumps over the lazy dog",
	  "2ba7f707ad5f187c412de3106583c3111d668de8" },
	{ 2, 0, 0, "", 0, 0, "The quick brown fox jumps over the lazy dog",
	  "fb011e6154a19b9a4c767373c305275a5a69e8b68b0b4c9200c383dced19a416" },
};

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_rfc_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc_cases) / sizeof(rfc_cases[0]); i++) {
		const struct rfc_case *c = &rfc_cases[i];
		uint8_t k[256], d[256], want[32], mac[32];
		size_t klen = c->key_str ? strlen(c->key_str) : c->key_len;
		size_t dlen = c->data_str ? strlen(c->data_str) : c->data_len;
		size_t wlen = unhex(want, c->mac);
		struct lisp_auth_key *kk;

		for (size_t j = 0; j < klen; j++)
			k[j] = c->key_str	  ? (uint8_t)c->key_str[j]
			       : c->key_byte == 1 ? (uint8_t)(j + 1)
						  : c->key_byte;
		if (c->data_str)
			memcpy(d, c->data_str, dlen);
		else
			memset(d, c->data_byte, dlen);
		kk = lisp_auth_key_new(k, klen);
		assert_int_equal(lisp_auth_hmac(kk, c->alg, d, dlen, mac),
				 lisp_auth_full_len(c->alg));
		if (memcmp(mac, want, wlen) != 0)
			fail_msg("case %zu (algorithm %u): MAC differs", i, c->alg);
		if (c->alg == LISP_ALG_HMAC_SHA256_128) {
			memset(mac, 0, sizeof(mac));
			assert_int_equal(lisp_auth_hmac_sha256(kk, d, dlen, mac), 0);
			assert_memory_equal(mac, want, wlen);
		}
		lisp_auth_key_free(kk);
	}
	assert_int_equal(lisp_auth_hmac(key, 3, (const uint8_t *)"x", 1, (uint8_t[32]){ 0 }),
			 -EPROTONOSUPPORT);
}

/* HMAC as libcrypto's EVP_MAC computes it (an empty key: one zero byte, the same block). */
static void evp_hmac(const char *digest, const uint8_t *k, size_t klen, const uint8_t *m,
		     size_t mlen, uint8_t *out, size_t outlen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	char name[16];
	OSSL_PARAM params[2];
	size_t outl = 0;

	snprintf(name, sizeof(name), "%s", digest);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name, 0);
	params[1] = OSSL_PARAM_construct_end();
	assert_non_null(ctx);
	assert_true(EVP_MAC_init(ctx, klen ? k : (const uint8_t *)"", klen ? klen : 1, params));
	assert_true(EVP_MAC_update(ctx, m, mlen));
	assert_true(EVP_MAC_final(ctx, out, &outl, outlen));
	assert_int_equal(outl, outlen);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 32);
}

/*
 * Against EVP_MAC over many key and message lengths (around the 64-byte
 * block, and keys longer than it): the bare HMAC, and a Map-Register
 * signed and verified (the MAC over the message with its field zeroed).
 */
static void test_against_evp(void **state)
{
	uint8_t k[200], m[400], zeroed[400], want[32], got[32];

	(void)state;
	for (int i = 0; i < 3000; i++) {
		size_t klen = i < 200 ? (size_t)i : rnd() % sizeof(k);
		size_t mlen = i < 400 ? (size_t)(i * 7) % sizeof(m) : rnd() % sizeof(m);
		uint8_t alg = (i & 1) ? LISP_ALG_HMAC_SHA256_128 : LISP_ALG_HMAC_SHA1_96;
		const char *digest = alg == LISP_ALG_HMAC_SHA1_96 ? "SHA1" : "SHA256";
		size_t full = lisp_auth_full_len(alg);
		uint16_t alen = (rnd() & 1) ? (uint16_t)full : (alg == 1 ? 12 : 16);
		struct lisp_auth_key *kk;

		for (size_t j = 0; j < klen; j++)
			k[j] = (uint8_t)rnd();
		for (size_t j = 0; j < mlen; j++)
			m[j] = (uint8_t)rnd();
		kk = lisp_auth_key_new(k, klen);
		evp_hmac(digest, k, klen, m, mlen, want, full);
		assert_int_equal(lisp_auth_hmac(kk, alg, m, mlen, got), (int)full);
		if (memcmp(got, want, full) != 0)
			fail_msg("%s key %zu bytes, message %zu bytes: MAC differs", digest, klen,
				 mlen);
		/* a Map-Register of the same bytes after its header */
		if (mlen >= (size_t)LISP_AUTH_DATA_OFF + alen) {
			m[0] = 0x30;
			m[LISP_AUTH_HDR_OFF + 1] = alg;
			m[LISP_AUTH_HDR_OFF + 2] = 0;
			m[LISP_AUTH_HDR_OFF + 3] = (uint8_t)alen;
			memcpy(zeroed, m, mlen);
			memset(zeroed + LISP_AUTH_DATA_OFF, 0, alen);
			evp_hmac(digest, k, klen, zeroed, mlen, want, full);
			assert_int_equal(lisp_auth_sign(kk, m, mlen), 0);
			if (memcmp(m + LISP_AUTH_DATA_OFF, want, alen) != 0)
				fail_msg("%s key %zu bytes, message %zu bytes: signature differs",
					 digest, klen, mlen);
			assert_int_equal(lisp_auth_verify(kk, m, mlen), 0);
			m[mlen - 1] ^= 0x80;
			assert_int_equal(lisp_auth_verify(kk, m, mlen), -EACCES);
		}
		lisp_auth_key_free(kk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_verify), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sha1),	       cmocka_unit_test(test_rfc_vectors),
		cmocka_unit_test(test_against_evp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
