/*
 * For the engine unit tests (cmocka): datagrams the engine sends, kept
 * for the test to decode, and an address from text.
 */
#ifndef TESTS_UNIT_CAPTURE_H
#define TESTS_UNIT_CAPTURE_H

#include <string.h>

#include "lib/lisp_addr.h"

struct sent {
	struct lisp_addr dst;
	uint16_t port;
	uint8_t buf[2048];
	size_t len;
};

static struct sent out[64];
static int nout;

/* An io.send that records the datagram in out[nout++]. */
static inline int capture_send(void *arg, const struct lisp_addr *dst, uint16_t dport,
			       const uint8_t *buf, size_t len)
{
	(void)arg;
	assert_true(nout < 64 && len <= sizeof(out[0].buf));
	out[nout].dst = *dst;
	out[nout].port = dport;
	memcpy(out[nout].buf, buf, len);
	out[nout++].len = len;
	return 0;
}

/* The address s (the test fails if it is not one). */
static inline struct lisp_addr A(const char *s) {
	struct lisp_addr a;

	assert_int_equal(lisp_addr_parse(s, &a), 0);
	return a;
}

#endif /* TESTS_UNIT_CAPTURE_H */
