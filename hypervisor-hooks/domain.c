/* The domain XML reader (hv.h): libxml2's tree, no network, no entities, no DTD. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hypervisor-hooks/hv.h"

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static bool is_ours(const xmlNode *n, const char *name)
{
	return is(n, name) && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, HV_XMLNS) == 0;
}

/* The element's text, trimmed, into out; false when it does not fit. */
static bool text(const xmlNode *n, char *out, size_t cap)
{
	xmlChar *s = xmlNodeGetContent(n);
	const char *b = s ? (const char *)s : "";
	size_t len;
	bool ok;

	while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
		b++;
	len = strlen(b);
	while (len && (b[len - 1] == ' ' || b[len - 1] == '\t' || b[len - 1] == '\n' ||
		       b[len - 1] == '\r'))
		len--;
	ok = len < cap;
	if (ok) {
		memcpy(out, b, len);
		out[len] = '\0';
	}
	xmlFree(s);
	return ok;
}

/* An attribute's value into out ("" when absent); false when it does not fit. */
static bool attr(const xmlNode *n, const char *name, char *out, size_t cap)
{
	xmlChar *s = xmlGetProp(n, (const xmlChar *)name);
	bool ok = !s || strlen((const char *)s) < cap;

	out[0] = '\0';
	if (s && ok)
		snprintf(out, cap, "%s", (const char *)s);
	xmlFree(s);
	return ok;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 ||
	    strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

static void skip(struct hv_domain *d, const char *what)
{
	if (!d->skipped++)
		snprintf(d->warning, sizeof(d->warning), "%s", what);
}

static void parse_iface(struct hv_domain *d, const xmlNode *n)
{
	struct hv_iface f = { 0 };
	char mac[32] = "";
	bool have_mac = false;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (is(c, "mac")) {
			have_mac = attr(c, "address", mac, sizeof(mac)) && parse_mac(mac, f.mac);
		} else if (is(c, "source")) {
			if (!attr(c, "bridge", f.bridge, sizeof(f.bridge)) ||
			    (!f.bridge[0] && !attr(c, "network", f.bridge, sizeof(f.bridge))))
				f.bridge[0] = '\0';
		} else if (is(c, "target")) {
			if (!attr(c, "dev", f.target, sizeof(f.target)))
				f.target[0] = '\0';
		}
	}
	if (!have_mac) {
		skip(d, "an interface without a valid <mac address=...>");
		return;
	}
	if (d->nifaces == HV_IFACES_MAX) {
		skip(d, "more than 16 interfaces");
		return;
	}
	d->ifaces[d->nifaces++] = f;
}

/* <vmroam:address [mac=...]>ADDRESS</vmroam:address>: with that interface, or the first. */
static int parse_address(struct hv_domain *d, const xmlNode *n, char *err, size_t errlen)
{
	char s[LISP_ADDR_STRLEN + 8], m[32];
	struct hv_iface *f = d->nifaces ? &d->ifaces[0] : NULL;
	struct lisp_addr a;
	uint8_t mac[6];

	if (!text(n, s, sizeof(s)) || lisp_addr_parse(s, &a) < 0 ||
	    (a.afi != LISP_AFI_IPV4 && a.afi != LISP_AFI_IPV6)) {
		snprintf(err, errlen, "<vmroam:address>: not an IPv4 or IPv6 address");
		return -EINVAL;
	}
	if (!attr(n, "mac", m, sizeof(m)) || (m[0] && !parse_mac(m, mac))) {
		snprintf(err, errlen, "<vmroam:address mac=...>: not a MAC address");
		return -EINVAL;
	}
	if (m[0]) {
		f = NULL;
		for (size_t i = 0; i < d->nifaces && !f; i++)
			if (memcmp(d->ifaces[i].mac, mac, 6) == 0)
				f = &d->ifaces[i];
	}
	if (!f) {
		skip(d, "an address of no interface of the domain");
		return 0;
	}
	for (size_t i = 0; i < f->naddrs; i++)
		if (lisp_addr_equal(&f->addrs[i], &a))
			return 0;
	if (f->naddrs == HV_ADDRS_MAX) {
		skip(d, "more than 8 addresses on an interface");
		return 0;
	}
	f->addrs[f->naddrs++] = a;
	return 0;
}

