/* The system's clock and random source, or a simulation's: see platform.h. */
#include "lib/platform.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/random.h>
#include <time.h>

static struct platform_ops ops;
static bool replaced;

void platform_set(const struct platform_ops *o)
{
	replaced = o != NULL;
	if (o)
		ops = *o;
}

uint64_t platform_realtime_ns(void)
{
	struct timespec ts;

	if (replaced)
		return ops.realtime_ns(ops.arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t platform_monotonic_ns(void)
{
	struct timespec ts;

	if (replaced)
		return ops.monotonic_ns ? ops.monotonic_ns(ops.arg) : ops.realtime_ns(ops.arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int platform_random(void *buf, size_t len)
{
	size_t got = 0;

	if (replaced) {
		ops.random(ops.arg, buf, len);
		return 0;
	}
	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}
