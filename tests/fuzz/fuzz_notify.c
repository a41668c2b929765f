/*
 * Fuzz target: the eid-notify channel's receive side. The input is tried
 * as a datagram (framing and MAC checks must refuse it safely), then
 * wrapped as the Envelope of a correctly signed datagram so that the
 * protobuf decoding behind the MAC is exercised too, then used as
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lisp_auth_key *k;
	Vmroam__Notify__Envelope *env;
	struct notify_rx r = { 0 };
	uint8_t *buf;
	size_t len;
	int err;

	if (!k)
		k = lisp_auth_key_new("fuzz-key", 8);
	env = notify_unpack(k, data, size, &err);
	if (env)
		vmroam__notify__envelope__free_unpacked(env, NULL);
	else
		assert(err < 0);

	/* signed: header (instance-id 4100) | the input | MAC */
	len = NOTIFY_HDR_LEN + size;
	buf = malloc(len + LISP_AUTH_SHA256_LEN);
	memcpy(buf, "VMRN\x01\x00\x00\x10\x04", NOTIFY_HDR_LEN);
	memcpy(buf + NOTIFY_HDR_LEN, data, size);
	assert(lisp_auth_hmac_sha256(k, buf, len, buf + len) == 0);
	env = notify_unpack(k, buf, len + LISP_AUTH_SHA256_LEN, &err);
	if (env) {
		assert(env->instance_id == 4100);
		if (env->body_case == VMROAM__NOTIFY__ENVELOPE__BODY_EID_EVENT)
			assert(env->eid_event != NULL);
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
		int rc = notify_rx_accept(&r, session, seq);

		assert(r.session >= before);
		if (rc >= 0)
			assert(notify_rx_accept(&r, session, seq) == -EALREADY);
		else
			assert(rc == -EALREADY || rc == -ESTALE);
	}
	return 0;
}
