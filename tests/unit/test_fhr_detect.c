/*
 * fhr-agent's frame parser on crafted ARP, RARP and neighbour-discovery
 * frames, and their truncations; the frames it builds (gratuitous ARP,
 * override advertisements) read back; the IPv4/IPv6 packet parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fhr-agent/detect.h"
#include "lib/ippkt.h"

static const uint8_t vm_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* An ARP (or RARP) frame: op, sender MAC/IP, target MAC/IP. */
static size_t arp(uint8_t *f, uint16_t ethertype, uint16_t op, const uint8_t *smac,
		  const uint8_t sip[4], const uint8_t *tmac, const uint8_t tip[4])
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, smac, 6);
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4;
	f[20] = (uint8_t)(op >> 8), f[21] = (uint8_t)op;
	memcpy(f + 22, smac, 6);
	memcpy(f + 28, sip, 4);
	memcpy(f + 32, tmac, 6);
	memcpy(f + 38, tip, 4);
	return 42;
}

/* An ICMPv6 NS (135) or NA (136) from src about target, with a link-layer option for mac. */
static size_t nd(uint8_t *f, uint8_t type, const uint8_t src[16], const uint8_t target[16],
		 const uint8_t *mac)
{
	size_t plen = 24 + (mac ? 8 : 0);

	memset(f, 0, 128);
	memcpy(f + 6, vm_mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	f[14] = 0x60;
	f[18] = 0, f[19] = (uint8_t)plen;
	f[20] = 58, f[21] = 255;
	memcpy(f + 22, src, 16);
	f[38] = 0xff, f[39] = 0x02, f[53] = 1; /* ff02::1 */
	f[54] = type;
	memcpy(f + 54 + 8, target, 16);
	if (mac) {
		f[54 + 24] = type == 135 ? 1 : 2;
		f[54 + 25] = 1;
		memcpy(f + 54 + 26, mac, 6);
	}
	return 54 + plen;
}

static void expect_v4(const uint8_t *f, size_t len, const char *addr, enum fhr_frame_kind kind)
{
	struct fhr_frame fr;
	struct lisp_addr want;

	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_int_equal(fr.kind, kind);
	assert_true(fr.has_addr);
	assert_int_equal(lisp_addr_parse(addr, &want), 0);
	assert_true(lisp_addr_equal(&fr.addr, &want));
	assert_memory_equal(fr.mac, vm_mac, 6);
}

static void truncations_refused(const uint8_t *f, size_t len)
{
	struct fhr_frame fr;

	for (size_t l = 0; l < len; l++) {
		uint8_t *t = malloc(l ? l : 1);

		memcpy(t, f, l);
		assert_true(fhr_parse_frame(t, l, &fr) < 0);
		free(t);
	}
}

static void test_arp(void **state)
{
	static const uint8_t zero[6], vm[4] = { 198, 51, 100, 10 }, gw[4] = { 198, 51, 100, 1 },
				      none[4] = { 0 };
	uint8_t f[64];
	size_t len;

	(void)state;
	len = arp(f, 0x0806, 1, vm_mac, vm, zero, vm); /* gratuitous */
	expect_v4(f, len, "198.51.100.10", FHR_FRAME_ARP);
	truncations_refused(f, len);
	len = arp(f, 0x0806, 1, vm_mac, vm, zero, gw); /* the VM asks for its gateway */
	expect_v4(f, len, "198.51.100.10", FHR_FRAME_ARP);
	{
		struct fhr_frame fr;
		struct lisp_addr g;

		assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
		assert_true(fr.solicit); /* a question another may answer (proxy-ARP) */
		lisp_addr_parse("198.51.100.1", &g);
		assert_true(lisp_addr_equal(&fr.target, &g));
		len = arp(f, 0x0806, 1, vm_mac, vm, zero, vm); /* gratuitous: no question */
		assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
		assert_false(fr.solicit);
		len = arp(f, 0x0806, 1, vm_mac, none, zero, vm); /* a probe: none either */
		assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
		assert_false(fr.solicit);
	}
	len = arp(f, 0x0806, 2, vm_mac, vm, zero, gw); /* a reply */
	expect_v4(f, len, "198.51.100.10", FHR_FRAME_ARP);
	len = arp(f, 0x0806, 1, vm_mac, none, zero, vm); /* a probe claims the target */
	expect_v4(f, len, "198.51.100.10", FHR_FRAME_ARP);
	{
		struct fhr_frame fr;

		len = arp(f, 0x8035, 3, vm_mac, none, vm_mac, none); /* QEMU's RARP */
		assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
		assert_int_equal(fr.kind, FHR_FRAME_RARP);
		assert_false(fr.has_addr);
		assert_memory_equal(fr.mac, vm_mac, 6);
		len = arp(f, 0x0806, 9, vm_mac, vm, zero, gw); /* no such operation */
		assert_int_equal(fhr_parse_frame(f, len, &fr), -ENOENT);
		len = arp(f, 0x0806, 1, vm_mac, none, zero, none); /* nobody */
		assert_int_equal(fhr_parse_frame(f, len, &fr), -ENOENT);
		f[12] = 0x08, f[13] = 0x00; /* IPv4: not ours */
		assert_int_equal(fhr_parse_frame(f, len, &fr), -ENOENT);
	}
}

static void test_nd(void **state)
{
	uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0d, [15] = 0x10 }, any[16] = { 0 };
	uint8_t other[6] = { 2, 0, 0, 0, 0, 9 };
	struct fhr_frame fr;
	struct lisp_addr want;
	uint8_t f[128];
	size_t len;

	(void)state;
	lisp_addr_parse("2001:db8:d::10", &want);
	len = nd(f, 135, any, src, NULL); /* DAD: the target is claimed */
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_int_equal(fr.kind, FHR_FRAME_ND);
	assert_true(lisp_addr_equal(&fr.addr, &want));
	assert_memory_equal(fr.mac, vm_mac, 6);
	truncations_refused(f, len);
	len = nd(f, 136, src, src, other); /* unsolicited NA with a target link-layer option */
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_true(lisp_addr_equal(&fr.addr, &want));
	assert_memory_equal(fr.mac, other, 6);
	truncations_refused(f, len);
	len = nd(f, 135, src, any, NULL); /* an NS from the host speaks for its source */
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_true(lisp_addr_equal(&fr.addr, &want));
	assert_true(fr.solicit); /* and asks for its target (here ::, for the test) */
	assert_true(lisp_addr_equal(&fr.sender, &want));
	len = nd(f, 135, any, src, NULL); /* DAD asks nobody */
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_false(fr.solicit);
	f[54 + 24 + 1] = 0; /* an option of length 0: malformed */
	len = nd(f, 136, src, src, other);
	f[54 + 25] = 0;
	assert_int_equal(fhr_parse_frame(f, len, &fr), -EBADMSG);
	len = nd(f, 128, src, src, NULL); /* an echo request: not ours */
	assert_int_equal(fhr_parse_frame(f, len, &fr), -ENOENT);
}

