/*
 * Fuzz target: the metrics listener's HTTP request parser. A request it
 * takes has a path that fits, starts after "GET " and is followed by " HTTP/1.".
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xtr-gateway/xtr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	const char *buf = (const char *)data;
	int rc = metrics_request(buf, size, path, sizeof(path));

	assert(rc == 1 || rc == 0 || rc == -EOPNOTSUPP || rc == -E2BIG || rc == -EINVAL);
	if (rc == 1) {
		size_t n = strlen(path);

		assert(n > 0 && n < sizeof(path) && size >= 4 + n + 8);
		assert(memcmp(buf, "GET ", 4) == 0 && memcmp(buf + 4, path, n) == 0);
		assert(memcmp(buf + 4 + n, " HTTP/1.", 8) == 0);
	}
	return 0;
}
