/*
 * Data-plane pipeline, in memory, one core: encapsulation and
 * decapsulation of 64- and 1400-byte IPv4 packets in batches of 256 with
 * a 100k-entry map-cache (random /24s, one locator each, destinations
 * spread over all of them). As in the daemon, a batch is read into a
 * ring of packet buffers (the untimed copy from a large pool stands in
 * for read()), so packet bytes are as warm as after the read and the
 * map-cache lookups are what misses the caches. Baseline in the same run:
 * copying the same packets (memcpy), the least any forwarding path does. Run twice: as a
 * plain ITR/ETR, and as a data-center gateway whose ETR local table (a
 * dynamic-eid prefix, its 254 learned hosts as the packets' sources, 1000
 * away EIDs) is looked up for every packet in both directions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"
#include "lib/ippkt.h"
#include "lib/lpmh.h"
#include "xtr-gateway/xtr.h"
#include "tests/fakes.h"

#define ENTRIES 100000
#define BATCH	256
#define ROUNDS	20

/* Fills the map-cache the way the ITR does: a Map-Request, then its Map-Reply. */
static void fill(struct mapcache *mc, uint32_t *nets)
{
	struct lisp_locator l = { .priority = 1, .weight = 100, .reachable = true, .naddr = 1 };
	struct lisp_eid_record r = { .ttl = 1440, .loc_count = 1, .locs = &l };
	uint8_t rloc[4] = { 198, 51, 100, 1 }, buf[256];
	uint64_t seed = 7;
	struct buf_writer w;

	lisp_addr_set_v4(&l.addr[0], rloc);
	for (int i = 0; i < ENTRIES;) {
		uint32_t net = (uint32_t)bench_rand(&seed) & 0x0fffff00u; /* in 0.0.0.0/4 */
		uint8_t a[4] = { (uint8_t)(net >> 24 | 0x10), (uint8_t)(net >> 16),
				 (uint8_t)(net >> 8), 1 };
		struct lisp_map_reply m;
		struct lisp_addr host;

		lisp_addr_set_v4(&host, a);
		if (mc_resolve(mc, 0, &host, 0) != 0)
			continue; /* this /24 again */
		m = (struct lisp_map_reply){ .nonce = fake_mr_nonce };
		a[3] = 0;
		lisp_addr_set_v4(&r.eid.addr, a);
		r.eid.plen = 24;
		buf_writer_init(&w, buf, sizeof(buf));
		lisp_msg_encode_map_reply(&w, &m, &r, 1);
		mc_input(mc, &host, 4342, buf, w.off, 0);
		nets[i++] = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8;
	}
}

/* n IPv4/UDP packets of size bytes toward hosts of random cached /24s. */
static uint8_t *packets(const uint32_t *nets, size_t n, size_t size, size_t stride)
{
	uint8_t *mem = calloc(n, stride), payload[1500] = { 0 };
	uint64_t seed = 11;

	for (size_t i = 0; i < n; i++) {
		uint32_t d =
			nets[bench_rand(&seed) % ENTRIES] | (uint32_t)(bench_rand(&seed) % 254 + 1);
		uint8_t src[4] = { 10, 2, 2, (uint8_t)i },
			dst[4] = { (uint8_t)(d >> 24), (uint8_t)(d >> 16), (uint8_t)(d >> 8),
				   (uint8_t)d };
		struct ippkt_udp h = { .sport = 1000, .dport = 2000, .ttl = 64 };
		struct buf_writer w;

		lisp_addr_set_v4(&h.src, src);
		lisp_addr_set_v4(&h.dst, dst);
		buf_writer_init(&w, mem + i * stride + DP_HEADROOM, stride - DP_HEADROOM);
		ippkt_encode_udp(&w, &h, payload, size - 28);
	}
	return mem;
}

