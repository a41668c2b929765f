/*
 * fhr-agent configuration, in the gateway's `router lisp` syntax (lib/conf):
 *
 *   router lisp
 *    fhr-id NAME                               (default: the host name)
 *    eid-table vrf NAME instance-id N          (or: eid-table default instance-id 0)
 *     dynamic-eid NAME
 *      database-mapping PREFIX                 (repeatable)
 *      eid-notify ADDRESS key [0|hex] KEY      (one line per gateway)
 *      hypervisor-events key [0|hex] KEY       (the tenant's hypervisors' key: listen for them)
 *      eid-limit N                             (EIDs of the dynamic-eid at most; 4096)
 *      migration-hold MS                       (a leaving EID held at most; 2000, 1-10000)
 *    hypervisor-events port N                  (default 4350)
 *   interface NAME
 *    lisp mobility NAME
 *    lisp extended-subnet-mode | ip proxy-arp
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fhr-agent/fhr.h"
#include "lib/conf.h"
#include "lib/xalloc.h"

enum {
	MODE_ROUTER_LISP = 1,
	MODE_EID_TABLE,
	MODE_DYNEID,
	MODE_IFACE,
};

struct pstate {
	struct fhr_conf *c;
	uint32_t iid;
	char vrf[FHR_NAME_MAX];
	int dyn;
	struct fhr_conf_iface *iface;
};

static struct pstate *st(struct conf_parser *p)
{
	return p->arg;
}

static int cmd_fhr_id(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	if (strlen(argv[0]) >= FHR_NAME_MAX)
		return conf_error(p, "fhr-id longer than %d characters", FHR_NAME_MAX - 1);
	snprintf(st(p)->c->fhr_id, FHR_NAME_MAX, "%s", argv[0]);
	return 0;
}

/* eid-table default instance-id N | eid-table vrf NAME instance-id N */
static int cmd_eid_table(struct conf_parser *p, int argc, char **argv)
{
	unsigned long iid;
	int i = strcasecmp(argv[0], "vrf") == 0 ? 2 : 1;

	if ((i == 1 && strcasecmp(argv[0], "default") != 0) || argc != i + 2 ||
	    strcasecmp(argv[i], "instance-id") != 0 ||
	    !conf_parse_uint(argv[i + 1], 0, LISP_IID_DP_MAX, &iid))
		return conf_error(p, "eid-table: expected 'default|vrf NAME instance-id 0-%u'",
				  LISP_IID_DP_MAX);
	st(p)->iid = (uint32_t)iid;
	snprintf(st(p)->vrf, FHR_NAME_MAX, "%s", i == 2 ? argv[1] : "");
	return 0;
}

static int cmd_dynamic_eid(struct conf_parser *p, int argc, char **argv)
{
	struct fhr_conf *c = st(p)->c;
	uint32_t iid = conf_mode(p) == MODE_EID_TABLE ? st(p)->iid : 0;

	(void)argc;
	if (strlen(argv[0]) >= FHR_NAME_MAX)
		return conf_error(p, "dynamic-eid name longer than %d characters",
				  FHR_NAME_MAX - 1);
	for (size_t i = 0; i < c->ndyneids; i++) {
		if (strcmp(c->dyneids[i].name, argv[0]) != 0)
			continue;
		if (c->dyneids[i].iid != iid)
			return conf_error(p, "dynamic-eid %s is already in instance-id %u", argv[0],
					  c->dyneids[i].iid);
		st(p)->dyn = (int)i;
		return 0;
	}
	c->dyneids = xreallocarray(c->dyneids, c->ndyneids + 1, sizeof(*c->dyneids));
	memset(&c->dyneids[c->ndyneids], 0, sizeof(c->dyneids[0]));
	snprintf(c->dyneids[c->ndyneids].name, FHR_NAME_MAX, "%s", argv[0]);
	c->dyneids[c->ndyneids].iid = iid;
	if (conf_mode(p) == MODE_EID_TABLE)
		snprintf(c->dyneids[c->ndyneids].vrf, FHR_NAME_MAX, "%s", st(p)->vrf);
	c->dyneids[c->ndyneids].line = p->line;
	c->dyneids[c->ndyneids].eid_limit = FHR_EID_LIMIT_DEFAULT;
	c->dyneids[c->ndyneids].migration_hold = FHR_MIGRATION_HOLD_DEFAULT;
	st(p)->dyn = (int)c->ndyneids++;
	return 0;
}

