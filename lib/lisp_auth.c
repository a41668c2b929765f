/*
 * Map-Register / Map-Notify / Map-Notify-Ack HMAC: RFC 2104 over
 * libcrypto's SHA-1 and SHA-256 block functions.
 *
 * Not EVP_MAC: its provider machinery made ~1.5 MiB of libcrypto resident
 * in every process, and fhr-agent links only these SHA objects from the
 * static archive (issue 23). The low-level SHA*_Init/Update/Final are
 * deprecated in OpenSSL 3.0 but kept (and assembly-accelerated); they are
 * plain state machines over a caller-owned context and cannot fail.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "lib/lisp_auth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define MAX_MAC 32
#define BLOCK	64 /* SHA-1's and SHA-256's block */
#define IPAD	0x36
#define OPAD	0x5c

/*
 * The key as HMAC uses it: per hash, the inner and the outer context with
 * (key ^ ipad) and (key ^ opad) absorbed. A message's MAC starts from
 * copies of them: two blocks fewer to hash than from the key.
 */
struct lisp_auth_key {
	SHA_CTX sha1_in, sha1_out;
	SHA256_CTX sha256_in, sha256_out;
};

/* The bytes a MAC covers: pieces hashed in order. */
struct piece {
	const uint8_t *p;
	size_t len;
};

/* The key padded with zeros to a block, XORed with pad. */
static void pad(uint8_t block[BLOCK], const uint8_t *key, size_t len, uint8_t with)
{
	for (size_t i = 0; i < BLOCK; i++)
		block[i] = (uint8_t)((i < len ? key[i] : 0) ^ with);
}

struct lisp_auth_key *lisp_auth_key_new(const void *secret, size_t len)
{
	struct lisp_auth_key *k = xcalloc(1, sizeof(*k));
	uint8_t sha1_key[SHA_DIGEST_LENGTH], sha256_key[SHA256_DIGEST_LENGTH], block[BLOCK];
	const uint8_t *key1 = secret, *key256 = secret;
	size_t len1 = len, len256 = len;

	if (len > BLOCK) { /* RFC 2104: a key longer than the block is hashed first */
		SHA_CTX c1;
		SHA256_CTX c256;

		SHA1_Init(&c1);
		SHA1_Update(&c1, secret, len);
		SHA1_Final(sha1_key, &c1);
		SHA256_Init(&c256);
		SHA256_Update(&c256, secret, len);
		SHA256_Final(sha256_key, &c256);
		key1 = sha1_key;
		len1 = sizeof(sha1_key);
		key256 = sha256_key;
		len256 = sizeof(sha256_key);
		OPENSSL_cleanse(&c1, sizeof(c1));
		OPENSSL_cleanse(&c256, sizeof(c256));
	}
	pad(block, key1, len1, IPAD);
	SHA1_Init(&k->sha1_in);
	SHA1_Update(&k->sha1_in, block, BLOCK);
	pad(block, key1, len1, OPAD);
	SHA1_Init(&k->sha1_out);
	SHA1_Update(&k->sha1_out, block, BLOCK);
	pad(block, key256, len256, IPAD);
	SHA256_Init(&k->sha256_in);
	SHA256_Update(&k->sha256_in, block, BLOCK);
	pad(block, key256, len256, OPAD);
	SHA256_Init(&k->sha256_out);
	SHA256_Update(&k->sha256_out, block, BLOCK);
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(sha1_key, sizeof(sha1_key));
	OPENSSL_cleanse(sha256_key, sizeof(sha256_key));
	return k;
}

void lisp_auth_key_free(struct lisp_auth_key *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
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

/*
 * HMAC(key, pieces) = H((key ^ opad) || H((key ^ ipad) || pieces)), from
 * the key's precomputed contexts; the full MAC into out. Returns its
 * length, or -EPROTONOSUPPORT for another algorithm.
 */
static int hmac(const struct lisp_auth_key *k, uint8_t alg, const struct piece *v, size_t n,
		uint8_t out[MAX_MAC])
{
	switch (alg) {
	case LISP_ALG_HMAC_SHA1_96: {
		SHA_CTX c = k->sha1_in;

		for (size_t i = 0; i < n; i++)
			SHA1_Update(&c, v[i].p, v[i].len);
		SHA1_Final(out, &c);
		c = k->sha1_out;
		SHA1_Update(&c, out, SHA_DIGEST_LENGTH);
		SHA1_Final(out, &c);
		OPENSSL_cleanse(&c, sizeof(c)); /* (as good as the key for one more block) */
		return SHA_DIGEST_LENGTH;
	}
	case LISP_ALG_HMAC_SHA256_128: {
		SHA256_CTX c = k->sha256_in;

		for (size_t i = 0; i < n; i++)
			SHA256_Update(&c, v[i].p, v[i].len);
		SHA256_Final(out, &c);
		c = k->sha256_out;
		SHA256_Update(&c, out, SHA256_DIGEST_LENGTH);
		SHA256_Final(out, &c);
		OPENSSL_cleanse(&c, sizeof(c));
		return SHA256_DIGEST_LENGTH;
	}
	default:
		return -EPROTONOSUPPORT;
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
static int compute(const struct lisp_auth_key *k, uint8_t alg, uint16_t alen, const uint8_t *msg,
		   size_t len, uint8_t out[MAX_MAC])
{
	static const uint8_t zeros[MAX_MAC];
	const struct piece v[] = {
		{ msg, LISP_AUTH_DATA_OFF },
		{ zeros, alen },
		{ msg + LISP_AUTH_DATA_OFF + alen, len - LISP_AUTH_DATA_OFF - alen },
	};
	int rc = hmac(k, alg, v, sizeof(v) / sizeof(v[0]), out);

	return rc < 0 ? rc : 0;
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

int lisp_auth_hmac(struct lisp_auth_key *k, uint8_t alg, const uint8_t *msg, size_t len,
		   uint8_t *out)
{
	const struct piece v = { msg, len };
	uint8_t mac[MAX_MAC];
	int rc = hmac(k, alg, &v, 1, mac);

	if (rc > 0)
		memcpy(out, mac, (size_t)rc);
	return rc;
}

int lisp_auth_hmac_sha256(struct lisp_auth_key *k, const uint8_t *msg, size_t len,
			  uint8_t out[LISP_AUTH_SHA256_LEN])
{
	return lisp_auth_hmac(k, LISP_ALG_HMAC_SHA256_128, msg, len, out) < 0 ? -EIO : 0;
}

bool lisp_auth_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
