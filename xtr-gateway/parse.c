/*
 * xtr-gateway configuration: the `router lisp` commands of the Map-Server
 * and Map-Resolver roles, on the shared IOS-style reader (lib/conf).
 * Handlers only fill struct xtr_conf; whole-file checks run at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/conf.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

enum {
	MODE_ROUTER_LISP = 1,
	MODE_SITE
};

struct parse_state {
	struct xtr_conf *c;
	struct xtr_conf_site *site;
	unsigned *site_lines; /* line of each site's first "site" command */
};

static struct parse_state *state(struct conf_parser *p)
{
	return p->arg;
}

static int cmd_site(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	struct xtr_conf *c = st->c;
	struct xtr_conf_site *s;

	(void)argc;
	if (strlen(argv[0]) >= XTR_SITE_NAME_MAX)
		return conf_error(p, "site name longer than %d characters", XTR_SITE_NAME_MAX - 1);
	for (size_t i = 0; i < c->nsites; i++) {
		if (strcmp(c->sites[i]->name, argv[0]) == 0) {
			st->site = c->sites[i]; /* re-entering a site adds to it, as IOS does */
			return 0;
		}
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", argv[0]);
	c->sites = xreallocarray(c->sites, c->nsites + 1, sizeof(*c->sites));
	st->site_lines = xreallocarray(st->site_lines, c->nsites + 1, sizeof(*st->site_lines));
	st->site_lines[c->nsites] = p->line;
	c->sites[c->nsites++] = s;
	st->site = s;
	return 0;
}

static int cmd_description(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_site *s = state(p)->site;
	size_t len = 0;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	free(s->description);
	s->description = xmalloc(len);
	s->description[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s->description, " ");
		strcat(s->description, argv[i]);
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int cmd_key(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_site *s = state(p)->site;
	const char *key = argv[argc - 1];
	size_t len = strlen(key);

	if (argc == 2 && strcmp(argv[0], "0") != 0 && strcmp(argv[0], "6") != 0)
		return conf_error(p,
				  "authentication-key: type must be 0 (clear) or 6 (hex), not '%s'",
				  argv[0]);
	if (argc == 2 && strcmp(argv[0], "6") == 0) {
		if (len == 0 || len % 2 || len / 2 > XTR_KEY_MAX)
			return conf_error(p,
					  "authentication-key 6: expected an even number of hex "
					  "digits, at most %d bytes",
					  XTR_KEY_MAX);
		for (size_t i = 0; i < len; i += 2) {
			int hi = hexval(key[i]), lo = hexval(key[i + 1]);

			if (hi < 0 || lo < 0)
				return conf_error(p, "authentication-key 6: '%s' is not hex", key);
			s->key[i / 2] = (uint8_t)(hi << 4 | lo);
		}
		s->keylen = len / 2;
	} else {
		if (len > XTR_KEY_MAX)
			return conf_error(p, "authentication-key longer than %d bytes",
					  XTR_KEY_MAX);
		memcpy(s->key, key, len);
		s->keylen = len;
	}
	s->has_key = true;
	return 0;
}

static int cmd_eid_prefix(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_site *s = state(p)->site;
	struct xtr_conf_prefix cp = { 0 };
	unsigned long iid = 0;
	int i = 0;

	if (strcasecmp(argv[0], "instance-id") == 0) {
		if (argc < 3)
			return conf_error(p,
					  "eid-prefix: instance-id N must be followed by a prefix");
		if (!conf_parse_uint(argv[1], 0, LISP_IID_DP_MAX, &iid))
			return conf_error(p, "eid-prefix: instance-id needs a number from 0 to %u",
					  LISP_IID_DP_MAX);
		i = 2;
	}
	if (i >= argc || lisp_prefix_parse(argv[i], (uint32_t)iid, &cp.p) < 0 ||
	    (cp.p.addr.afi != LISP_AFI_IPV4 && cp.p.addr.afi != LISP_AFI_IPV6))
		return conf_error(p,
				  "eid-prefix: '%s' is not an IPv4 or IPv6 prefix (host bits "
				  "must be zero)",
				  i < argc ? argv[i] : "");
	if (++i < argc) {
		if (strcasecmp(argv[i], "accept-more-specifics") != 0)
			return conf_error(p, "eid-prefix: unexpected '%s'", argv[i]);
		if (i + 1 != argc)
			return conf_error(p, "eid-prefix: unexpected '%s'", argv[i + 1]);
		cp.accept_more_specifics = true;
	}
	for (size_t j = 0; j < s->nprefixes; j++)
		if (lisp_prefix_equal(&s->prefixes[j].p, &cp.p))
			return conf_error(p, "eid-prefix %s configured twice", argv[i - 1]);
	s->prefixes = xreallocarray(s->prefixes, s->nprefixes + 1, sizeof(*s->prefixes));
	s->prefixes[s->nprefixes++] = cp;
	return 0;
}

static int cmd_allowed_locator(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_site *s = state(p)->site;
	struct lisp_addr a;

	(void)argc;
	if (lisp_addr_parse(argv[0], &a) < 0 || a.afi == LISP_AFI_MAC)
		return conf_error(p, "allowed-locator: '%s' is not an IPv4 or IPv6 address",
				  argv[0]);
	s->allowed = xreallocarray(s->allowed, s->nallowed + 1, sizeof(*s->allowed));
	s->allowed[s->nallowed++] = a;
	return 0;
}

static int cmd_strict_nonce(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	state(p)->site->strict_nonce = true;
	return 0;
}

enum {
	ROLE_MS_V4,
	ROLE_MR_V4,
	ROLE_MS_V6,
	ROLE_MR_V6
};

static int cmd_role(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	bool *flags[] = { [ROLE_MS_V4] = &c->ms_v4,
			  [ROLE_MR_V4] = &c->mr_v4,
			  [ROLE_MS_V6] = &c->ms_v6,
			  [ROLE_MR_V6] = &c->mr_v6 };

	(void)argc;
	(void)argv;
	*flags[p->cmd->data] = true;
	return 0;
}

static int cmd_listen(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	struct lisp_addr a;

	(void)argc;
	if (lisp_addr_parse(argv[0], &a) < 0 || a.afi == LISP_AFI_MAC)
		return conf_error(p, "map-server address: '%s' is not an IPv4 or IPv6 address",
				  argv[0]);
	if (c->nlisten == XTR_LISTEN_MAX)
		return conf_error(p, "at most %d map-server addresses", XTR_LISTEN_MAX);
	for (size_t i = 0; i < c->nlisten; i++)
		if (lisp_addr_equal(&c->listen[i], &a))
			return conf_error(p, "map-server address %s given twice", argv[0]);
	c->listen[c->nlisten++] = a;
	return 0;
}

static const struct conf_cmd cmds[] = {
	{ CONF_TOP, "router lisp", 0, 0, MODE_ROUTER_LISP, NULL, "", 0 },
	{ MODE_ROUTER_LISP, "site", 1, 1, MODE_SITE, cmd_site, "NAME", 0 },
	{ MODE_ROUTER_LISP, "ipv4 map-server", 0, 0, CONF_NONE, cmd_role, "", ROLE_MS_V4 },
	{ MODE_ROUTER_LISP, "ipv4 map-resolver", 0, 0, CONF_NONE, cmd_role, "", ROLE_MR_V4 },
	{ MODE_ROUTER_LISP, "ipv6 map-server", 0, 0, CONF_NONE, cmd_role, "", ROLE_MS_V6 },
	{ MODE_ROUTER_LISP, "ipv6 map-resolver", 0, 0, CONF_NONE, cmd_role, "", ROLE_MR_V6 },
	{ MODE_ROUTER_LISP, "map-server address", 1, 1, CONF_NONE, cmd_listen, "ADDRESS", 0 },
	{ MODE_SITE, "description", 1, CONF_MAX_WORDS, CONF_NONE, cmd_description, "TEXT", 0 },
	{ MODE_SITE, "authentication-key", 1, 2, CONF_NONE, cmd_key, "[0|6] KEY", 0 },
	{ MODE_SITE, "eid-prefix", 1, 4, CONF_NONE, cmd_eid_prefix,
	  "[instance-id N] PREFIX [accept-more-specifics]", 0 },
	{ MODE_SITE, "allowed-locator", 1, 1, CONF_NONE, cmd_allowed_locator, "ADDRESS", 0 },
	{ MODE_SITE, "strict-nonce", 0, 0, CONF_NONE, cmd_strict_nonce, "", 0 },
};

/* Checks that need the whole file: keys present, no prefix in two sites. */
static int check(const struct parse_state *st, const char *name, char *err, size_t errlen)
{
	const struct xtr_conf *c = st->c;

	for (size_t i = 0; i < c->nsites; i++) {
		const struct xtr_conf_site *s = c->sites[i];

		if (!s->has_key) {
			snprintf(err, errlen, "%s:%u: site %s has no authentication-key", name,
				 st->site_lines[i], s->name);
			return -EINVAL;
		}
		for (size_t j = 0; j < s->nprefixes; j++) {
			for (size_t k = 0; k < i; k++) {
				const struct xtr_conf_site *o = c->sites[k];

				for (size_t m = 0; m < o->nprefixes; m++) {
					char buf[LISP_PREFIX_STRLEN];

					if (!lisp_prefix_equal(&o->prefixes[m].p,
							       &s->prefixes[j].p))
						continue;
					snprintf(err, errlen,
						 "%s:%u: site %s: eid-prefix %s is already in site "
						 "%s",
						 name, st->site_lines[i], s->name,
						 lisp_prefix_format(&s->prefixes[j].p, buf,
								    sizeof(buf)),
						 o->name);
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

static struct xtr_conf *finish(struct parse_state *st, int rc, const char *name, char *err,
			       size_t errlen)
{
	if (rc == 0)
		rc = check(st, name, err, errlen);
	free(st->site_lines);
	if (rc < 0) {
		xtr_conf_free(st->c);
		return NULL;
	}
	return st->c;
}

struct xtr_conf *xtr_conf_parse_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct parse_state st = { .c = xcalloc(1, sizeof(struct xtr_conf)) };
	int rc = conf_parse_string(name, text, cmds, sizeof(cmds) / sizeof(cmds[0]), &st, err,
				   errlen);

	return finish(&st, rc, name, err, errlen);
}

struct xtr_conf *xtr_conf_load(const char *path, char *err, size_t errlen)
{
	struct parse_state st = { .c = xcalloc(1, sizeof(struct xtr_conf)) };
	int rc = conf_parse_file(path, cmds, sizeof(cmds) / sizeof(cmds[0]), &st, err, errlen);

	return finish(&st, rc, path, err, errlen);
}

void xtr_conf_free(struct xtr_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsites; i++) {
		free(c->sites[i]->description);
		free(c->sites[i]->prefixes);
		free(c->sites[i]->allowed);
		free(c->sites[i]);
	}
	free(c->sites);
	free(c);
}