/* What the agent sends on a VM's behalf reads back as that VM's announcement. */
static void test_build(void **state)
{
	static const uint8_t gw[6] = { 0x02, 0, 0x5e, 0, 1, 1 }, zero6[6] = { 0 };
	uint8_t f[128], src[16], target[16];
	struct lisp_addr a;
	struct fhr_frame fr;
	size_t len;

	(void)state;
	/* a gratuitous ARP: the host 198.51.100.20 is at our MAC, told to the VM only */
	assert_int_equal(lisp_addr_parse("198.51.100.20", &a), 0);
	len = fhr_build_arp(f, 1, vm_mac, gw, gw, a.u.v4, zero6, a.u.v4);
	assert_int_equal(len, FHR_ARP_LEN);
	assert_memory_equal(f, vm_mac, 6);
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_int_equal(fr.kind, FHR_FRAME_ARP);
	assert_true(lisp_addr_equal(&fr.addr, &a));
	assert_memory_equal(fr.mac, gw, 6);
	assert_false(fr.solicit); /* sender = target: nobody asked */
	assert_false(fr.tentative);

	/* an unsolicited advertisement with override: target at vm_mac, from src */
	assert_int_equal(lisp_addr_parse("2001:db8:d1::1", &a), 0);
	memcpy(src, a.u.v6, 16);
	assert_int_equal(lisp_addr_parse("2001:db8:d1::10", &a), 0);
	memcpy(target, a.u.v6, 16);
	len = fhr_build_nd(f, 136, 0x20, gw, gw, src, target, target, vm_mac);
	assert_int_equal(len, FHR_ND_LEN);
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_int_equal(fr.kind, FHR_FRAME_ND);
	assert_true(lisp_addr_equal(&fr.addr, &a));
	assert_memory_equal(fr.mac, vm_mac, 6);
	assert_int_equal(f[54 + 4], 0x20); /* override, not solicited, not a router */
	assert_int_equal(f[21], 255);	   /* hop limit: receivers drop any other */
	/* the checksum verifies: the sum over pseudo-header and message folds to 0 */
	assert_int_equal(
		ippkt_csum_fold(ippkt_csum_add(ippkt_csum_add(32 + 58, f + 22, 32), f + 54, 32)),
		0);
	/* an NS carries the source link-layer option (type 1) */
	len = fhr_build_nd(f, 135, 0, vm_mac, gw, src, target, target, gw);
	assert_int_equal(f[54 + 24], 1);
	assert_int_equal(fhr_parse_frame(f, len, &fr), 0);
	assert_true(fr.solicit);
}

