/* nftables transactions (lib/nftb.h). */
#include "lib/nftb.h"

#include <errno.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/xalloc.h"

#define MSG_ROOM 2048 /* more than any one message here takes */

int nftb_open(struct nftb_sock *s)
{
	int one = 1, rc;

	*s = (struct nftb_sock){ .seq = 1 };
	s->sk = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!s->sk || mnl_socket_bind(s->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		nftb_close(s);
		return rc;
	}
	/* errors without a copy of the request: the answers stay small */
	mnl_socket_setsockopt(s->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->sk);
	return 0;
}

void nftb_close(struct nftb_sock *s)
{
	if (s->sk)
		mnl_socket_close(s->sk);
	s->sk = NULL;
}

void *nftb_must(void *p)
{
	if (!p) {
		fputs("nftables: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* Room for the next message (grown as needed). */
static char *room(struct nftb *b)
{
	if (b->cap - b->len < MSG_ROOM) {
		b->cap += 8 * MSG_ROOM;
		b->buf = xrealloc(b->buf, b->cap);
	}
	return b->buf + b->len;
}

void nftb_done(struct nftb *b, const struct nlmsghdr *nh)
{
	b->len += MNL_ALIGN(nh->nlmsg_len);
}

void nftb_start(struct nftb *b, struct nftb_sock *s, uint16_t family)
{
	*b = (struct nftb){ .s = s, .family = family };
	nftb_done(b, nftnl_batch_begin(room(b), s->seq++));
}

struct nlmsghdr *nftb_msg(struct nftb *b, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(room(b), type, b->family, flags | NLM_F_ACK, b->s->seq++);
}

void nftb_drop(struct nftb *b)
{
	free(b->buf);
	b->buf = NULL;
}

/*
 * The kernel handles a batch inside sendmsg(), so its answers are all
 * queued when it returns (the socket is non-blocking: EAGAIN is the end).
 */
int nftb_send(struct nftb *b)
{
	char buf[8192] __attribute__((aligned(4))); /* acknowledgements, errors: small */
	int rc = 0;
	ssize_t n;

	nftb_done(b, nftnl_batch_end(room(b), b->s->seq++));
	if (mnl_socket_sendto(b->s->sk, b->buf, b->len) < 0)
		rc = -errno;
	while (rc == 0) {
		n = mnl_socket_recvfrom(b->s->sk, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			rc = -errno;
		else if (mnl_cb_run(buf, (size_t)n, 0, b->s->portid, NULL, NULL) == MNL_CB_ERROR)
			rc = errno > 0 ? -errno : -EPROTO;
	}
	/* after an error the other answers are of no use: drain them for the next batch */
	while (mnl_socket_recvfrom(b->s->sk, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
	nftb_drop(b);
	return rc;
}

void nftb_table(struct nftb *b, const char *name, uint16_t type, uint16_t flags, uint32_t tflags)
{
	struct nftnl_table *t = nftb_must(nftnl_table_alloc());
	struct nlmsghdr *nh = nftb_msg(b, type, flags);

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, b->family);
	if (tflags)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, tflags);
	nftnl_table_nlmsg_build_payload(nh, t);
	nftb_done(b, nh);
	nftnl_table_free(t);
}

void nftb_table_fresh(struct nftb *b, const char *name)
{
	nftb_table(b, name, NFT_MSG_NEWTABLE, NLM_F_CREATE, 0); /* so that the delete finds one */
	nftb_table(b, name, NFT_MSG_DELTABLE, 0, 0);
	nftb_table(b, name, NFT_MSG_NEWTABLE, NLM_F_CREATE, NFT_TABLE_F_OWNER);
}

struct nftnl_expr *nftb_expr(const char *name, uint16_t a1, uint32_t v1, uint16_t a2, uint32_t v2)
{
	struct nftnl_expr *e = nftb_must(nftnl_expr_alloc(name));

	nftnl_expr_set_u32(e, a1, v1);
	nftnl_expr_set_u32(e, a2, v2);
	return e;
}

void nftb_cmp(struct nftnl_rule *r, const void *data, uint32_t len)
{
	struct nftnl_expr *e =
		nftb_expr("cmp", NFTNL_EXPR_CMP_SREG, NFT_REG_1, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);

	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}
