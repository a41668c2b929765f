/*
 * The NFQUEUE detection's rules in nftables, through libnftnl over one
 * netlink socket (no process): the agent's own table, replaced whole at
 * start in one atomic batch and deleted at exit,
 *
 *   table inet vmroam_fhr_qN {			(flags owner: gone with the agent)
 *	set known4 { type ipv4_addr; size S; }
 *	set known6 { type ipv6_addr; size S; }
 *	set leaving4 { type ipv4_addr; size S; }
 *	set leaving6 { type ipv6_addr; size S; }
 *	chain prerouting { type filter hook prerouting priority raw; policy accept;
 *		iifname "IF" ip daddr @leaving4 counter queue num N bypass	(each mobility
 *		iifname "IF" ip6 daddr @leaving6 counter queue num N bypass	 interface)
 *		ip saddr @known4 counter return
 *		ip6 saddr @known6 counter return
 *		iifname "IF" ip saddr PREFIX counter queue num N bypass	(each prefix, interface)
 *	}
 *	chain output { type filter hook output priority filter; policy accept;
 *		oifname "IF" icmp type redirect counter drop		(each ip proxy-arp
 *		oifname "IF" icmpv6 type nd-redirect counter drop	 interface)
 *	}
 *   }
 *
 * Without a queue (no nfqueue configured) the table is vmroam_fhr and has
 * only the output chain. No redirects across subnets: the FHR routes
 * between the VMs' subnets on one interface, and a host told to reach a
 * moved-in VM directly (the kernel's redirect, shared media) keeps doing so
 * after the VM has moved on (found by the lab, issue 20).
 *
 * A known EID is one element added to or deleted from its set, and so is a
 * leaving one (its VM paused to migrate away): the packets our segments send
 * it are queued, whoever sends them, and the agent holds their verdicts
 * (detect_nfq.c); what comes from the uplink (the gateway holds that) is
 * not. The queue
 * statement is nftables' own (nft_queue) where the kernel has it, as
 * Debian's do (the module loads on demand); else the xtables NFQUEUE target
 * (revision 3) through nft_compat, as iptables-nft writes it: kernels
 * without nft_queue have it (platform notes §3), and nft's language has no
 * way to write it, hence libnftnl rather than libnftables. It is not the
 * other way round because the kernel loads xt_NFQUEUE on demand only for
 * the ip and ip6 families, never for an inet table's rule (the appliance's
 * cloud kernel refused the table so, issue 23).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter_ipv4.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fhr-agent/fhr.h"
#include "lib/nftb.h"
#include "lib/xalloc.h"

#define FAMILY NFPROTO_INET
struct fhr_nft {
	struct nftb_sock s;
	char table[32];
	bool xt; /* the queue statement: the xtables target, not nft_queue */
};

/* A transaction on t's table (lib/nftb.h). */
struct batch {
	struct nftb n;
	struct fhr_nft *t;
};

static void batch_start(struct batch *b, struct fhr_nft *t)
{
	b->t = t;
	nftb_start(&b->n, &t->s, FAMILY);
}

static struct nlmsghdr *batch_msg(struct batch *b, uint16_t type, uint16_t flags)
{
	return nftb_msg(&b->n, type, flags);
}

static void batch_done(struct batch *b, const struct nlmsghdr *nh)
{
	nftb_done(&b->n, nh);
}

static void put_chain(struct batch *b, const char *name, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftb_must(nftnl_chain_alloc());
	struct nlmsghdr *nh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, b->t->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, FAMILY);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(nh, c);
	batch_done(b, nh);
	nftnl_chain_free(c);
}

static const char *set_name(bool v6)
{
	return v6 ? "known6" : "known4";
}

static const char *leaving_name(bool v6)
{
	return v6 ? "leaving6" : "leaving4";
}