/* database-mapping PREFIX (an FHR has no locators: its gateways do) */
static int cmd_database_mapping(struct conf_parser *p, int argc, char **argv)
{
	struct fhr_conf_dyneid *d = &st(p)->c->dyneids[st(p)->dyn];
	struct lisp_prefix pfx;

	if (argc != 1)
		return conf_error(p, "database-mapping: an FHR takes only 'PREFIX' (the locators "
				     "are its gateways')");
	if (lisp_prefix_parse(argv[0], d->iid, &pfx) < 0 ||
	    (pfx.addr.afi != LISP_AFI_IPV4 && pfx.addr.afi != LISP_AFI_IPV6))
		return conf_error(p,
				  "database-mapping: '%s' is not an IPv4 or IPv6 prefix (host "
				  "bits must be zero)",
				  argv[0]);
	for (size_t i = 0; i < d->nprefixes; i++)
		if (lisp_prefix_equal(&d->prefixes[i], &pfx))
			return conf_error(p, "database-mapping %s given twice", argv[0]);
	d->prefixes = xreallocarray(d->prefixes, d->nprefixes + 1, sizeof(*d->prefixes));
	d->prefixes[d->nprefixes++] = pfx;
	return 0;
}

/* eid-notify ADDRESS key [0|hex] KEY */
static int cmd_eid_notify(struct conf_parser *p, int argc, char **argv)
{
	struct fhr_conf_dyneid *d = &st(p)->c->dyneids[st(p)->dyn];
	struct fhr_conf_gw g = { 0 };

	if (lisp_addr_parse(argv[0], &g.addr) < 0 ||
	    (g.addr.afi != LISP_AFI_IPV4 && g.addr.afi != LISP_AFI_IPV6))
		return conf_error(p, "eid-notify: '%s' is not an IPv4 or IPv6 address", argv[0]);
	if (strcasecmp(argv[1], "key") != 0)
		return conf_error(p, "eid-notify: expected 'ADDRESS key [0|hex] KEY'");
	if (conf_parse_key(p, argc == 4 ? argv[2] : NULL, argv[argc - 1], g.key, &g.keylen,
			   FHR_KEY_MAX) < 0)
		return -EINVAL;
	for (size_t i = 0; i < d->ngws; i++)
		if (lisp_addr_equal(&d->gws[i].addr, &g.addr))
			return conf_error(p, "eid-notify %s given twice", argv[0]);
	if (d->ngws == FHR_GW_MAX)
		return conf_error(p, "more than %d eid-notify gateways", FHR_GW_MAX);
	d->gws[d->ngws++] = g;
	return 0;
}

/* eid-limit N: the EIDs of the dynamic-eid the agent keeps at most (an ND flood stops there) */
static int cmd_eid_limit(struct conf_parser *p, int argc, char **argv)
{
	unsigned long n;

	(void)argc;
	if (!conf_parse_uint(argv[0], 1, FHR_EID_LIMIT_MAX, &n))
		return conf_error(p, "eid-limit: a number from 1 to %d", FHR_EID_LIMIT_MAX);
	st(p)->c->dyneids[st(p)->dyn].eid_limit = (unsigned)n;
	return 0;
}

/*
 * migration-hold MS: how long an EID whose VM paused to leave (a live
 * migration's switchover) is held at most, waiting for the MovedAway
 */
