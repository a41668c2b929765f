/*
 * Fuzz target: the whole Map-Server / Map-Resolver (and ETR) receive path, bytes in
 * -> state and answers. Input: byte 0 picks the source address and the
 * mode; the rest is one UDP payload, or (mode bit 0x80) a receive batch
 * of length-prefixed payloads. The clock advances so expiry and
 * retransmission run. Every packet the engine sends must decode, and one
 * Encapsulated Map-Request gets one answer at most.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *conf_text =
	"router lisp\n"
	" site DC\n"
	"  authentication-key lisp-test-key\n"
	"  eid-prefix 10.1.1.0/24 accept-more-specifics\n"
	"  eid-prefix instance-id 4100 2001:db8:a::/48 accept-more-specifics\n"
	" site B\n"
	"  authentication-key other\n"
	"  eid-prefix 10.2.2.0/24\n"
	"  strict-nonce\n"
	" subscriber BR\n"
	"  authentication-key lisp-test-key\n"
	"  xtr-id 000000000000000000000000000000b1 site-id 20\n"
	"  itr-rloc 192.0.2.20\n"
	"  subscription-limit 8\n"
	" ipv4 map-server\n ipv4 map-resolver\n ipv6 map-server\n"
	" ipv6 map-resolver\n"
	" rloc-probing interval 1000 misses 2\n"
	" itr subscribe xtr-id 000000000000000000000000000000b1 site-id 20"
	" authentication-key lisp-test-key\n"
	" locator-set L\n  192.0.2.10 priority 1 weight 1\n"
	" eid-table vrf T instance-id 4100\n"
	"  database-mapping 10.1.1.0/24 locator-set L\n"
	"  dynamic-eid VMS\n   database-mapping 10.5.0.0/16 locator-set L\n"
	" ipv4 etr\n ipv4 etr map-server 192.0.2.1 key lisp-test-key\n"
	" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
	" map-cache 10.4.0.0/16 map-request\n dataplane map-cache-limit 16\n"
	"interface vmbr\n lisp mobility VMS\n";

static unsigned long sent;

static int check_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		      size_t len)
{
	struct lisp_map_notify n;
	struct lisp_map_reply r;
	struct lisp_map_register g;
	struct lisp_map_request q;
	struct lisp_ecm e;

	(void)arg;
	(void)dst;
	(void)dport;
	switch (lisp_msg_type(buf, len)) {
	case LISP_TYPE_MAP_NOTIFY:
	case LISP_TYPE_MAP_NOTIFY_ACK: /* the ITR's, for a publication it took */
		assert(lisp_msg_decode_map_notify(buf, len, &n) == 0);
		break;
	case LISP_TYPE_MAP_REQUEST: /* the ITR's RLOC-probes */
		assert(lisp_msg_decode_map_request(buf, len, &q) == 0 && q.probe);
		break;
	case LISP_TYPE_MAP_REPLY:
		assert(lisp_msg_decode_map_reply(buf, len, &r) == 0);
		break;
	case LISP_TYPE_MAP_REGISTER: /* the ETR's */
		assert(lisp_msg_decode_map_register(buf, len, &g) == 0);
		break;
	case LISP_TYPE_ECM: /* forwarded unchanged: it decoded on the way in */
		assert(lisp_msg_decode_ecm(buf, len, &e) == 0);
		break;
	default:
		assert(!"the engine sent something it should not");
	}
	sent++;
	return 0;
}

/* Splits data into payloads of 2-byte big-endian length each and feeds them as one batch. */
static void batch(struct ms *ms, const struct lisp_addr *src, const uint8_t *data, size_t size,
		  double now)
{
	struct ms_pkt pk[MS_BATCH];
	size_t n = 0;

	while (n < MS_BATCH && size >= 2) {
		size_t len = (size_t)(data[0] << 8 | data[1]);

		if (len > size - 2)
			len = size - 2;
		pk[n].src = *src;
		pk[n].sport = 4342;
		pk[n].buf = data + 2;
		pk[n].len = len;
		n++;
		data += 2 + len;
		size -= 2 + len;
	}
	ms_input_batch(ms, pk, n, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xtr_conf *conf;
	static struct ms *ms;
	static struct etr *etr;
	static struct mapcache *mc;
	static struct xtr_counters gc;
	static double now;
	static const char *srcs[] = { "192.0.2.10", "192.0.2.30", "2001:db8::10", "192.0.2.20" };
	struct lisp_addr src;
	char err[256];

	if (!ms) {
		struct ms_io io = { .send = check_send };
		struct etr_io eio = { .send = check_send, .if_addr = fake_no_if_addr };
		struct mc_io mio = { .send = check_send, .if_addr = fake_no_if_addr };

		conf = xtr_conf_parse_string("fuzz", conf_text, err, sizeof(err));
		assert(conf);
		ms = ms_new(&io, &gc);
		ms_configure(ms, &conf->msmr, &conf->reply, 0);
		etr = etr_new(&eio);
		etr_configure(etr, conf, 0);
		mc = mc_new(&mio);
		mc_configure(mc, &conf->itr, conf, 0);
	}
	if (size < 1)
		return 0;
	lisp_addr_parse(srcs[data[0] % 4], &src);
	now += 1 + (data[0] & 0x7f) / 4;
	if (data[0] & 0x80) {
		batch(ms, &src, data + 1, size - 1, now);
	} else {
		unsigned long before = sent;

		ms_input(ms, &src, 4342, data + 1, size - 1, now);
		assert(lisp_msg_type(data + 1, size - 1) != LISP_TYPE_ECM || sent - before <= 1);
	}
	etr_input(etr, &src, 4342, data + 1, size - 1, now);
	mc_input(mc, &src, 4342, data + 1, size - 1, now);
	if (size > 5 && data[1] == 0xff) { /* a miss for the address in bytes 2..5 */
		struct lisp_addr a;

		lisp_addr_set_v4(&a, data + 2);
		mc_resolve(mc, 0, &a, now);
	}
	if (size > 5 && data[1] == 0xfe) { /* a dynamic EID seen (instance-id 4100) */
		struct lisp_addr a;

		lisp_addr_set_v4(&a, data + 2);
		etr_dyn_learn(etr, 4100, &a, ETR_SRC_DATA, NULL, now);
	}
	if (size > 5 && data[1] == 0xfd) /* an operator clears them */
		etr_dyn_clear(etr, NULL, now);
	ms_tick(ms, now);
	etr_tick(etr, now);
	mc_tick(mc, now);
	return 0;
}
