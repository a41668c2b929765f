/*
 * Map-Register receive cost: decode (every record and locator walked) +
 * HMAC-SHA-256 verify, messages/s on one core, for 4096 distinct signed
 * registrations of one IPv4 host EID each (TV1's shape, 76 bytes).
 * Baseline in the same run: bare HMAC-SHA-256 over the same bytes with a
 * keyed OpenSSL context, so the ratio is the codec's overhead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "bench/bench_common.h"
#include "lib/lisp_auth.h"
#include "lib/lisp_msg.h"

#define NMSG   4096
#define ROUNDS 400
#define KEY    "lisp-test-key"

static uint8_t msgs[NMSG][128];
static size_t lens[NMSG];

static void build(struct lisp_auth_key *k)
{
	struct lisp_map_register m = { .want_map_notify = true, .auth = { .alg_id = 2 } };
	struct lisp_locator l = { .priority = 1,
				  .weight = 100,
				  .mpriority = 255,
				  .local = true,
				  .reachable = true,
				  .naddr = 1 };
	struct lisp_eid_record r = {
		.ttl = 1440, .loc_count = 1, .authoritative = true, .locs = &l
	};
	struct buf_writer w;

	lisp_addr_parse("192.0.2.10", &l.addr[0]);
	for (uint32_t i = 0; i < NMSG; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		m.nonce = i + 1;
		lisp_addr_set_v4(&r.eid.addr, a);
		r.eid.plen = 32;
		buf_writer_init(&w, msgs[i], sizeof(msgs[i]));
		if (lisp_msg_encode_map_register(&w, &m, &r, 1) < 0 ||
		    lisp_auth_sign(k, msgs[i], w.off) < 0)
			abort();
		lens[i] = w.off;
	}
}

/* What a Map-Server does first with a Map-Register: decode it all, then check the MAC. */
static int receive(struct lisp_auth_key *k, const uint8_t *msg, size_t len)
{
	struct lisp_map_register m;
	struct lisp_eid_record r;
	struct lisp_locator l;
	struct lisp_iter it, lit;
	int n = 0;

	if (lisp_msg_decode_map_register(msg, len, &m) < 0)
		return -1;
	lisp_record_iter_init(&it, &m.records);
	while (lisp_record_iter_next(&it, &r)) {
		lisp_locator_iter_init(&lit, &r);
		while (lisp_locator_iter_next(&lit, &l))
			n += l.reachable;
	}
	if (lisp_auth_verify(k, msg, len) < 0)
		return -1;
	return n;
}

int main(void)
{
	struct lisp_auth_key *k = lisp_auth_key_new(KEY, strlen(KEY));
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	char digest[] = "SHA256";
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
				OSSL_PARAM_construct_end() };
	double t0, t_codec = 0, t_bare = 0;
	long ok = 0, sum = 0;
	uint8_t out[32];
	size_t outl;

	EVP_MAC_init(ctx, (const uint8_t *)KEY, strlen(KEY), params);
	build(k);
	for (int r = 0; r < ROUNDS; r++) {
		t0 = bench_now();
		for (int i = 0; i < NMSG; i++)
			ok += receive(k, msgs[i], lens[i]) == 1;
		t_codec += bench_now() - t0;
		t0 = bench_now();
		for (int i = 0; i < NMSG; i++) {
			EVP_MAC_init(ctx, NULL, 0, NULL);
			EVP_MAC_update(ctx, msgs[i], lens[i]);
			EVP_MAC_final(ctx, out, &outl, sizeof(out));
			sum += out[0];
		}
		t_bare += bench_now() - t0;
	}
	double n = (double)NMSG * ROUNDS;

	printf("Map-Register decode + HMAC-SHA-256 verify: %.0f k msgs/s (target >= 500k), "
	       "%zu-byte "
	       "messages\n",
	       n / t_codec / 1e3, lens[0]);
	printf("baseline bare HMAC-SHA-256 over the same bytes: %.0f k/s\n", n / t_bare / 1e3);
	printf("ratio codec+verify / bare HMAC: %.2f (1.00 = no codec overhead)\n",
	       t_bare / t_codec);
	printf("(verified %ld of %.0f, checksum %ld)\n", ok, n, sum);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	lisp_auth_key_free(k);
	return ok == (long)n ? 0 : 1;
}