/* The set of known (or leaving) EIDs of one family: size addresses at most. */
static void put_set(struct batch *b, bool v6, bool leaving, uint32_t size)
{
	struct nftnl_set *s = nftb_must(nftnl_set_alloc());
	struct nlmsghdr *nh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE);

	nftnl_set_set_str(s, NFTNL_SET_TABLE, b->t->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, leaving ? leaving_name(v6) : set_name(v6));
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAMILY);
	nftnl_set_set_u32(s, NFTNL_SET_ID, (v6 ? 2 : 1) + (leaving ? 2 : 0));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? 8 : 7); /* nft's ipv6_addr, ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nftnl_set_nlmsg_build_payload(nh, s);
	batch_done(b, nh);
	nftnl_set_free(s);
}

/* The packet is of family v6; its source (or destination) address into register 1. */
static void add_addr(struct nftnl_rule *r, bool v6, bool dst)
{
	uint8_t proto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	struct nftnl_expr *e;

	nftnl_rule_add_expr(r, nftb_expr("meta", NFTNL_EXPR_META_KEY, NFT_META_NFPROTO,
					 NFTNL_EXPR_META_DREG, NFT_REG_1));
	nftb_cmp(r, &proto, 1);
	e = nftb_expr("payload", NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER,
		      NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, (v6 ? 8 : 12) + (dst ? (v6 ? 16 : 4) : 0));
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, v6 ? 16 : 4);
	nftnl_rule_add_expr(r, e);
}

static void add_saddr(struct nftnl_rule *r, bool v6)
{
	add_addr(r, v6, false);
}

/* Register 1 (an address of p's family) within prefix p. */
static void add_prefix(struct nftnl_rule *r, const struct lisp_prefix *p)
{
	uint32_t len = p->addr.afi == LISP_AFI_IPV6 ? 16 : 4;
	const uint8_t *a = len == 16 ? p->addr.u.v6 : p->addr.u.v4;
	uint8_t mask[16] = { 0 }, xor[16] = { 0 }, net[16];
	struct nftnl_expr *e;

	if (p->plen == 0)
		return; /* the whole family */
	for (unsigned i = 0; i < p->plen && i < 8 * len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (unsigned i = 0; i < len; i++)
		net[i] = a[i] & mask[i];
	if (p->plen < 8 * len) {
		e = nftb_expr("bitwise", NFTNL_EXPR_BITWISE_SREG, NFT_REG_1,
			      NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
		nftnl_rule_add_expr(r, e);
	}
	nftb_cmp(r, net, len);
}

/*
 * queue num N bypass: nft_queue's expression, or the xtables target NFQUEUE
 * revision 3 (--queue-num N --queue-bypass).
 */
static struct nftnl_expr *nfqueue_new(const struct fhr_nft *t, unsigned queue)
{
	struct xt_NFQ_info_v3 *info;
	struct nftnl_expr *e;

	if (!t->xt) {
		e = nftb_must(nftnl_expr_alloc("queue"));
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, (uint16_t)queue);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
		return e;
	}
	e = nftb_must(nftnl_expr_alloc("target"));
	/* sized as xtables aligns it (the kernel checks); the expression frees it */
	info = xcalloc(1, XT_ALIGN(sizeof(*info)));
	info->queuenum = (uint16_t)queue;
	info->queues_total = 1;
	info->flags = NFQ_FLAG_BYPASS;
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, XT_ALIGN(sizeof(*info)));
	return e;
}

static struct nftnl_rule *rule_new(struct batch *b, const char *chain)
{
	struct nftnl_rule *r = nftb_must(nftnl_rule_alloc());

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->t->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, FAMILY);
	return r;
}

/* Appends rule r (freed here): its matches, a counter, then verdict (taken). */
static void put_rule(struct batch *b, struct nftnl_rule *r, struct nftnl_expr *verdict)
{
	struct nlmsghdr *nh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);

	nftnl_rule_add_expr(r, nftb_must(nftnl_expr_alloc("counter")));
	nftnl_rule_add_expr(r, verdict);
	nftnl_rule_nlmsg_build_payload(nh, r);
	batch_done(b, nh);
	nftnl_rule_free(r);
}

/* ip[6] saddr @known[46] counter return */
static void put_return(struct batch *b, bool v6)
{
	struct nftnl_rule *r = rule_new(b, "prerouting");
	struct nftnl_expr *e = nftb_expr("lookup", NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1,
					 NFTNL_EXPR_LOOKUP_SET_ID, v6 ? 2 : 1);

	add_saddr(r, v6);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set_name(v6));
	nftnl_rule_add_expr(r, e);
	put_rule(b, r,
		 nftb_expr("immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT,
			   NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_RETURN));
}

