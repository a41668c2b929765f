/*
 * Fuzz target: fhr-agent's frame parsers (ARP, RARP, ND; an IPv4 or
 * IPv6 packet) on arbitrary bytes. Properties: every answer is 0, -ENOENT
 * or -EBADMSG; a frame with an address names an IPv4 address for ARP and
 * IPv6 for ND, never a multicast or zero one; a packet lies inside its
 * frame.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhr-agent/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[16];
	struct fhr_frame fr;
	struct fhr_ip ip;
	int rc = fhr_parse_ip(data, size, &ip);

	assert(rc == 0 || rc == -ENOENT || rc == -EBADMSG);
	if (rc == 0)
		assert(ip.off == 14 && ip.len >= 20 && ip.off + ip.len <= size &&
		       ip.src.afi == ip.dst.afi);
	rc = fhr_parse_frame(data, size, &fr);

	assert(rc == 0 || rc == -ENOENT || rc == -EBADMSG);
	if (rc < 0)
		return 0;
	if (fr.kind == FHR_FRAME_RARP) {
		assert(!fr.has_addr);
		return 0;
	}
	assert(fr.has_addr);
	if (fr.kind == FHR_FRAME_ARP) {
		assert(fr.addr.afi == LISP_AFI_IPV4 && fr.addr.u.v4[0] < 224 &&
		       memcmp(fr.addr.u.v4, zero, 4) != 0);
	} else {
		assert(fr.addr.afi == LISP_AFI_IPV6 && fr.addr.u.v6[0] != 0xff &&
		       memcmp(fr.addr.u.v6, zero, 16) != 0);
	}
	return 0;
}
