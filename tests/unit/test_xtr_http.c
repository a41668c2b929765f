/* The metrics listener's HTTP request parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xtr-gateway/xtr.h"

static int req(const char *s, char *path)
{
	return metrics_request(s, strlen(s), path, 64);
}

static void requests(void **state)
{
	static const char nul[] = "GET /m\0etrics HTTP/1.1\r\n\r\n";
	char path[64], big[METRICS_REQ_MAX + 16];

	(void)state;
	assert_int_equal(req("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", path), 1);
	assert_string_equal(path, "/metrics");
	assert_int_equal(req("GET / HTTP/1.0\r\n\r\n", path), 1);
	assert_string_equal(path, "/");
	/* not yet whole */
	assert_int_equal(req("GET /metrics HTTP/1.1\r\nHost: x\r\n", path), 0);
	assert_int_equal(req("", path), 0);
	/* refusals */
	assert_int_equal(req("POST /metrics HTTP/1.1\r\n\r\n", path), -EOPNOTSUPP);
	assert_int_equal(req("GETS /metrics HTTP/1.1\r\n\r\n", path), -EOPNOTSUPP);
	assert_int_equal(req("GET\r\n\r\n", path), -EINVAL);
	assert_int_equal(req("GET /metrics\r\n\r\n", path), -EINVAL);
	assert_int_equal(req("GET  HTTP/1.1\r\n\r\n", path), -EINVAL);
	assert_int_equal(req("GET /metrics SPDY/3\r\n\r\n", path), -EINVAL);
	/* the path: printable ASCII only (a NUL would cut it short: found by fuzz_http) */
	assert_int_equal(metrics_request(nul, sizeof(nul) - 1, path, 64), -EINVAL);
	assert_int_equal(req("GET /m\x01 HTTP/1.1\r\n\r\n", path), -EINVAL);
	assert_int_equal(req("GET /m\x80 HTTP/1.1\r\n\r\n", path), -EINVAL);
	assert_int_equal(metrics_request("GET /metrics HTTP/1.1\r\n\r\n", 27, path, 5), -E2BIG);
	memset(big, 'a', sizeof(big));
	assert_int_equal(metrics_request(big, METRICS_REQ_MAX, path, 64), -E2BIG);
	assert_int_equal(metrics_request(big, METRICS_REQ_MAX - 1, path, 64), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