/* A rule of chain matching interface ifname (meta key: its input or output); NULL if too long. */
static struct nftnl_rule *rule_if(struct batch *b, const char *chain, uint32_t key,
				  const char *ifname)
{
	char name[IFNAMSIZ] = { 0 }; /* compared whole: the exact name */
	struct nftnl_rule *r;

	if (strlen(ifname) >= sizeof(name))
		return NULL;
	memcpy(name, ifname, strlen(ifname));
	r = rule_new(b, chain);
	nftnl_rule_add_expr(
		r, nftb_expr("meta", NFTNL_EXPR_META_KEY, key, NFTNL_EXPR_META_DREG, NFT_REG_1));
	nftb_cmp(r, name, sizeof(name));
	return r;
}

/* iifname "ifname" ip[6] saddr p counter queue num N bypass; 0 or -EINVAL (name too long). */
static int put_queue(struct batch *b, const char *ifname, const struct lisp_prefix *p,
		     unsigned queue)
{
	struct nftnl_rule *r = rule_if(b, "prerouting", NFT_META_IIFNAME, ifname);

	if (!r)
		return -EINVAL;
	add_saddr(r, p->addr.afi == LISP_AFI_IPV6);
	add_prefix(r, p);
	put_rule(b, r, nfqueue_new(b->t, queue));
	return 0;
}

/* iifname "ifname" ip[6] daddr @leaving[46] counter queue num N bypass; 0 or -EINVAL. */
static int put_hold(struct batch *b, const char *ifname, bool v6, unsigned queue)
{
	struct nftnl_rule *r = rule_if(b, "prerouting", NFT_META_IIFNAME, ifname);
	struct nftnl_expr *e;

	if (!r)
		return -EINVAL;
	add_addr(r, v6, true);
	e = nftb_expr("lookup", NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1, NFTNL_EXPR_LOOKUP_SET_ID,
		      v6 ? 4 : 3);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, leaving_name(v6));
	nftnl_rule_add_expr(r, e);
	put_rule(b, r, nfqueue_new(b->t, queue));
	return 0;
}

/* oifname "ifname" icmp type redirect / icmpv6 type nd-redirect counter drop */
static int put_no_redirect(struct batch *b, const char *ifname, bool v6)
{
	struct nftnl_rule *r = rule_if(b, "output", NFT_META_OIFNAME, ifname);
	uint8_t proto = v6 ? 58 : 1, type = v6 ? 137 : 5;
	struct nftnl_expr *e;

	if (!r)
		return -EINVAL;
	nftnl_rule_add_expr(r, nftb_expr("meta", NFTNL_EXPR_META_KEY, NFT_META_L4PROTO,
					 NFTNL_EXPR_META_DREG, NFT_REG_1));
	nftb_cmp(r, &proto, 1);
	e = nftb_expr("payload", NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER,
		      NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 0);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 1);
	nftnl_rule_add_expr(r, e);
	nftb_cmp(r, &type, 1);
	put_rule(b, r,
		 nftb_expr("immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT,
			   NFTNL_EXPR_IMM_VERDICT, (uint32_t)NF_DROP));
	return 0;
}

/*
 * One transaction: the table (if any, a crashed run's) goes and comes back
 * with the sets and rules, so packets never see it half made.
 */