/* IPv4 and IPv6 packets in frames (one padded to Ethernet's minimum), and broken ones. */
static void test_ip(void **state)
{
	uint8_t f[128] = { 0 };
	struct fhr_ip ip;
	struct lisp_addr want;

	(void)state;
	f[12] = 0x08, f[13] = 0x00;
	f[14] = 0x45, f[16] = 0, f[17] = 28, f[22] = 64, f[23] = 1;
	f[26] = 198, f[27] = 51, f[28] = 100, f[29] = 10;
	f[30] = 198, f[31] = 51, f[32] = 100, f[33] = 20;
	assert_int_equal(fhr_parse_ip(f, 60, &ip), 0); /* (Ethernet's minimum: padded) */
	assert_int_equal(ip.off, 14);
	assert_int_equal(ip.len, 28);
	assert_int_equal(ip.ttl, 64);
	assert_int_equal(lisp_addr_parse("198.51.100.20", &want), 0);
	assert_true(lisp_addr_equal(&ip.dst, &want));
	assert_int_equal(fhr_parse_ip(f, 14 + 27, &ip), -EBADMSG); /* shorter than its length */
	f[14] = 0x44;
	assert_int_equal(fhr_parse_ip(f, 60, &ip), -EBADMSG); /* header under 20 bytes */
	f[14] = 0x45, f[16] = 0, f[17] = 19;
	assert_int_equal(fhr_parse_ip(f, 60, &ip), -EBADMSG); /* length under its header */
	f[14] = 0x65, f[17] = 28;
	assert_int_equal(fhr_parse_ip(f, 60, &ip), -EBADMSG); /* IPv6 in an IPv4 frame */

	memset(f, 0, sizeof(f));
	f[12] = 0x86, f[13] = 0xdd;
	f[14] = 0x60, f[19] = 8, f[21] = 64;
	f[22] = 0x20, f[23] = 0x01, f[24] = 0x0d, f[25] = 0xb8, f[37] = 0x10;
	f[38] = 0x20, f[39] = 0x01, f[40] = 0x0d, f[41] = 0xb8, f[53] = 0x20;
	assert_int_equal(fhr_parse_ip(f, 14 + 48, &ip), 0);
	assert_int_equal(ip.len, 48);
	assert_int_equal(lisp_addr_parse("2001:db8::20", &want), 0);
	assert_true(lisp_addr_equal(&ip.dst, &want));
	assert_int_equal(fhr_parse_ip(f, 14 + 47, &ip), -EBADMSG);
	assert_int_equal(fhr_parse_ip(f, 13, &ip), -EBADMSG);
	f[12] = 0x08, f[13] = 0x06;
	assert_int_equal(fhr_parse_ip(f, 60, &ip), -ENOENT); /* ARP */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_nd),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
