/* The canonical form of an xtr-gateway configuration (xtr-gateway -nv). */
#include <stdio.h>
#include <string.h>

#include "lib/lisp_auth.h"
#include "xtr-gateway/xtr.h"

static void print_site(const struct xtr_conf_site *s, FILE *f)
{
	char buf[LISP_PREFIX_STRLEN];

	fprintf(f, " site %s\n", s->name);
	if (s->description)
		fprintf(f, "  description %s\n", s->description);
	/* the key is never shown in clear, but it is not encrypted either: its bytes in hex */
	fprintf(f, "  authentication-key hex ");
	for (size_t i = 0; i < s->keylen; i++)
		fprintf(f, "%02x", s->key[i]);
	fputc('\n', f);
	for (size_t i = 0; i < s->nprefixes; i++) {
		const struct xtr_conf_prefix *p = &s->prefixes[i];
		struct lisp_prefix bare = p->p;

		bare.iid = 0;
		fprintf(f, "  eid-prefix ");
		if (p->p.iid)
			fprintf(f, "instance-id %u ", p->p.iid);
		fprintf(f, "%s%s\n", lisp_prefix_format(&bare, buf, sizeof(buf)),
			p->accept_more_specifics ? " accept-more-specifics" : "");
	}
	for (size_t i = 0; i < s->nallowed; i++)
		fprintf(f, "  allowed-locator %s\n",
			lisp_addr_format(&s->allowed[i], buf, sizeof(buf)));
	if (!s->strict_nonce)
		fprintf(f, "  no strict-nonce\n");
	fprintf(f, "  exit\n");
}