static int table_replace(struct fhr_nft *t, const struct fhr_conf *c, int queue, uint32_t size)
{
	struct batch b;
	int rc = 0;

	batch_start(&b, t);
	nftb_table_fresh(&b.n, t->table);
	put_chain(&b, "output", NF_INET_LOCAL_OUT, NF_IP_PRI_FILTER);
	for (size_t i = 0; i < c->nifaces && rc == 0; i++)
		for (int v6 = 0; v6 < 2 && c->ifaces[i].proxy_arp && rc == 0; v6++)
			rc = put_no_redirect(&b, c->ifaces[i].name, v6);
	if (queue >= 0) {
		put_chain(&b, "prerouting", NF_INET_PRE_ROUTING, NF_IP_PRI_RAW);
		for (int v6 = 0; v6 < 2; v6++) {
			put_set(&b, v6, false, size);
			put_set(&b, v6, true, size);
		}
		/* first: a leaving EID's packets from our segments, whoever sends them */
		for (size_t i = 0; i < c->nifaces && rc == 0; i++)
			for (int v6 = 0; v6 < 2 && c->ifaces[i].mobility[0] && rc == 0; v6++)
				rc = put_hold(&b, c->ifaces[i].name, v6, (unsigned)queue);
		for (int v6 = 0; v6 < 2; v6++)
			put_return(&b, v6);
	}
	for (size_t i = 0; i < c->nifaces && rc == 0 && queue >= 0; i++) {
		const struct fhr_conf_iface *f = &c->ifaces[i];

		for (size_t d = 0; d < c->ndyneids && f->mobility[0] && rc == 0; d++) {
			if (strcmp(c->dyneids[d].name, f->mobility) != 0)
				continue;
			for (size_t p = 0; p < c->dyneids[d].nprefixes && rc == 0; p++)
				rc = put_queue(&b, f->name, &c->dyneids[d].prefixes[p],
					       (unsigned)queue);
		}
	}
	if (rc < 0) {
		nftb_drop(&b.n);
		return rc;
	}
	return nftb_send(&b.n);
}

int fhr_nft_open(struct fhr_nft **out, const struct fhr_conf *c, int queue, uint32_t size)
{
	struct fhr_nft *t = xcalloc(1, sizeof(*t));
	int rc;

	if (queue >= 0)
		snprintf(t->table, sizeof(t->table), "vmroam_fhr_q%d", queue);
	else
		snprintf(t->table, sizeof(t->table), "vmroam_fhr");
	rc = nftb_open(&t->s);
	if (rc == 0)
		rc = table_replace(t, c, queue, size);
	if (rc == -ENOENT && queue >= 0) { /* no nft_queue: the xtables target */
		t->xt = true;
		rc = table_replace(t, c, queue, size);
	}
	if (rc < 0) {
		nftb_close(&t->s);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* Adds a to (or deletes it from) set name4 or name6 of its family. */
static int set_elem(struct fhr_nft *t, const char *name4, const char *name6,
		    const struct lisp_addr *a, bool yes)
{
	bool v6 = a->afi == LISP_AFI_IPV6;
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nlmsghdr *nh;
	struct batch b;
	int rc;

	if (a->afi != LISP_AFI_IPV4 && !v6)
		return -EAFNOSUPPORT;
	s = nftb_must(nftnl_set_alloc());
	e = nftb_must(nftnl_set_elem_alloc());
	nftnl_set_set_str(s, NFTNL_SET_TABLE, t->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, v6 ? name6 : name4);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAMILY);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, v6 ? (const void *)a->u.v6 : a->u.v4,
			   v6 ? 16 : 4);
	nftnl_set_elem_add(s, e); /* (the set owns it now) */
	batch_start(&b, t);
	nh = batch_msg(&b, yes ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, yes ? NLM_F_CREATE : 0);
	nftnl_set_elems_nlmsg_build_payload(nh, s);
	batch_done(&b, nh);
	nftnl_set_free(s);
	rc = nftb_send(&b.n);
	return rc == -ENOENT && !yes ? 0 : rc; /* (not there: fine) */
}

int fhr_nft_known(struct fhr_nft *t, const struct lisp_addr *a, bool yes)
{
	return set_elem(t, set_name(false), set_name(true), a, yes);
}

int fhr_nft_leaving(struct fhr_nft *t, const struct lisp_addr *a, bool yes)
{
	return set_elem(t, leaving_name(false), leaving_name(true), a, yes);
}

const char *fhr_nft_queue_form(const struct fhr_nft *t)
{
	return t->xt ? "xt_NFQUEUE" : "nft_queue";
}

void fhr_nft_close(struct fhr_nft *t)
{
	struct batch b;

	if (!t)
		return;
	batch_start(&b, t);
	nftb_table(&b.n, t->table, NFT_MSG_DELTABLE, 0, 0);
	nftb_send(&b.n); /* (closing the socket would do: the table is its own) */
	nftb_close(&t->s);
	free(t);
}
