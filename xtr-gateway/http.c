/* The metrics listener's HTTP request parser (pure: fuzzed and unit-tested). */
#include <errno.h>
#include <string.h>

#include "xtr-gateway/xtr.h"

int metrics_request(const char *buf, size_t len, char *path, size_t cap)
{
	const char *end = NULL, *sp, *sp2;
	size_t plen;

	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i;
			break;
		}
	if (!end)
		return len >= METRICS_REQ_MAX ? -E2BIG : 0;
	sp = memchr(buf, ' ', (size_t)(end - buf));
	if (!sp)
		return -EINVAL;
	if ((size_t)(sp - buf) != 3 || memcmp(buf, "GET", 3) != 0)
		return -EOPNOTSUPP;
	sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
	if (!sp2 || sp2 == sp + 1 || (size_t)(end - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -EINVAL;
	plen = (size_t)(sp2 - sp - 1);
	if (plen >= cap)
		return -E2BIG;
	for (size_t i = 0; i < plen; i++) /* a path is printable ASCII (RFC 3986) */
		if ((unsigned char)sp[1 + i] <= ' ' || (unsigned char)sp[1 + i] >= 0x7f)
			return -EINVAL;
	memcpy(path, sp + 1, plen);
	path[plen] = '\0';
	return 1;
}
