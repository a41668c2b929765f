/*
 * Authentication of Map-Register, Map-Notify and Map-Notify-Ack
 * (RFC 9301 §5.6; project rules in spec/lisp-wire.md §5.2): HMAC-SHA-1
 * (algorithm 1) or HMAC-SHA-256 (algorithm 2) over the whole message with
 * the Authentication Data zeroed. We send the full MAC (20 or 32 bytes)
 * and accept the full or the truncated (12 or 16 byte) form; comparison
 * is constant-time.
 */
#ifndef LIB_LISP_AUTH_H
#define LIB_LISP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LISP_ALG_NONE		 0
#define LISP_ALG_HMAC_SHA1_96	 1
#define LISP_ALG_HMAC_SHA256_128 2

/* Offset of the Key ID / Algorithm ID / length word and of the data. */
#define LISP_AUTH_HDR_OFF  12
#define LISP_AUTH_DATA_OFF 16

struct lisp_auth_key;

/* A key from the pre-shared secret (raw bytes; not kept). Caller frees. Fatal on OOM. */
struct lisp_auth_key *lisp_auth_key_new(const void *secret, size_t len);

/* Wipes and frees the key (its state derived from the secret); NULL is a no-op. */
void lisp_auth_key_free(struct lisp_auth_key *k);

/* The full MAC length we send for an algorithm (20, 32), or 0 if unsupported. */
uint16_t lisp_auth_full_len(uint8_t alg);

/*
 * Computes the MAC of the message msg[0..len) (type 3, 4 or 5) with the
 * algorithm and length named in its header and writes it into the
 * Authentication Data field. Returns 0, -EBADMSG (not such a message, or
 * shorter than its header says) or -EPROTONOSUPPORT (algorithm or length
 * we do not do).
 */
int lisp_auth_sign(struct lisp_auth_key *k, uint8_t *msg, size_t len);

/*
 * Checks the MAC of msg[0..len) without modifying it. Returns 0 when it
 * matches, -EACCES when it does not, -ENOKEY when the message says
 * algorithm 0 (no authentication: the caller decides), -EBADMSG or
 * -EPROTONOSUPPORT as for lisp_auth_sign().
 */
int lisp_auth_verify(struct lisp_auth_key *k, const uint8_t *msg, size_t len);

/*
 * HMAC of msg[0..len) with key k and the hash of algorithm alg (LISP_ALG_HMAC_SHA1_96: SHA-1,
 * LISP_ALG_HMAC_SHA256_128: SHA-256), untruncated, into out (lisp_auth_full_len(alg) bytes).
 * Returns that length, or -EPROTONOSUPPORT for another algorithm.
 */
int lisp_auth_hmac(struct lisp_auth_key *k, uint8_t alg, const uint8_t *msg, size_t len,
		   uint8_t *out);

/* HMAC-SHA-256 of msg[0..len) with key k (for other protocols than LISP's). 0 or -EIO. */
#define LISP_AUTH_SHA256_LEN 32
int lisp_auth_hmac_sha256(struct lisp_auth_key *k, const uint8_t *msg, size_t len,
			  uint8_t out[LISP_AUTH_SHA256_LEN]);
/* Constant-time comparison of two MACs. */
bool lisp_auth_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif /* LIB_LISP_AUTH_H */
