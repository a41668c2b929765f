/* SipHash: see siphash.h. */
#include "lib/siphash.h"

#include <errno.h>

#include "lib/platform.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline uint64_t siphash(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len,
			       unsigned c_rounds, unsigned d_rounds)
{
	const uint8_t *p = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8), m;
	struct sip s = {
		.v0 = k0 ^ 0x736f6d6570736575ull,
		.v1 = k1 ^ 0x646f72616e646f6dull,
		.v2 = k0 ^ 0x6c7967656e657261ull,
		.v3 = k1 ^ 0x7465646279746573ull,
	};
	size_t left = len;

	for (; left >= 8; left -= 8, p += 8) {
		m = load_le64(p);
		s.v3 ^= m;
		for (unsigned i = 0; i < c_rounds; i++)
			sip_round(&s);
		s.v0 ^= m;
	}
	m = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < left; i++)
		m |= (uint64_t)p[i] << (8 * i);
	s.v3 ^= m;
	for (unsigned i = 0; i < c_rounds; i++)
		sip_round(&s);
	s.v0 ^= m;
	s.v2 ^= 0xff;
	for (unsigned i = 0; i < d_rounds; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	return siphash(key, data, len, 2, 4);
}

uint64_t siphash13(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	return siphash(key, data, len, 1, 3);
}

int siphash_key_random(uint8_t key[SIPHASH_KEY_LEN])
{
	return platform_random(key, SIPHASH_KEY_LEN);
}
