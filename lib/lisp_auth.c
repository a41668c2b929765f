/* Map-Register / Map-Notify / Map-Notify-Ack HMAC (OpenSSL 3 EVP_MAC). */
#include "lib/lisp_auth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define MAX_MAC 32

/* One HMAC context per algorithm, keyed once and re-initialised per message. */
struct lisp_auth_key {
	EVP_MAC_CTX *ctx[3]; /* indexed by algorithm id; [0] unused */
};

/*
 * The HMAC implementation, fetched once for every key. libcrypto starts
 * without reading openssl.cnf and without its error strings: we use its
 * built-in default provider's HMAC, SHA-1 and SHA-256 only and never print
 * its errors, and the configuration module and the string tables were most
 * of the pages it made resident (issue 23).
 */
static EVP_MAC *hmac(void)
{
	static EVP_MAC *mac;

	if (!mac &&
	    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
				NULL))
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

static EVP_MAC_CTX *hmac_ctx_new(const char *digest, const void *secret, size_t len)
{
	EVP_MAC *mac = hmac();
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	/* OpenSSL takes the digest name as a non-const char *; it does not modify it. */
	char name[16];

	if (!mac)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		return NULL;
	snprintf(name, sizeof(name), "%s", digest);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* An empty key would be refused by init: HMAC defines it as a zero block anyway. */
	if (!EVP_MAC_init(ctx, len ? secret : (const uint8_t *)"", len ? len : 1, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct lisp_auth_key *lisp_auth_key_new(const void *secret, size_t len)
{
	struct lisp_auth_key *k = xcalloc(1, sizeof(*k));

	k->ctx[LISP_ALG_HMAC_SHA1_96] = hmac_ctx_new("SHA1", secret, len);
	k->ctx[LISP_ALG_HMAC_SHA256_128] = hmac_ctx_new("SHA256", secret, len);
	if (!k->ctx[LISP_ALG_HMAC_SHA1_96] || !k->ctx[LISP_ALG_HMAC_SHA256_128]) {
		fprintf(stderr, "fatal: libcrypto cannot set up HMAC\n");
		abort();
	}
	return k;
}

void lisp_auth_key_free(struct lisp_auth_key *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->ctx[LISP_ALG_HMAC_SHA1_96]);
	EVP_MAC_CTX_free(k->ctx[LISP_ALG_HMAC_SHA256_128]);
	free(k);
}

uint16_t lisp_auth_full_len(uint8_t alg)
{
	switch (alg) {
	case LISP_ALG_HMAC_SHA1_96:
		return 20;
	case LISP_ALG_HMAC_SHA256_128:
		return 32;
	default:
		return 0;
	}
}

/* Accepted lengths: full, or truncated per RFC 2404 / RFC 4868. */
static bool len_ok(uint8_t alg, uint16_t len)
{
	switch (alg) {
	case LISP_ALG_HMAC_SHA1_96:
		return len == 20 || len == 12;
	case LISP_ALG_HMAC_SHA256_128:
		return len == 32 || len == 16;
	default:
		return false;
	}
}

/* Validates the header; returns 0 and the algorithm and length, or -errno. */
static int auth_header(const uint8_t *msg, size_t len, uint8_t *alg, uint16_t *alen)
{
	unsigned type;

	if (len < LISP_AUTH_DATA_OFF)
		return -EBADMSG;
	type = msg[0] >> 4;
	if (type != 3 && type != 4 && type != 5)
		return -EBADMSG;
	*alg = msg[LISP_AUTH_HDR_OFF + 1];
	*alen = buf_load_be16(msg + LISP_AUTH_HDR_OFF + 2);
	if (*alen > len - LISP_AUTH_DATA_OFF)
		return -EBADMSG;
	if (*alg == LISP_ALG_NONE)
		return -ENOKEY;
	if (!len_ok(*alg, *alen))
		return -EPROTONOSUPPORT;
	return 0;
}

/* MAC over the message with its authentication data taken as zeros. */
static int compute(struct lisp_auth_key *k, uint8_t alg, uint16_t alen, const uint8_t *msg,
		   size_t len, uint8_t *out)
{
	static const uint8_t zeros[MAX_MAC];
	EVP_MAC_CTX *ctx = k->ctx[alg];
	size_t outl = 0;

	if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, msg, LISP_AUTH_DATA_OFF) ||
	    !EVP_MAC_update(ctx, zeros, alen) ||
	    !EVP_MAC_update(ctx, msg + LISP_AUTH_DATA_OFF + alen,
			    len - LISP_AUTH_DATA_OFF - alen) ||
	    !EVP_MAC_final(ctx, out, &outl, MAX_MAC) || outl < alen)
		return -EIO;
	return 0;
}

int lisp_auth_sign(struct lisp_auth_key *k, uint8_t *msg, size_t len)
{
	uint8_t mac[MAX_MAC];
	uint8_t alg;
	uint16_t alen;
	int rc = auth_header(msg, len, &alg, &alen);

	if (rc == -ENOKEY)
		return alen == 0 ? 0 : -EPROTONOSUPPORT;
	if (rc < 0)
		return rc;
	rc = compute(k, alg, alen, msg, len, mac);
	if (rc < 0)
		return rc;
	memcpy(msg + LISP_AUTH_DATA_OFF, mac, alen);
	return 0;
}

int lisp_auth_verify(struct lisp_auth_key *k, const uint8_t *msg, size_t len)
{
	uint8_t mac[MAX_MAC];
	uint8_t alg;
	uint16_t alen;
	int rc = auth_header(msg, len, &alg, &alen);

	if (rc < 0)
		return rc;
	rc = compute(k, alg, alen, msg, len, mac);
	if (rc < 0)
		return rc;
	return CRYPTO_memcmp(mac, msg + LISP_AUTH_DATA_OFF, alen) == 0 ? 0 : -EACCES;
}

int lisp_auth_hmac_sha256(struct lisp_auth_key *k, const uint8_t *msg, size_t len,
			  uint8_t out[LISP_AUTH_SHA256_LEN])
{
	EVP_MAC_CTX *ctx = k->ctx[LISP_ALG_HMAC_SHA256_128];
	size_t outl = 0;

	if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, msg, len) ||
	    !EVP_MAC_final(ctx, out, &outl, LISP_AUTH_SHA256_LEN) || outl != LISP_AUTH_SHA256_LEN)
		return -EIO;
	return 0;
}

bool lisp_auth_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