static int cmd_migration_hold(struct conf_parser *p, int argc, char **argv)
{
	unsigned long n;

	(void)argc;
	if (!conf_parse_uint(argv[0], 1, FHR_MIGRATION_HOLD_MAX, &n))
		return conf_error(p, "migration-hold: milliseconds from 1 to %d",
				  FHR_MIGRATION_HOLD_MAX);
	st(p)->c->dyneids[st(p)->dyn].migration_hold = (unsigned)n;
	return 0;
}

/* hypervisor-events key [0|hex] KEY (dynamic-eid) | hypervisor-events port N (router lisp) */
static int cmd_hv(struct conf_parser *p, int argc, char **argv)
{
	struct fhr_conf_dyneid *d;
	unsigned long port;

	if (conf_mode(p) == MODE_ROUTER_LISP) {
		if (argc != 2 || strcasecmp(argv[0], "port") != 0 ||
		    !conf_parse_uint(argv[1], 1, 65535, &port))
			return conf_error(p, "hypervisor-events: expected 'port 1-65535'");
		st(p)->c->hv_port = (uint16_t)port;
		return 0;
	}
	if (strcasecmp(argv[0], "key") != 0 || argc < 2 || argc > 3)
		return conf_error(p, "hypervisor-events: expected 'key [0|hex] KEY'");
	d = &st(p)->c->dyneids[st(p)->dyn];
	return conf_parse_key(p, argc == 3 ? argv[1] : NULL, argv[argc - 1], d->hv_key,
			      &d->hv_keylen, FHR_KEY_MAX);
}

static int cmd_interface(struct conf_parser *p, int argc, char **argv)
{
	struct fhr_conf *c = st(p)->c;

	(void)argc;
	if (strlen(argv[0]) >= FHR_NAME_MAX)
		return conf_error(p, "interface name longer than %d characters", FHR_NAME_MAX - 1);
	for (size_t i = 0; i < c->nifaces; i++) {
		if (strcmp(c->ifaces[i].name, argv[0]) == 0) {
			st(p)->iface = &c->ifaces[i];
			return 0;
		}
	}
	c->ifaces = xreallocarray(c->ifaces, c->nifaces + 1, sizeof(*c->ifaces));
	memset(&c->ifaces[c->nifaces], 0, sizeof(c->ifaces[0]));
	snprintf(c->ifaces[c->nifaces].name, FHR_NAME_MAX, "%s", argv[0]);
	c->ifaces[c->nifaces].line = p->line;
	st(p)->iface = &c->ifaces[c->nifaces++];
	return 0;
}

static int cmd_mobility(struct conf_parser *p, int argc, char **argv)
{
	struct fhr_conf_iface *f = st(p)->iface;

	(void)argc;
	if (strlen(argv[0]) >= FHR_NAME_MAX)
		return conf_error(p, "dynamic-eid name longer than %d characters",
				  FHR_NAME_MAX - 1);
	snprintf(f->mobility, sizeof(f->mobility), "%s", argv[0]);
	f->line = p->line;
	return 0;
}

static int cmd_mode(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (p->cmd->data)
		st(p)->iface->proxy_arp = true;
	else
		st(p)->iface->extended_subnet = true;
	return 0;
}

/* nfqueue N */
static int cmd_nfqueue(struct conf_parser *p, int argc, char **argv)
{
	unsigned long n;

	(void)argc;
	if (!conf_parse_uint(argv[0], 0, 65535, &n))
		return conf_error(p, "nfqueue: expected a queue number 0-65535");
	st(p)->c->nfqueue = (int)n;
	return 0;
}

