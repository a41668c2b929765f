/*
 * Fuzz target: the eid-notify channel's receive side. The input is tried
 * as a datagram (framing and MAC checks must refuse it safely), then
 * wrapped as the Envelope of a correctly signed datagram so that the
 * protobuf decoding behind the MAC is exercised too, and that signed
 * datagram goes through the gateway's handler (xtr_notify with an ETR
 * behind it, every answer decodable); then the input is used as
 * (session, seq) pairs for the replay window, whose invariants are
 * checked.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/notify.h"
#include "tests/fakes.h"
#include "xtr-gateway/xtr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lisp_auth_key *k;

/* Whatever the gateway answers is a correctly signed datagram. */
static int check_answer(void *arg, const struct lisp_addr *from, const struct lisp_addr *dst,
			uint16_t dport, const uint8_t *buf, size_t len)
{
	Vmroam__Notify__Envelope *env;
	int err;

	(void)arg;
	(void)from;
	(void)dst;
	(void)dport;
	env = notify_unpack(k, buf, len, &err);
	assert(env);
	vmroam__notify__envelope__free_unpacked(env, NULL);
	return 0;
}

static int ignore(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		  size_t len)
{
	(void)arg;
	(void)dst;
	(void)dport;
	(void)buf;
	(void)len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xtr_conf *conf;
	static struct etr *etr;
	static struct xtr_notify *gw;
	static double now;
	struct lisp_addr fhr, me;
	Vmroam__Notify__Envelope *env;
	struct notify_rx r = { 0 };
	uint8_t *buf;
	size_t len;
	int err;

	if (!k) {
		struct etr_io eio = { .send = ignore, .if_addr = fake_no_if_addr };
		struct xtr_notify_io nio = { .send = check_answer };
		char msg[256];

		k = lisp_auth_key_new("fuzz-key", 8);
		conf = xtr_conf_parse_string(
			"fuzz",
			"router lisp\n locator-set L\n  192.0.2.10 priority 1 weight 1\n"
			" eid-table vrf A instance-id 4100\n  dynamic-eid VMS\n"
			"   database-mapping 198.51.100.0/24 locator-set L\n"
			"   eid-notify authentication-key fuzz-key\n"
			" ipv4 etr\n ipv4 etr map-server 192.0.2.1 key k\n",
			msg, sizeof(msg));
		assert(conf);
		etr = etr_new(&eio);
		etr_configure(etr, conf, 0);
		gw = xtr_notify_new(&nio, etr, "gw");
		xtr_notify_configure(gw, conf);
	}
	lisp_addr_parse("192.0.2.50", &fhr);
	lisp_addr_parse("192.0.2.10", &me);
	now += 0.5;
	env = notify_unpack(k, data, size, &err);
	if (env)
		vmroam__notify__envelope__free_unpacked(env, NULL);
	else
		assert(err < 0);

	/* signed: header (instance-id 4100) | the input | MAC */
	len = NOTIFY_HDR_LEN + size;
	buf = malloc(len + LISP_AUTH_SHA256_LEN);
	memcpy(buf, "VMRN\x02\x00\x00\x10\x04", NOTIFY_HDR_LEN);
	memcpy(buf + NOTIFY_HDR_LEN, data, size);
	assert(lisp_auth_hmac_sha256(k, buf, len, buf + len) == 0);
	xtr_notify_input(gw, &fhr, 40000, &me, buf, len + LISP_AUTH_SHA256_LEN, now);
	xtr_notify_tick(gw, now);
	env = notify_unpack(k, buf, len + LISP_AUTH_SHA256_LEN, &err);
	if (env) {
		char *keep[3] = { env->receiver, env->dynamic_eid, env->sender };
		uint8_t out[NOTIFY_MAX];
		size_t olen;

		assert(env->instance_id == 4100);
		if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT)
			assert(env->eid_event != NULL);
		/* the same, bound to this gateway now: the handlers behind the checks */
		env->direction = VMROAM__NOTIFY__DIRECTION__FHR_TO_GATEWAY;
		env->receiver = (char *)(uintptr_t) "192.0.2.10";
		env->receiver_session = xtr_notify_session(gw);
		env->dynamic_eid = (char *)(uintptr_t) "VMS";
		if (!env->sender[0])
			env->sender = (char *)(uintptr_t) "fhr";
		olen = notify_pack(k, 4100, env, out, sizeof(out));
		if (olen)
			xtr_notify_input(gw, &fhr, 40000, &me, out, olen, now);
		env->receiver = keep[0]; /* (the decoder's to free) */
		env->dynamic_eid = keep[1];
		env->sender = keep[2];
		vmroam__notify__envelope__free_unpacked(env, NULL);
	} else {
		assert(err == -EBADMSG || err == -EPROTO);
	}
	free(buf);

	/* the replay window: a pair accepted once is never accepted again */
	for (size_t off = 0; off + 4 <= size; off += 4) {
		uint64_t session = data[off] & 3,
			 seq = (uint64_t)data[off + 1] << 8 | data[off + 2];
		uint64_t before = r.session;
		bool reliable = data[off + 3] & 1;
		int rc = notify_rx_accept(&r, session, seq, reliable);

		assert(r.session >= before);
		if (rc >= 0)
			assert(notify_rx_accept(&r, session, seq, reliable) == -EALREADY);
		else
			assert(rc == -EALREADY || rc == -ESTALE);
	}
	return 0;
}