static void print_hex(const uint8_t *b, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

static void print_subscriber(const struct xtr_conf_subscriber *s, FILE *f)
{
	char buf[LISP_ADDR_STRLEN];

	fprintf(f, " subscriber %s\n", s->name);
	if (s->description)
		fprintf(f, "  description %s\n", s->description);
	fprintf(f, "  authentication-key hex ");
	print_hex(s->key, s->keylen, f);
	fputc('\n', f);
	for (size_t i = 0; i < s->nids; i++) {
		fprintf(f, "  xtr-id ");
		print_hex(s->ids[i].id, 16, f);
		if (s->ids[i].has_site_id)
			fprintf(f, " site-id %llu", (unsigned long long)s->ids[i].site_id);
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->nrlocs; i++)
		fprintf(f, "  itr-rloc %s\n", lisp_addr_format(&s->rlocs[i], buf, sizeof(buf)));
	if (s->limit != XTR_SUB_LIMIT_DEFAULT)
		fprintf(f, "  subscription-limit %u\n", s->limit);
	fprintf(f, "  exit\n");
}

static void print_locator(const struct xtr_conf_locator *l, const char *indent, FILE *f)
{
	char buf[LISP_ADDR_STRLEN];

	if (l->addr.afi == LISP_AFI_NONE)
		fprintf(f, "%s%s %s", indent,
			l->if_afi == LISP_AFI_IPV4 ? "ipv4-interface" : "ipv6-interface",
			l->ifname);
	else
		fprintf(f, "%s%s", indent, lisp_addr_format(&l->addr, buf, sizeof(buf)));
	fprintf(f, " priority %u weight %u\n", l->priority, l->weight);
}

static const char *act_name(uint8_t act)
{
	return act == LISP_ACT_DROP		? "drop"
	       : act == LISP_ACT_NATIVE_FORWARD ? "native-forward"
						: "map-request";
}

/* The database-mappings of table iid that belong to dynamic-eid dyn (-1: the plain ones). */
static void print_dbmap_list(const struct xtr_conf *c, uint32_t iid, int dyn, const char *indent,
			     FILE *f)
{
	char buf[LISP_PREFIX_STRLEN], a[LISP_ADDR_STRLEN];

	for (size_t i = 0; i < c->ndbmaps; i++) {
		const struct xtr_conf_dbmap *m = &c->dbmaps[i];
		struct lisp_prefix bare = m->p;

		if (m->p.iid != iid || m->dyn != dyn)
			continue;
		bare.iid = 0;
		lisp_prefix_format(&bare, buf, sizeof(buf));
		if (m->locset[0])
			fprintf(f, "%sdatabase-mapping %s locator-set %s\n", indent, buf,
				m->locset);
		for (size_t j = 0; j < m->nlocs; j++)
			fprintf(f, "%sdatabase-mapping %s %s priority %u weight %u\n", indent, buf,
				lisp_addr_format(&m->locs[j].addr, a, sizeof(a)),
				m->locs[j].priority, m->locs[j].weight);
	}
}

/* A dynamic-eid's learning settings that are not the defaults. */
static void print_learning(const struct xtr_conf_dyneid *d, const char *indent, FILE *f)
{
	if (d->learn_data)
		fprintf(f, "%slearning data-plane\n", indent);
	if (d->learn_timeout != XTR_DYN_TIMEOUT_DEFAULT)
		fprintf(f, "%slearning timeout %u\n", indent, d->learn_timeout);
	if (d->host_limit != XTR_DYN_HOST_LIMIT_DEFAULT)
		fprintf(f, "%shost-limit %u\n", indent, d->host_limit);
	if (!d->hold_ms)
		fprintf(f, "%sno migration-hold\n", indent);
	else if (d->hold_ms != XTR_MHOLD_MS_DEFAULT ||
		 d->hold_packets != XTR_MHOLD_PACKETS_DEFAULT ||
		 d->hold_bytes != XTR_MHOLD_BYTES_DEFAULT)
		fprintf(f, "%smigration-hold %u packets %u bytes %u\n", indent, d->hold_ms,
			d->hold_packets, d->hold_bytes);
}

static void print_dbmaps(const struct xtr_conf *c, uint32_t iid, const char *indent, FILE *f)
{
	char buf[LISP_PREFIX_STRLEN], sub[16];

	print_dbmap_list(c, iid, -1, indent, f);
	snprintf(sub, sizeof(sub), "%s ", indent);
	for (size_t i = 0; i < c->ndyneids; i++) {
		if (c->dyneids[i].iid != iid)
			continue;
		fprintf(f, "%sdynamic-eid %s\n", indent, c->dyneids[i].name);
		print_dbmap_list(c, iid, (int)i, sub, f);
		if (c->dyneids[i].has_notify_key) {
			fprintf(f, "%seid-notify authentication-key hex ", sub);
			for (size_t j = 0; j < c->dyneids[i].notify_keylen; j++)
				fprintf(f, "%02x", c->dyneids[i].notify_key[j]);
			fputc('\n', f);
		}
		if (c->dyneids[i].notify_peer_limit != XTR_NOTIFY_PEERS_DEFAULT)
			fprintf(f, "%seid-notify peer-limit %u\n", sub,
				c->dyneids[i].notify_peer_limit);
		print_learning(&c->dyneids[i], sub, f);
		fprintf(f, "%sexit\n", sub);
	}
	for (size_t i = 0; i < c->itr.nmapcache; i++) {
		const struct xtr_conf_mapcache *m = &c->itr.mapcache[i];
		struct lisp_prefix bare = m->p;

		if (bare.iid != iid)
			continue;
		bare.iid = 0;
		fprintf(f, "%smap-cache %s %s\n", indent,
			lisp_prefix_format(&bare, buf, sizeof(buf)), act_name(m->act));
	}
}

static void print_etr(const struct xtr_conf *c, FILE *f)
{
	bool iid0_table = false;

	for (size_t i = 0; i < c->nlocsets; i++) {
		fprintf(f, " locator-set %s\n", c->locsets[i].name);
		for (size_t j = 0; j < c->locsets[i].nlocs; j++)
			print_locator(&c->locsets[i].locs[j], "  ", f);
		fprintf(f, "  exit\n");
	}
	for (size_t i = 0; i < c->neidtables; i++)
		iid0_table |= c->eidtables[i].iid == 0;
	if (!iid0_table)
		print_dbmaps(c, 0, " ", f);
	for (size_t i = 0; i < c->neidtables; i++) {
		const struct xtr_conf_eidtable *t = &c->eidtables[i];

		if (t->vrf[0])
			fprintf(f, " eid-table vrf %s instance-id %u\n", t->vrf, t->iid);
		else
			fprintf(f, " eid-table default instance-id %u\n", t->iid);
		print_dbmaps(c, t->iid, "  ", f);
		fprintf(f, "  exit\n");
	}
}

/* The dataplane settings that are not the defaults. */
static void print_dataplane(const struct xtr_conf *c, FILE *f)
{
	if (c->itr.map_cache_limit != XTR_MAP_CACHE_LIMIT_DEFAULT)
		fprintf(f, " dataplane map-cache-limit %zu\n", c->itr.map_cache_limit);
	if (c->reply.rate != XTR_REPLY_RATE_DEFAULT || c->reply.burst != XTR_REPLY_BURST_DEFAULT ||
	    c->reply.total != XTR_REPLY_TOTAL_DEFAULT)
		fprintf(f, " map-reply rate-limit %.0f burst %.0f total %.0f\n", c->reply.rate,
			c->reply.burst, c->reply.total);
	if (c->dp.hold_limit != XTR_HOLD_LIMIT_DEFAULT)
		fprintf(f, " dataplane hold-queue-limit %zu\n", c->dp.hold_limit);
	if (c->dp.hold_limit_iid != XTR_HOLD_LIMIT_IID_DEFAULT)
		fprintf(f, " dataplane hold-queue-limit per-instance-id %zu\n",
			c->dp.hold_limit_iid);
	if (c->itr.mr_limit != XTR_MR_LIMIT_DEFAULT)
		fprintf(f, " dataplane map-request-limit %zu\n", c->itr.mr_limit);
	if (c->itr.mr_limit_iid != XTR_MR_LIMIT_IID_DEFAULT)
		fprintf(f, " dataplane map-request-limit per-instance-id %zu\n",
			c->itr.mr_limit_iid);
	if (strcmp(c->dp.ifname, XTR_DP_IFNAME) != 0)
		fprintf(f, " dataplane interface %s\n", c->dp.ifname);
	if (c->dp.mtu != XTR_DP_MTU_DEFAULT)
		fprintf(f, " dataplane mtu %u\n", c->dp.mtu);
	if (c->dp.workers)
		fprintf(f, " dataplane workers %u\n", c->dp.workers);
}

static void print_etr_roles(const struct xtr_conf *c, FILE *f)
{
	char buf[LISP_ADDR_STRLEN];

	if (c->itr_v4)
		fprintf(f, " ipv4 itr\n");
	if (c->itr_v6)
		fprintf(f, " ipv6 itr\n");
	for (size_t i = 0; i < c->itr.nmap_resolvers; i++)
		fprintf(f, " %s itr map-resolver %s\n",
			c->itr.map_resolvers[i].afi == LISP_AFI_IPV4 ? "ipv4" : "ipv6",
			lisp_addr_format(&c->itr.map_resolvers[i], buf, sizeof(buf)));
	for (size_t i = 0; i < c->dp.npetrs; i++) {
		const struct xtr_conf_petr *t = &c->dp.petrs[i];

		fprintf(f, " %s use-petr %s priority %u weight %u\n",
			t->addr.afi == LISP_AFI_IPV4 ? "ipv4" : "ipv6",
			lisp_addr_format(&t->addr, buf, sizeof(buf)), t->priority, t->weight);
	}
	if (c->proxy_itr4.afi)
		fprintf(f, " ipv4 proxy-itr %s\n",
			lisp_addr_format(&c->proxy_itr4, buf, sizeof(buf)));
	if (c->proxy_itr6.afi)
		fprintf(f, " ipv6 proxy-itr %s\n",
			lisp_addr_format(&c->proxy_itr6, buf, sizeof(buf)));
	if (c->proxy_etr_v4)
		fprintf(f, " ipv4 proxy-etr\n");
	if (c->proxy_etr_v6)
		fprintf(f, " ipv6 proxy-etr\n");
	print_dataplane(c, f);
	if (c->metrics_port) {
		char a[LISP_ADDR_STRLEN];

		fprintf(f, " metrics listen %s port %u\n",
			lisp_addr_format(&c->metrics_addr, a, sizeof(a)), c->metrics_port);
	}
	if (c->etr_v4)
		fprintf(f, " ipv4 etr\n");
	if (c->etr_v6)
		fprintf(f, " ipv6 etr\n");
	for (size_t i = 0; i < c->nmap_servers; i++) {
		const struct xtr_conf_ms *m = &c->map_servers[i];

		fprintf(f, " %s etr map-server %s key hex ",
			m->addr.afi == LISP_AFI_IPV4 ? "ipv4" : "ipv6",
			lisp_addr_format(&m->addr, buf, sizeof(buf)));
		for (size_t j = 0; j < m->keylen; j++)
			fprintf(f, "%02x", m->key[j]);
		if (m->alg == LISP_ALG_HMAC_SHA1_96)
			fprintf(f, " hash-function sha1");
		if (m->random_nonces)
			fprintf(f, " notify-nonce random");
		if (m->proxy_reply)
			fprintf(f, " proxy-reply");
		fputc('\n', f);
	}
}

void xtr_conf_print(const struct xtr_conf *c, FILE *f)
{
	char buf[LISP_ADDR_STRLEN];

	fprintf(f, "router lisp\n");
	for (size_t i = 0; i < c->msmr.nsites; i++)
		print_site(c->msmr.sites[i], f);
	for (size_t i = 0; i < c->msmr.nsubscribers; i++)
		print_subscriber(c->msmr.subscribers[i], f);
	if (c->site_id)
		fprintf(f, " site-id %llu\n", (unsigned long long)c->site_id);
	if (c->itr.probe_ms)
		fprintf(f, " rloc-probing interval %u misses %u\n", c->itr.probe_ms,
			c->itr.probe_misses);
	if (c->itr.subscribe) {
		fprintf(f, " itr subscribe xtr-id ");
		print_hex(c->itr.sub_xtr_id, 16, f);
		fprintf(f, " site-id %llu authentication-key hex ",
			(unsigned long long)c->itr.sub_site_id);
		print_hex(c->itr.sub_key, c->itr.sub_keylen, f);
		fputc('\n', f);
	}
	print_etr(c, f);
	if (c->msmr.ms_v4)
		fprintf(f, " ipv4 map-server\n");
	if (c->msmr.mr_v4)
		fprintf(f, " ipv4 map-resolver\n");
	if (c->msmr.ms_v6)
		fprintf(f, " ipv6 map-server\n");
	if (c->msmr.mr_v6)
		fprintf(f, " ipv6 map-resolver\n");
	print_etr_roles(c, f);
	for (size_t i = 0; i < c->nlisten; i++)
		fprintf(f, " map-server address %s\n",
			lisp_addr_format(&c->listen[i], buf, sizeof(buf)));
	fprintf(f, " exit\n");
	for (size_t i = 0; i < c->nifaces; i++) {
		const struct xtr_conf_iface *x = &c->ifaces[i];

		fprintf(f, "interface %s\n", x->name);
		if (x->mobility[0])
			fprintf(f, " lisp mobility %s\n", x->mobility);
		if (x->extended_subnet)
			fprintf(f, " lisp extended-subnet-mode\n");
		fprintf(f, " exit\n");
	}
}
