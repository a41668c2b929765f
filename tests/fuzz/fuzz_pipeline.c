/*
 * Fuzz target: the data-plane pipeline on arbitrary bytes, as an inner
 * packet (encap), as an outer one (decap) and as a UDP payload (the
 * daemon's decap), without and with an ETR local table (dynamic-eid
 * prefix and host, away EID). Properties: whatever is encapsulated
 * decapsulates back to the same bytes and instance-id; a packet never
 * leaves its buffer.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lpmh.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One map-cache entry: prefix -> locator (a Map-Request, then its Map-Reply). */
static void learn(struct mapcache *mc, const char *host, const char *prefix, const char *loc)
{
	struct lisp_locator l = { .priority = 1, .weight = 1, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 60, .loc_count = 1, .locs = &l };
	struct lisp_map_reply m;
	struct lisp_addr h;
	uint8_t buf[256];
	struct buf_writer w;

	lisp_addr_parse(host, &h);
	lisp_addr_parse(loc, &l.addr[0]);
	lisp_prefix_parse(prefix, 0, &r.eid);
	mc_resolve(mc, 0, &h, 0);
	m = (struct lisp_map_reply){ .nonce = fake_mr_nonce };
	buf_writer_init(&w, buf, sizeof(buf));
	lisp_msg_encode_map_reply(&w, &m, &r, 1);
	mc_input(mc, &h, 4342, buf, w.off, 0);
}

static struct mc_locator away_loc[2];

static void local_add(struct lpmh *t, const char *prefix, uint8_t kind)
{
	static struct etr_local pool[8];
	static int used;
	struct etr_local *l = &pool[used++ % 8];
	struct lisp_prefix p;

	lisp_prefix_parse(prefix, 0, &p);
	l->kind = kind;
	if (kind == LOCAL_AWAY) {
		l->nloc = 2;
		l->locs = away_loc;
	}
	lpmh_set(t, &p, l);
}

/* The packet stays inside buf (size bytes after the headroom). */
static void inside(const struct dp_pkt *p, size_t size)
{
	assert(p->off <= DP_HEADROOM + size && p->off + p->len <= DP_HEADROOM + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lpmh *local;
	static struct mapcache *mc;
	static struct xtr_conf *conf;
	static struct dp dp;
	struct dp_pkt p;
	uint8_t *buf, *copy;
	char err[128];

	if (!mc) {
		struct mc_io io = { .send = fake_mr_send, .if_addr = fake_no_if_addr };
		struct lisp_addr r4, r6;

		conf = xtr_conf_parse_string(
			"fuzz",
			"router lisp\n database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight "
			"1\n"
			" database-mapping 2001:db8:2::/48 2001:db8::20 priority 1 weight 1\n"
			" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n"
			" ipv6 itr\n ipv6 itr map-resolver 2001:db8::1\n",
			err, sizeof(err));
		mc = mc_new(&io);
		mc_configure(mc, &conf->itr, conf, 0);
		learn(mc, "10.1.1.1", "0.0.0.0/1", "192.0.2.30");
		learn(mc, "2001:db8:1::1", "2001:db8::/32", "2001:db8::30");
		lisp_addr_parse("192.0.2.20", &r4);
		lisp_addr_parse("2001:db8::20", &r6);
		dp_init(&dp, mc, &r4, &r6, 9000);
		local = lpmh_new(16);
		lisp_addr_parse("192.0.2.50", &away_loc[0].addr);
		lisp_addr_parse("2001:db8::50", &away_loc[1].addr);
		away_loc[0].up = away_loc[1].up = true;
		away_loc[0].weight = away_loc[1].weight = 1;
		local_add(local, "10.2.2.0/24", LOCAL_DYN_POLICY);
		local_add(local, "10.2.2.5/32", LOCAL_DYN_HOST);
		local_add(local, "10.1.1.77/32", LOCAL_AWAY);
		local_add(local, "2001:db8:2::/48", LOCAL_DB);
		local_add(local, "2001:db8:1::77/128", LOCAL_AWAY);
	}
	dp.local = NULL;
	buf = malloc(DP_HEADROOM + size + 1);
	copy = malloc(size + 1);
	memcpy(buf + DP_HEADROOM, data, size);
	memcpy(copy, data, size);
	/* as an inner packet */
	p = (struct dp_pkt){ .buf = buf, .off = DP_HEADROOM, .len = size, .iid = 0 };
	dp_encap_batch(&dp, &p, 1);
	if (p.verdict == DP_FORWARD) {
		dp_decap_batch(&dp, &p, 1);
		assert(p.verdict == DP_FORWARD && p.iid == 0 && p.len == size);
		assert(memcmp(p.buf + p.off, copy, size) == 0);
	}
	/* as an outer packet */
	memcpy(buf + DP_HEADROOM, data, size);
	p = (struct dp_pkt){ .buf = buf, .off = DP_HEADROOM, .len = size };
	dp_decap_batch(&dp, &p, 1);
	assert(p.off >= DP_HEADROOM && p.off + p.len == DP_HEADROOM + size);
	/* the same three with the ETR's local table */
	dp.local = local;
	dp.now = 1;
	memcpy(buf + DP_HEADROOM, data, size);
	p = (struct dp_pkt){ .buf = buf, .off = DP_HEADROOM, .len = size, .iid = 0 };
	dp_encap_batch(&dp, &p, 1);
	inside(&p, size);
	assert(p.verdict == DP_FORWARD || !(p.flags & ~DP_F_LEARN));
	memcpy(buf + DP_HEADROOM, data, size);
	p = (struct dp_pkt){ .buf = buf, .off = DP_HEADROOM, .len = size };
	dp_decap_batch(&dp, &p, 1);
	inside(&p, size);
	memcpy(buf + DP_HEADROOM, data, size);
	p = (struct dp_pkt){ .buf = buf, .off = DP_HEADROOM, .len = size, .ttl = 64 };
	lisp_addr_parse("192.0.2.99", &p.aux);
	dp_decap_payload_batch(&dp, &p, 1);
	inside(&p, size);
	/* an SMR: toward an away EID, or for a host of a dynamic-eid prefix that is not here */
	if ((p.flags & DP_F_SMR) && p.verdict != DP_DROP && p.reason != DP_R_AWAY) {
		const uint8_t *ip = p.buf + p.inner;
		struct lisp_addr dst = { .afi = LISP_AFI_IPV4 };
		const struct etr_local *l;

		assert(p.reason == DP_R_DECAP);
		if (ip[0] >> 4 == 4)
			memcpy(dst.u.v4, ip + 16, 4);
		else
			lisp_addr_set_v6(&dst, ip + 24);
		l = lpmh_lookup(local, p.iid, &dst);
		assert(l && l->kind == LOCAL_DYN_POLICY);
	}
	free(buf);
	free(copy);
	return 0;
}
