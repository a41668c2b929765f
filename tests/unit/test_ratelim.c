/* The per-address token buckets, and SipHash checked against OpenSSL's (an independent one). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "lib/ratelim.h"
#include "lib/siphash.h"

static struct lisp_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct lisp_addr x = { .afi = LISP_AFI_IPV4, .u.v4 = { a, b, c, d } };

	return x;
}

/* OpenSSL's SipHash with c and d rounds, 8-byte output, read as SipHash's little-endian word. */
static uint64_t openssl_siphash(const uint8_t *key, const uint8_t *msg, size_t len, unsigned c,
				unsigned d)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	size_t size = 8, outl = 0;
	unsigned cr = c, dr = d;
	uint8_t out[16];
	uint64_t v = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_C_ROUNDS, &cr),
		OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_D_ROUNDS, &dr),
		OSSL_PARAM_construct_end(),
	};

	assert_non_null(mac);
	assert_non_null(ctx);
	assert_int_equal(EVP_MAC_init(ctx, key, SIPHASH_KEY_LEN, params), 1);
	assert_int_equal(EVP_MAC_update(ctx, msg, len), 1);
	assert_int_equal(EVP_MAC_final(ctx, out, &outl, sizeof(out)), 1);
	assert_int_equal(outl, 8);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return v;
}

static void test_siphash_vectors(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* the SipHash paper's vector: key 00..0f, message 00..0e */
	assert_true(siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	for (size_t len = 0; len <= 64; len++) {
		assert_true(siphash24(key, msg, len) == openssl_siphash(key, msg, len, 2, 4));
		assert_true(siphash13(key, msg, len) == openssl_siphash(key, msg, len, 1, 3));
	}
	key[3] ^= 1;
	assert_true(siphash13(key, msg, 18) == openssl_siphash(key, msg, 18, 1, 3));
}

static void test_burst_then_rate(void **state)
{
	struct ratelim *rl = ratelim_new(64);
	struct lisp_addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);
	int ok = 0;

	(void)state;
	ratelim_set(rl, 2, 5, 0);
	for (int i = 0; i < 20; i++)
		ok += ratelim_take(rl, &a, 100.0) == 0;
	assert_int_equal(ok, 5);
	assert_int_equal(ratelim_take(rl, &a, 100.0), -EBUSY);
	/* another destination has its own bucket */
	assert_int_equal(ratelim_take(rl, &b, 100.0), 0);
	/* 2 per second: half a second later one more, not two */
	assert_int_equal(ratelim_take(rl, &a, 100.5), 0);
	assert_int_equal(ratelim_take(rl, &a, 100.5), -EBUSY);
	/* a long pause refills to the burst, no more */
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += ratelim_take(rl, &a, 1000.0) == 0;
	assert_int_equal(ok, 5);
	ratelim_free(rl);
}

static void test_total(void **state)
{
	struct ratelim *rl = ratelim_new(1024);
	int ok = 0, busy = 0;

	(void)state;
	ratelim_set(rl, 10, 10, 50);
	for (int i = 0; i < 200; i++) {
		struct lisp_addr a = v4(198, 51, 100, (uint8_t)i);
		int rc = ratelim_take(rl, &a, 7.0);

		ok += rc == 0;
		busy += rc == -ENOBUFS;
	}
	assert_int_equal(ok, 50);
	assert_int_equal(busy, 150);
	/* a refused total takes nothing from the key: it keeps its whole burst */
	struct lisp_addr k = v4(203, 0, 113, 9);
	assert_int_equal(ratelim_take(rl, &k, 7.0), -ENOBUFS);
	ratelim_set(rl, 10, 10, 0);
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += ratelim_take(rl, &k, 7.0) == 0;
	assert_int_equal(ok, 10);
	ratelim_free(rl);
}

/* Many more keys than the table holds: memory stays fixed and a limited key stays limited. */
static void test_bounded(void **state)
{
	struct ratelim *rl = ratelim_new(16);
	struct lisp_addr victim = v4(192, 0, 2, 99), other = { .afi = LISP_AFI_NONE };
	int ok = 0;

	(void)state;
	ratelim_set(rl, 1, 3, 0);
	for (int i = 0; i < 10; i++)
		ok += ratelim_take(rl, &victim, 50.0) == 0;
	assert_int_equal(ok, 3);
	/* a flood of other keys, each idle longer than the victim, never displaces its empty bucket */
	for (int i = 0; i < 100000; i++) {
		struct lisp_addr a = { .afi = LISP_AFI_IPV6 };

		a.u.v6[0] = 0x20;
		a.u.v6[1] = 0x01;
		a.u.v6[2] = 0x0d;
		a.u.v6[3] = 0xb8;
		memcpy(a.u.v6 + 12, &i, sizeof(i));
		assert_int_equal(ratelim_take(rl, &a, 0.0), 0);
	}
	assert_int_equal(ratelim_take(rl, &victim, 50.0), -EBUSY);
	assert_int_equal(ratelim_take(rl, &other, 50.0), -EINVAL);
	ratelim_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_total),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