static const struct conf_cmd cmds[] = {
	{ CONF_TOP, "router lisp", 0, 0, MODE_ROUTER_LISP, NULL, "", 0 },
	{ MODE_ROUTER_LISP, "nfqueue", 1, 1, CONF_NONE, cmd_nfqueue, "N", 0 },
	{ MODE_ROUTER_LISP, "fhr-id", 1, 1, CONF_NONE, cmd_fhr_id, "NAME", 0 },
	{ MODE_ROUTER_LISP, "eid-table", 3, 4, MODE_EID_TABLE, cmd_eid_table,
	  "default|vrf NAME instance-id N", 0 },
	{ MODE_ROUTER_LISP, "dynamic-eid", 1, 1, MODE_DYNEID, cmd_dynamic_eid, "NAME", 0 },
	{ MODE_EID_TABLE, "dynamic-eid", 1, 1, MODE_DYNEID, cmd_dynamic_eid, "NAME", 0 },
	{ MODE_DYNEID, "database-mapping", 1, 6, CONF_NONE, cmd_database_mapping, "PREFIX", 0 },
	{ MODE_DYNEID, "eid-notify", 3, 4, CONF_NONE, cmd_eid_notify, "ADDRESS key [0|hex] KEY",
	  0 },
	{ MODE_DYNEID, "hypervisor-events", 2, 3, CONF_NONE, cmd_hv, "key [0|hex] KEY", 0 },
	{ MODE_DYNEID, "eid-limit", 1, 1, CONF_NONE, cmd_eid_limit, "N", 0 },
	{ MODE_DYNEID, "migration-hold", 1, 1, CONF_NONE, cmd_migration_hold, "MS", 0 },
	{ MODE_ROUTER_LISP, "hypervisor-events", 2, 2, CONF_NONE, cmd_hv, "port N", 0 },
	{ CONF_TOP, "interface", 1, 1, MODE_IFACE, cmd_interface, "NAME", 0 },
	{ MODE_IFACE, "lisp mobility", 1, 1, CONF_NONE, cmd_mobility, "NAME", 0 },
	{ MODE_IFACE, "lisp extended-subnet-mode", 0, 0, CONF_NONE, cmd_mode, "", 0 },
	{ MODE_IFACE, "ip proxy-arp", 0, 0, CONF_NONE, cmd_mode, "", 1 },
};

/* Whole-file checks: every dynamic-eid has prefixes and gateways; mobility names one. */
static int check(const struct fhr_conf *c, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->ndyneids; i++) {
		const struct fhr_conf_dyneid *d = &c->dyneids[i];

		if (!d->nprefixes || !d->ngws) {
			snprintf(err, errlen, "%s:%u: dynamic-eid %s has no %s", name, d->line,
				 d->name,
				 !d->nprefixes ? "database-mapping" : "eid-notify gateway");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->ndyneids; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct fhr_conf_dyneid *a = &c->dyneids[j], *b = &c->dyneids[i];

			if (a->iid == b->iid && a->hv_keylen && b->hv_keylen &&
			    (a->hv_keylen != b->hv_keylen ||
			     memcmp(a->hv_key, b->hv_key, a->hv_keylen) != 0)) {
				snprintf(err, errlen,
					 "%s:%u: dynamic-eid %s: another hypervisor-events key "
					 "than dynamic-eid %s of the same instance-id %u",
					 name, b->line, b->name, a->name, a->iid);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < c->nifaces; i++) {
		const struct fhr_conf_iface *f = &c->ifaces[i];
		bool found = !f->mobility[0];

		for (size_t j = 0; j < c->ndyneids && !found; j++)
			found = strcmp(c->dyneids[j].name, f->mobility) == 0;
		if (!found) {
			snprintf(err, errlen,
				 "%s:%u: interface %s: lisp mobility %s: no such dynamic-eid", name,
				 f->line, f->name, f->mobility);
			return -EINVAL;
		}
		if (f->extended_subnet && f->proxy_arp) {
			snprintf(err, errlen,
				 "%s:%u: interface %s: lisp extended-subnet-mode and ip proxy-arp "
				 "exclude each other",
				 name, f->line, f->name);
			return -EINVAL;
		}
	}
	return 0;
}

static struct fhr_conf *finish(struct pstate *s, int rc, const char *name, char *err, size_t errlen)
{
	if (rc == 0)
		rc = check(s->c, name, err, errlen);
	if (rc < 0) {
		fhr_conf_free(s->c);
		return NULL;
	}
	if (!s->c->fhr_id[0] && gethostname(s->c->fhr_id, FHR_NAME_MAX - 1) < 0)
		snprintf(s->c->fhr_id, FHR_NAME_MAX, "fhr-agent");
	return s->c;
}

struct fhr_conf *fhr_conf_parse_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct pstate s = { .c = xcalloc(1, sizeof(struct fhr_conf)) };
	int rc;

	s.c->nfqueue = -1;
	s.c->hv_port = FHR_HV_PORT;
	rc = conf_parse_string(name, text, cmds, sizeof(cmds) / sizeof(cmds[0]), &s, err, errlen);

	return finish(&s, rc, name, err, errlen);
}

