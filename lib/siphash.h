/*
 * SipHash (Aumasson and Bernstein): a keyed hash for tables whose keys an
 * outsider chooses (addresses from the wire), so that without the key
 * nobody can pick keys that collide. siphash24 is the standard
 * SipHash-2-4; siphash13 (1 compression, 3 finalisation rounds) is the
 * cheaper variant for hot lookups. 64-bit output.
 */
#ifndef LIB_SIPHASH_H
#define LIB_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* SipHash-2-4 of data[0..len) under key. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);
/* SipHash-1-3 of data[0..len) under key. */
uint64_t siphash13(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);
/* Fills key from the kernel's random source (getrandom); 0 or -errno. */
int siphash_key_random(uint8_t key[SIPHASH_KEY_LEN]);

#endif /* LIB_SIPHASH_H */
