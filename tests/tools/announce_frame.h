/* The frame a VM (or QEMU for it) sends when it lands: test tools announce and migrate. */
#ifndef TESTS_TOOLS_ANNOUNCE_FRAME_H
#define TESTS_TOOLS_ANNOUNCE_FRAME_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/*
 * f (60 bytes, padded): a gratuitous ARP request for ip from mac, or with
 * rarp QEMU's RARP (a reverse request for its own MAC; ip unused).
 */
static inline void announce_frame(uint8_t *f, const uint8_t *mac, bool rarp,
				  const struct in_addr *ip)
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = rarp ? 0x80 : 0x08;
	f[13] = rarp ? 0x35 : 0x06;
	f[15] = 1, f[16] = 8, f[18] = 6, f[19] = 4;
	f[21] = rarp ? 3 : 1;
	memcpy(f + 22, mac, 6);
	if (rarp) {
		memcpy(f + 32, mac, 6);
		return;
	}
	memcpy(f + 28, ip, 4);
	memcpy(f + 38, ip, 4);
}

#endif /* TESTS_TOOLS_ANNOUNCE_FRAME_H */