struct fhr_conf *fhr_conf_load(const char *path, char *err, size_t errlen)
{
	struct pstate s = { .c = xcalloc(1, sizeof(struct fhr_conf)) };
	int rc;

	s.c->nfqueue = -1;
	s.c->hv_port = FHR_HV_PORT;
	rc = conf_parse_file(path, cmds, sizeof(cmds) / sizeof(cmds[0]), &s, err, errlen);

	return finish(&s, rc, path, err, errlen);
}

void fhr_conf_free(struct fhr_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ndyneids; i++)
		free(c->dyneids[i].prefixes);
	free(c->dyneids);
	free(c->ifaces);
	free(c);
}

void fhr_conf_print(const struct fhr_conf *c, FILE *f)
{
	char buf[LISP_PREFIX_STRLEN];

	fprintf(f, "router lisp\n fhr-id %s\n", c->fhr_id);
	if (c->nfqueue >= 0)
		fprintf(f, " nfqueue %d\n", c->nfqueue);
	if (c->hv_port != FHR_HV_PORT)
		fprintf(f, " hypervisor-events port %u\n", c->hv_port);
	for (size_t i = 0; i < c->ndyneids; i++) {
		const struct fhr_conf_dyneid *d = &c->dyneids[i];

		if (d->vrf[0])
			fprintf(f, " eid-table vrf %s instance-id %u\n", d->vrf, d->iid);
		else
			fprintf(f, " eid-table default instance-id %u\n", d->iid);
		fprintf(f, "  dynamic-eid %s\n", d->name);
		for (size_t j = 0; j < d->nprefixes; j++) {
			struct lisp_prefix bare = d->prefixes[j];

			bare.iid = 0;
			fprintf(f, "   database-mapping %s\n",
				lisp_prefix_format(&bare, buf, sizeof(buf)));
		}
		for (size_t j = 0; j < d->ngws; j++) {
			fprintf(f, "   eid-notify %s key hex ",
				lisp_addr_format(&d->gws[j].addr, buf, sizeof(buf)));
			for (size_t k = 0; k < d->gws[j].keylen; k++)
				fprintf(f, "%02x", d->gws[j].key[k]);
			fputc('\n', f);
		}
		if (d->hv_keylen) {
			fprintf(f, "   hypervisor-events key hex ");
			for (size_t k = 0; k < d->hv_keylen; k++)
				fprintf(f, "%02x", d->hv_key[k]);
			fputc('\n', f);
		}
		if (d->eid_limit != FHR_EID_LIMIT_DEFAULT)
			fprintf(f, "   eid-limit %u\n", d->eid_limit);
		if (d->migration_hold != FHR_MIGRATION_HOLD_DEFAULT)
			fprintf(f, "   migration-hold %u\n", d->migration_hold);
		fprintf(f, "   exit\n  exit\n");
	}
	fprintf(f, " exit\n");
	for (size_t i = 0; i < c->nifaces; i++) {
		const struct fhr_conf_iface *x = &c->ifaces[i];

		fprintf(f, "interface %s\n", x->name);
		if (x->mobility[0])
			fprintf(f, " lisp mobility %s\n", x->mobility);
		if (x->extended_subnet)
			fprintf(f, " lisp extended-subnet-mode\n");
		if (x->proxy_arp)
			fprintf(f, " ip proxy-arp\n");
		fprintf(f, " exit\n");
	}
}
