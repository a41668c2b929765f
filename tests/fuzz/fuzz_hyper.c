/*
 * Fuzz target: fhr-agent's HypervisorEvent listener (fhr-agent/hyper.c).
 * The input is tried as a raw datagram (framing and MAC checks refuse it
 * safely), then, when it decodes as a HypervisorEvent, sent correctly
 * signed and stamped so that what lies behind the MAC is exercised: the
 * bindings, detections through the EID table, departures. Every Ack the
 * FHR sends back verifies with the key, and what it sends its gateway too.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhr-agent/fhr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lisp_auth_key *hvk, *gwk;

static int check(struct lisp_auth_key *k, const uint8_t *buf, size_t len)
{
	Vmroam__Notify__Envelope *env;
	int err;

	env = notify_unpack(k, buf, len, &err);
	assert(env);
	vmroam__notify__envelope__free_unpacked(env, NULL);
	return 0;
}

static int to_gw(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		 size_t len)
{
	(void)arg;
	(void)dst;
	(void)dport;
	return check(gwk, buf, len);
}

static int to_hv(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		 size_t len)
{
	(void)arg;
	(void)dst;
	(void)dport;
	return check(hvk, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fhr_conf *conf;
	static struct fhr *f;
	static struct fhr_hv *h;
	static double now = 1.7e9;
	static uint64_t seq;
	struct lisp_addr src, none;
	Vmroam__Notify__HypervisorEvent *ev;
	Vmroam__Notify__Envelope env;
	uint8_t out[NOTIFY_MAX];
	size_t len;

	if (!conf) {
		char err[256];
		struct fhr_io io = { .send = to_gw };
		struct fhr_hv_io hio = { .send = to_hv };

		conf = fhr_conf_parse_string(
			"fuzz",
			"router lisp\n eid-table vrf A instance-id 7\n  dynamic-eid V\n"
			"   database-mapping 198.51.100.0/24\n   database-mapping 2001:db8::/32\n"
			"   eid-notify 192.0.2.10 key gw\n   hypervisor-events key hv\n"
			"interface br0\n lisp mobility V\n",
			err, sizeof(err));
		assert(conf);
		hvk = lisp_auth_key_new("hv", 2);
		gwk = lisp_auth_key_new("gw", 2);
		f = fhr_new(&io, 1);
		fhr_configure(f, conf, now);
		fhr_tick(f, now);
		h = fhr_hv_new(f, &hio, 1);
		assert(fhr_hv_configure(h, conf) == 1);
	}
	now += 1;
	lisp_addr_parse("192.0.2.99", &src);
	memset(&none, 0, sizeof(none));
	/* as it came */
	fhr_hv_input(h, &src, 40000, &none, data, size, now);
	/* behind a valid MAC */
	ev = vmroam__notify__hypervisor_event__unpack(NULL, size, data);
	if (ev) {
		vmroam__notify__envelope__init(&env);
		ev->timestamp = now - 0.5;
		env.instance_id = 7;
		env.direction = VMROAM__NOTIFY__DIRECTION__HYPERVISOR_TO_FHR;
		env.sender = (char *)(uintptr_t) "fuzz/host";
		env.session = 1;
		env.seq = ++seq;
		env.body_case = VMROAM__NOTIFY__ENVELOPE__BODY_HYPERVISOR_EVENT;
		env.hypervisor_event = ev;
		len = notify_pack(hvk, 7, &env, out, sizeof(out));
		/* (protobuf-c packs unknown fields again as they came, field number 0 too: what
		 * does not decode as a whole is refused as malformed, not accepted) */
		Vmroam__Notify__Envelope *chk =
			len ? vmroam__notify__envelope__unpack(NULL, len - NOTIFY_HDR_LEN - 32,
							       out + NOTIFY_HDR_LEN)
			    : NULL;

		if (chk) {
			uint64_t acc = fhr_hv_counters(h)->accepted;

			vmroam__notify__envelope__free_unpacked(chk, NULL);
			fhr_hv_input(h, &src, 40000, &none, out, len, now);
			assert(fhr_hv_counters(h)->accepted == acc + 1);
			/* the same again: a replay, not applied */
			fhr_hv_input(h, &src, 40000, &none, out, len, now);
			assert(fhr_hv_counters(h)->accepted == acc + 1);
		}
		vmroam__notify__hypervisor_event__free_unpacked(ev, NULL);
	}
	fhr_tick(f, now);
	fhr_hv_tick(h, now);
	return 0;
}
