/*
 * Fakes of the daemon's outside world shared by unit tests, fuzz targets
 * and benchmarks (each includes this in one file of its own binary).
 */
#ifndef TESTS_FAKES_H
#define TESTS_FAKES_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "lib/lisp_msg.h"

/* An interface lookup that finds no address. */
static inline int fake_no_if_addr(void *arg, const char *ifname, uint16_t afi,
				  struct lisp_addr *addr)
{
	(void)arg;
	(void)ifname;
	(void)afi;
	(void)addr;
	return -ENOENT;
}

/* The nonce of the last Map-Request sent through fake_mr_send(). */
static uint64_t fake_mr_nonce;

/* A map-resolver that takes ECM Map-Requests and remembers their nonce. */
static inline int fake_mr_send(void *arg, const struct lisp_addr *dst, uint16_t dport,
			       const uint8_t *buf, size_t len)
{
	struct lisp_ecm e;
	struct lisp_map_request q;

	(void)arg;
	(void)dst;
	(void)dport;
	if (lisp_msg_decode_ecm(buf, len, &e) == 0 &&
	    lisp_msg_decode_map_request(e.inner.payload, e.inner.payload_len, &q) == 0)
		fake_mr_nonce = q.nonce;
	return 0;
}

/*
 * The nonce n of an unsolicited Map-Notify as our Map-Server writes it:
 * its realtime clock in ns (here taken once per process) plus n, so that
 * the ETR's replay window takes it (etr/etr.c).
 */
static inline uint64_t fake_ms_nonce(uint64_t n)
{
	static uint64_t base;
	struct timespec ts;

	if (!base) {
		clock_gettime(CLOCK_REALTIME, &ts);
		base = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return base + n;
}

#endif /* TESTS_FAKES_H */
