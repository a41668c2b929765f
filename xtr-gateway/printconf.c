/* The canonical form of an xtr-gateway configuration (xtr-gateway -nv). */
#include <stdio.h>

#include "xtr-gateway/xtr.h"

static void print_site(const struct xtr_conf_site *s, FILE *f)
{
	char buf[LISP_PREFIX_STRLEN];

	fprintf(f, " site %s\n", s->name);
	if (s->description)
		fprintf(f, "  description %s\n", s->description);
	/* the key is never shown in clear: type 6 is its hex form */
	fprintf(f, "  authentication-key 6 ");
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
	if (s->strict_nonce)
		fprintf(f, "  strict-nonce\n");
	fprintf(f, "  exit\n");
}

void xtr_conf_print(const struct xtr_conf *c, FILE *f)
{
	char buf[LISP_ADDR_STRLEN];

	fprintf(f, "router lisp\n");
	for (size_t i = 0; i < c->nsites; i++)
		print_site(c->sites[i], f);
	if (c->ms_v4)
		fprintf(f, " ipv4 map-server\n");
	if (c->mr_v4)
		fprintf(f, " ipv4 map-resolver\n");
	if (c->ms_v6)
		fprintf(f, " ipv6 map-server\n");
	if (c->mr_v6)
		fprintf(f, " ipv6 map-resolver\n");
	for (size_t i = 0; i < c->nlisten; i++)
		fprintf(f, " map-server address %s\n",
			lisp_addr_format(&c->listen[i], buf, sizeof(buf)));
	fprintf(f, " exit\n");
}
