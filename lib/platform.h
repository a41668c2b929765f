/*
 * What the engines take from the system besides the clock their caller
 * passes in: random bytes (nonces, hash keys) and the realtime clock (the
 * sessions and counters that must grow across restarts). Both go through
 * here so that a deterministic simulation (tests/sim) can replace them:
 * one seed then decides every nonce and every session of a whole system.
 * The daemons never call platform_set(): they get getrandom() and
 * CLOCK_REALTIME.
 */
#ifndef LIB_PLATFORM_H
#define LIB_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

struct platform_ops {
	uint64_t (*realtime_ns)(void *arg);		  /* nanoseconds since the epoch */
	uint64_t (*monotonic_ns)(void *arg);		  /* NULL: realtime_ns's */
	void (*random)(void *arg, void *buf, size_t len); /* fills buf: never fails */
	void *arg;
};

/* Replaces the system's clock and random source with ops (copied); NULL: the system's again. */
void platform_set(const struct platform_ops *ops);
/* The realtime clock in nanoseconds since the epoch. */
uint64_t platform_realtime_ns(void);
/* The monotonic clock in nanoseconds (the log's rate limits). */
uint64_t platform_monotonic_ns(void);
/* len random bytes into buf: 0, or -errno (the system's source failed). */
int platform_random(void *buf, size_t len);

#endif /* LIB_PLATFORM_H */