static int parse_ours(struct hv_domain *d, const xmlNode *vm, char *err, size_t errlen)
{
	char s[64];
	unsigned long v;
	char *end;

	d->tenant_vm = true;
	for (const xmlNode *c = vm->children; c; c = c->next) {
		if (is_ours(c, "tenant")) {
			if (!text(c, d->tenant, sizeof(d->tenant)) || !d->tenant[0]) {
				snprintf(err, errlen, "<vmroam:tenant>: empty or longer than %d",
					 HV_NAME_MAX - 1);
				return -EINVAL;
			}
		} else if (is_ours(c, "instance-id")) {
			errno = 0;
			if (!text(c, s, sizeof(s)) || !s[0] || s[0] == '-' ||
			    (v = strtoul(s, &end, 10), *end || errno || v > 0xffffff)) {
				snprintf(err, errlen,
					 "<vmroam:instance-id>: not a number 0-16777215");
				return -EINVAL;
			}
			d->iid = (uint32_t)v;
			d->has_iid = true;
		} else if (is_ours(c, "fhr")) {
			if (!text(c, s, sizeof(s)) || lisp_addr_parse(s, &d->fhr) < 0 ||
			    (d->fhr.afi != LISP_AFI_IPV4 && d->fhr.afi != LISP_AFI_IPV6)) {
				snprintf(err, errlen, "<vmroam:fhr>: not an IPv4 or IPv6 address");
				return -EINVAL;
			}
			d->has_fhr = true;
		} else if (c->type == XML_ELEMENT_NODE && !is_ours(c, "address")) {
			skip(d, "an unknown element in <vmroam:vm>");
		}
	}
	/* addresses after the interfaces are known, whatever the order of the elements */
	for (const xmlNode *c = vm->children; c; c = c->next)
		if (is_ours(c, "address") && parse_address(d, c, err, errlen) < 0)
			return -EINVAL;
	if (!d->tenant[0]) {
		snprintf(err, errlen, "<vmroam:vm> without <vmroam:tenant>");
		return -EINVAL;
	}
	return 0;
}

static void silence(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int hv_domain_parse(const char *xml, size_t len, struct hv_domain *d, char *err, size_t errlen)
{
	const xmlNode *root, *vm = NULL;
	xmlDoc *doc;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (len > HV_XML_MAX || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "domain XML larger than %u bytes", HV_XML_MAX);
		return -EINVAL;
	}
	xmlSetGenericErrorFunc(NULL, silence);
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				    XML_PARSE_NOCDATA);
	if (!doc) {
		snprintf(err, errlen, "domain XML: not well-formed");
		return -EINVAL;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is(root, "domain")) {
		snprintf(err, errlen, "domain XML: the root element is not <domain>");
		rc = -EINVAL;
		goto out;
	}
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (is(c, "name")) {
			if (!text(c, d->name, sizeof(d->name)))
				d->name[0] = '\0';
		} else if (is(c, "uuid")) {
			if (!text(c, d->uuid, sizeof(d->uuid)))
				d->uuid[0] = '\0';
		} else if (is(c, "devices")) {
			for (const xmlNode *x = c->children; x; x = x->next)
				if (is(x, "interface"))
					parse_iface(d, x);
		} else if (is(c, "metadata")) {
			for (const xmlNode *x = c->children; x && !vm; x = x->next)
				if (is_ours(x, "vm"))
					vm = x;
		}
	}
	if (!d->name[0]) {
		snprintf(err, errlen, "domain XML: no <name>");
		rc = -EINVAL;
		goto out;
	}
	if (vm)
		rc = parse_ours(d, vm, err, errlen);
out:
	xmlFreeDoc(doc);
	return rc;
}
