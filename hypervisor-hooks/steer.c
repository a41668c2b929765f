/* The frames bound for a guest in its switchover, steered to its FHR (steer.h). */
#include "hypervisor-hooks/steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/nftb.h"
#include "lib/xalloc.h"

#define TABLE "vmroam_steer"

struct hv_steer {
	struct nftb_sock s;
};

int hv_steer_open(struct hv_steer **out)
{
	struct hv_steer *t = xcalloc(1, sizeof(*t));
	struct nftb b;
	int rc = nftb_open(&t->s);

	if (rc == 0) { /* (a leftover table, not ours: replaced by one that goes with us) */
		nftb_start(&b, &t->s, NFPROTO_NETDEV);
		nftb_table_fresh(&b, TABLE);
		rc = nftb_send(&b);
	}
	if (rc < 0) {
		nftb_close(&t->s);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void hv_steer_close(struct hv_steer *t)
{
	if (!t)
		return;
	nftb_close(&t->s); /* (the table is the socket's: it goes) */
	free(t);
}

/* The chain of tap: "t-" and its name. */
static void chain_name(char *out, size_t cap, const char *tap)
{
	snprintf(out, cap, "t-%s", tap);
}

/* tap's bridge (its master): its name, MAC and index; 0 or -ENODEV. */
static int bridge_of(const char *tap, char br[IF_NAMESIZE], uint8_t mac[6], uint32_t *ifindex)
{
	char path[PATH_MAX], link[PATH_MAX], addr[32];
	const char *base;
	unsigned m[6];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", tap);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -ENODEV;
	link[n] = '\0';
	base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strlen(base) >= IF_NAMESIZE)
		return -ENODEV;
	memcpy(br, base, strlen(base) + 1);
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", br);
	f = fopen(path, "re");
	if (!f)
		return -ENODEV;
	n = fgets(addr, sizeof(addr), f) ? 1 : 0;
	fclose(f);
	if (!n || sscanf(addr, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -ENODEV;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	*ifindex = if_nametoindex(br);
	return *ifindex ? 0 : -ENODEV;
}

/* Register 1 = the len bytes of data. */
static void put_imm(struct nftnl_rule *r, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftb_must(nftnl_expr_alloc("immediate"));

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

/* The link-layer header's bytes [off, off + len) into (load) or from (!load) register 1. */
static void put_ll(struct nftnl_rule *r, uint32_t off, uint32_t len, bool load)
{
	struct nftnl_expr *e =
		nftb_expr("payload", NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_LL_HEADER,
			  load ? NFTNL_EXPR_PAYLOAD_DREG : NFTNL_EXPR_PAYLOAD_SREG, NFT_REG_1);

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

/* ether type T ether daddr VM [ether saddr != FHR] ether saddr set BR ether daddr set FHR
 * counter fwd to BR */
static void put_rule(struct nftb *b, const char *chain, uint16_t type, const uint8_t vm[6],
		     const uint8_t brmac[6], const uint8_t fhr[6], uint32_t brindex, bool but_fhr)
{
	struct nftnl_rule *r = nftb_must(nftnl_rule_alloc());
	struct nlmsghdr *nh = nftb_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	uint16_t be = htons(type);
	struct nftnl_expr *e;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
	put_ll(r, 12, 2, true);
	nftb_cmp(r, &be, 2);
	put_ll(r, 0, 6, true);
	nftb_cmp(r, vm, 6);
	if (but_fhr) {
		put_ll(r, 6, 6, true);
		e = nftb_expr("cmp", NFTNL_EXPR_CMP_SREG, NFT_REG_1, NFTNL_EXPR_CMP_OP,
			      NFT_CMP_NEQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, fhr, 6);
		nftnl_rule_add_expr(r, e);
	}
	put_imm(r, brmac, 6);
	put_ll(r, 6, 6, false);
	put_imm(r, fhr, 6);
	put_ll(r, 0, 6, false);
	nftnl_rule_add_expr(r, nftb_must(nftnl_expr_alloc("counter")));
	put_imm(r, &brindex, 4);
	e = nftb_must(nftnl_expr_alloc("fwd"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_FWD_SREG_DEV, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	nftnl_rule_nlmsg_build_payload(nh, r);
	nftb_done(b, nh);
	nftnl_rule_free(r);
}

/* Flushes chain (in b): all its rules. */
static void put_flush(struct nftb *b, const char *chain)
{
	struct nftnl_rule *r = nftb_must(nftnl_rule_alloc()); /* (no handle: all its rules) */
	struct nlmsghdr *nh = nftb_msg(b, NFT_MSG_DELRULE, 0);

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
	nftnl_rule_nlmsg_build_payload(nh, r);
	nftb_done(b, nh);
	nftnl_rule_free(r);
}

int hv_steer_on(struct hv_steer *t, const char *tap, const uint8_t vm[6], const uint8_t fhr[6],
		bool but_fhr)
{
	char chain[64], br[IF_NAMESIZE];
	struct nftnl_chain *c;
	struct nlmsghdr *nh;
	uint8_t brmac[6];
	uint32_t brindex;
	struct nftb b;
	int rc;

	if (!tap[0] || strlen(tap) >= IF_NAMESIZE)
		return -EINVAL;
	rc = bridge_of(tap, br, brmac, &brindex);
	if (rc < 0)
		return rc;
	/* the FHR is that bridge itself (here, in this namespace): a frame the bridge sends
	 * to its own MAC goes nowhere, so it is left to the FHR's draw at the pause */
	if (memcmp(brmac, fhr, 6) == 0)
		return -EHOSTUNREACH;
	chain_name(chain, sizeof(chain), tap);
	nftb_start(&b, &t->s, NFPROTO_NETDEV);
	c = nftb_must(nftnl_chain_alloc());
	nh = nftb_msg(&b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_NETDEV_EGRESS);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, tap);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(nh, c);
	nftb_done(&b, nh);
	nftnl_chain_free(c);
	put_flush(&b, chain); /* (its rules replaced at once, in one transaction) */
	put_rule(&b, chain, ETH_P_IP, vm, brmac, fhr, brindex, but_fhr);
	put_rule(&b, chain, ETH_P_IPV6, vm, brmac, fhr, brindex, but_fhr);
	return nftb_send(&b);
}

int hv_steer_off(struct hv_steer *t, const char *tap)
{
	char chain[64];
	struct nftnl_chain *c;
	struct nlmsghdr *nh;
	struct nftb b;
	int rc;

	chain_name(chain, sizeof(chain), tap);
	nftb_start(&b, &t->s, NFPROTO_NETDEV);
	put_flush(&b, chain);
	c = nftb_must(nftnl_chain_alloc());
	nh = nftb_msg(&b, NFT_MSG_DELCHAIN, 0);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
	nftnl_chain_nlmsg_build_payload(nh, c);
	nftb_done(&b, nh);
	nftnl_chain_free(c);
	rc = nftb_send(&b);
	return rc == -ENOENT ? 0 : rc; /* (its tap gone, the chain went with it) */
}
