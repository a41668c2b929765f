/* The hypervisor's configuration (hv.h), in the routers' syntax (lib/conf). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hypervisor-hooks/hv.h"
#include "lib/conf.h"
#include "lib/xalloc.h"

enum {
	MODE_HV = 1,
	MODE_TENANT,
};

struct pstate {
	struct hv_conf *c;
	struct hv_tenant *t;
};

static struct pstate *st(struct conf_parser *p)
{
	return p->arg;
}

static int cmd_host_id(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	if (strlen(argv[0]) >= HV_NAME_MAX)
		return conf_error(p, "host-id longer than %d characters", HV_NAME_MAX - 1);
	snprintf(st(p)->c->host_id, HV_NAME_MAX, "%s", argv[0]);
	return 0;
}

static int cmd_tenant(struct conf_parser *p, int argc, char **argv)
{
	struct hv_conf *c = st(p)->c;

	(void)argc;
	if (strlen(argv[0]) >= HV_NAME_MAX)
		return conf_error(p, "tenant name longer than %d characters", HV_NAME_MAX - 1);
	for (size_t i = 0; i < c->ntenants; i++)
		if (strcmp(c->tenants[i].name, argv[0]) == 0)
			return conf_error(p, "tenant %s given twice (first at line %u)", argv[0],
					  c->tenants[i].line);
	c->tenants = xreallocarray(c->tenants, c->ntenants + 1, sizeof(*c->tenants));
	memset(&c->tenants[c->ntenants], 0, sizeof(c->tenants[0]));
	snprintf(c->tenants[c->ntenants].name, HV_NAME_MAX, "%s", argv[0]);
	c->tenants[c->ntenants].line = p->line;
	c->tenants[c->ntenants].port = HV_PORT;
	st(p)->t = &c->tenants[c->ntenants++];
	return 0;
}

static int cmd_iid(struct conf_parser *p, int argc, char **argv)
{
	unsigned long v;

	(void)argc;
	if (!conf_parse_uint(argv[0], 0, LISP_IID_DP_MAX, &v))
		return conf_error(p, "instance-id: expected 0-%u", LISP_IID_DP_MAX);
	st(p)->t->iid = (uint32_t)v;
	st(p)->t->has_iid = true;
	return 0;
}

/* key [0|hex] KEY */
static int cmd_key(struct conf_parser *p, int argc, char **argv)
{
	struct hv_tenant *t = st(p)->t;

	return conf_parse_key(p, argc == 2 ? argv[0] : NULL, argv[argc - 1], t->key, &t->keylen,
			      HV_KEY_MAX);
}

/* fhr ADDRESS [port N] */
static int cmd_fhr(struct conf_parser *p, int argc, char **argv)
{
	struct hv_tenant *t = st(p)->t;
	unsigned long port = HV_PORT;

	if (lisp_addr_parse(argv[0], &t->fhr) < 0 ||
	    (t->fhr.afi != LISP_AFI_IPV4 && t->fhr.afi != LISP_AFI_IPV6))
		return conf_error(p, "fhr: '%s' is not an IPv4 or IPv6 address", argv[0]);
	if (argc == 3 &&
	    (strcasecmp(argv[1], "port") != 0 || !conf_parse_uint(argv[2], 1, 65535, &port)))
		return conf_error(p, "fhr: expected 'ADDRESS [port 1-65535]'");
	if (argc == 2)
		return conf_error(p, "fhr: expected 'ADDRESS [port 1-65535]'");
	t->port = (uint16_t)port;
	t->has_fhr = true;
	return 0;
}

static const struct conf_cmd cmds[] = {
	{ CONF_TOP, "hypervisor", 0, 0, MODE_HV, NULL, "", 0 },
	{ MODE_HV, "host-id", 1, 1, CONF_NONE, cmd_host_id, "NAME", 0 },
	{ MODE_HV, "tenant", 1, 1, MODE_TENANT, cmd_tenant, "NAME", 0 },
	{ MODE_TENANT, "instance-id", 1, 1, CONF_NONE, cmd_iid, "N", 0 },
	{ MODE_TENANT, "key", 1, 2, CONF_NONE, cmd_key, "[0|hex] KEY", 0 },
	{ MODE_TENANT, "fhr", 1, 3, CONF_NONE, cmd_fhr, "ADDRESS [port N]", 0 },
};

static struct hv_conf *finish(struct pstate *s, int rc, const char *name, char *err, size_t errlen)
{
	struct hv_conf *c = s->c;

	for (size_t i = 0; rc == 0 && i < c->ntenants; i++) {
		const struct hv_tenant *t = &c->tenants[i];

		if (!t->has_iid || !t->keylen) {
			snprintf(err, errlen, "%s:%u: tenant %s has no %s", name, t->line, t->name,
				 !t->has_iid ? "instance-id" : "key");
			rc = -EINVAL;
		}
	}
	if (rc < 0) {
		hv_conf_free(c);
		return NULL;
	}
	if (!c->host_id[0] && gethostname(c->host_id, HV_NAME_MAX - 1) < 0)
		snprintf(c->host_id, HV_NAME_MAX, "hypervisor");
	return c;
}

struct hv_conf *hv_conf_parse_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct pstate s = { .c = xcalloc(1, sizeof(struct hv_conf)) };
	int rc = conf_parse_string(name, text, cmds, sizeof(cmds) / sizeof(cmds[0]), &s, err,
				   errlen);

	return finish(&s, rc, name, err, errlen);
}

struct hv_conf *hv_conf_load(const char *path, char *err, size_t errlen)
{
	struct pstate s = { .c = xcalloc(1, sizeof(struct hv_conf)) };
	int rc = conf_parse_file(path, cmds, sizeof(cmds) / sizeof(cmds[0]), &s, err, errlen);

	return finish(&s, rc, path, err, errlen);
}

void hv_conf_free(struct hv_conf *c)
{
	if (!c)
		return;
	free(c->tenants);
	free(c);
}

const struct hv_tenant *hv_conf_tenant(const struct hv_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ntenants; i++)
		if (strcmp(c->tenants[i].name, name) == 0)
			return &c->tenants[i];
	return NULL;
}