static void run(struct dp *dp, uint32_t *nets, size_t size, const char *what)
{
	size_t n = 65536, stride = DP_HEADROOM + size + 64;
	uint8_t *mem = packets(nets, n, size, stride), *scratch = malloc(stride);
	uint8_t *ring = malloc(BATCH * stride);
	struct dp_pkt pk[BATCH];
	double t0, t_enc = 0, t_dec = 0, t_cpy = 0;
	uint64_t sum = 0, fwd = 0;

	for (int r = 0; r < ROUNDS; r++) {
		for (size_t b = 0; b < n; b += BATCH) {
			memcpy(ring, mem + b * stride, BATCH * stride); /* the read */
			for (size_t i = 0; i < BATCH; i++)
				pk[i] = (struct dp_pkt){ .buf = ring + i * stride,
							 .off = DP_HEADROOM,
							 .len = size };
			t0 = bench_now();
			dp_encap_batch(dp, pk, BATCH);
			t_enc += bench_now() - t0;
			t0 = bench_now();
			dp_decap_batch(dp, pk, BATCH);
			t_dec += bench_now() - t0;
			for (size_t i = 0; i < BATCH; i++)
				fwd += pk[i].verdict == DP_FORWARD;
			t0 = bench_now();
			for (size_t i = 0; i < BATCH; i++) {
				memcpy(scratch, pk[i].buf + pk[i].off, pk[i].len);
				sum += scratch[size / 2];
			}
			t_cpy += bench_now() - t0;
		}
	}
	double pk_n = (double)n * ROUNDS;

	printf("%s, %4zu-byte packets: encap %6.2f Mpps, decap %6.2f Mpps (target >= 20 at 64 "
	       "bytes); memcpy baseline %6.2f Mpps -> encap/memcpy %.2f, decap/memcpy %.2f\n",
	       what, size, pk_n / t_enc / 1e6, pk_n / t_dec / 1e6, pk_n / t_cpy / 1e6,
	       t_cpy / t_enc, t_cpy / t_dec);
	if (fwd != (uint64_t)pk_n) /* every packet encapsulated, then decapsulated */
		printf("  only %llu of %.0f packets made it through!\n", (unsigned long long)fwd,
		       pk_n);
	free(mem);
	free(ring);
	free(scratch);
	(void)sum;
}

static struct etr_local *owned[2048];
static size_t nowned;

static void local_add(struct lpmh *t, const uint8_t *a, uint8_t plen, uint8_t kind)
{
	static struct mc_locator away = { .priority = 1, .weight = 1, .up = true };
	struct etr_local *l = calloc(1, sizeof(*l));
	struct lisp_prefix p = { .plen = plen };

	lisp_addr_set_v4(&p.addr, a);
	l->kind = kind;
	l->nloc = kind == LOCAL_AWAY;
	l->locs = &away;
	if (lpmh_set(t, &p, l) < 0)
		free(l);
	else
		owned[nowned++] = l;
}

/* A gateway's local table: 10.2.2.0/24 a dynamic-eid with all its hosts, 1000 away EIDs. */
static const struct lpmh *gateway_table(void)
{
	struct lpmh *t = lpmh_new(2048);
	uint8_t a[4] = { 10, 2, 2, 0 };
	uint64_t seed = 13;

	local_add(t, a, 24, LOCAL_DYN_POLICY);
	for (int i = 1; i < 255; i++) {
		a[3] = (uint8_t)i;
		local_add(t, a, 32, LOCAL_DYN_HOST);
	}
	for (int i = 0; i < 1000; i++) {
		uint32_t v = (uint32_t)bench_rand(&seed);
		uint8_t h[4] = { 172, (uint8_t)(16 + (v >> 16 & 15)), (uint8_t)(v >> 8),
				 (uint8_t)v };

		local_add(t, h, 32, LOCAL_AWAY);
	}
	return t;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : ""; /* itr or gateway: one of the two */

	struct mc_io io = { .send = fake_mr_send, .if_addr = fake_no_if_addr };
	char err[256];
	struct xtr_conf *c = xtr_conf_parse_string(
		"bench",
		"router lisp\n database-mapping 10.2.2.0/24 192.0.2.20 priority 1 weight 1\n"
		" ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n dataplane map-cache-limit 200000\n",
		err, sizeof(err));
	struct mapcache *mc = mc_new(&io);
	uint32_t *nets = malloc(ENTRIES * sizeof(*nets));
	uint8_t me[4] = { 192, 0, 2, 20 };
	struct lisp_addr r4;
	struct dp dp;

	mc_configure(mc, &c->itr, c, 0);
	fill(mc, nets);
	lisp_addr_set_v4(&r4, me);
	dp_init(&dp, mc, &r4, NULL, 9000);
	printf("bench_dp: %zu map-cache entries, batches of %d, one core\n", mc_count(mc), BATCH);
	if (strcmp(only, "gateway") != 0) {
		run(&dp, nets, 64, "ITR/ETR");
		run(&dp, nets, 1400, "ITR/ETR");
	}
	dp.local = gateway_table();
	dp.proxy_etr = true; /* deliver what is decapsulated after the lookup */
	if (strcmp(only, "itr") != 0) {
		run(&dp, nets, 64, "gateway");
		run(&dp, nets, 1400, "gateway");
	}
	lpmh_free((struct lpmh *)(uintptr_t)dp.local);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	mc_free(mc);
	xtr_conf_free(c);
	free(nets);
	return 0;
}
