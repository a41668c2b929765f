/*
 * xtr-gateway configuration: the `router lisp` commands of every role
 * (Map-Server and Map-Resolver sites, ETR database-mappings and map-servers,
 * ITR map-resolvers and map-cache, dynamic EIDs, proxy xTR, data plane,
 * limits) and the interfaces, on the shared IOS-style reader (lib/conf).
 * Handlers only fill struct xtr_conf (conf/conf.h); whole-file checks run
 * at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/conf.h"
#include "lib/lisp_auth.h"
#include "lib/xalloc.h"
#include "xtr-gateway/xtr.h"

enum {
	MODE_ROUTER_LISP = 1,
	MODE_SITE,
	MODE_LOCSET,
	MODE_EID_TABLE,
	MODE_DYNEID,
	MODE_IFACE,
	MODE_SUBSCRIBER,
};

struct parse_state {
	struct xtr_conf *c;
	struct xtr_conf_site *site;
	struct xtr_conf_locset *locset;
	uint32_t iid; /* of the eid-table being configured */
	int dyn;      /* the dynamic-eid being configured */
	struct xtr_conf_iface *iface;
	unsigned *site_lines;		 /* line of each site's first "site" command */
	struct xtr_conf_subscriber *sub; /* the subscriber being configured */
};

static struct parse_state *state(struct conf_parser *p)
{
	return p->arg;
}

static int cmd_site(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	struct xtr_conf_msmr *c = &st->c->msmr;
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
	s->strict_nonce = true; /* RFC 9301 §5.6; `no strict-nonce` for peers that do not count */
	c->sites = xreallocarray(c->sites, c->nsites + 1, sizeof(*c->sites));
	st->site_lines = xreallocarray(st->site_lines, c->nsites + 1, sizeof(*st->site_lines));
	st->site_lines[c->nsites] = p->line;
	c->sites[c->nsites++] = s;
	st->site = s;
	return 0;
}

/* description TEXT (a site's or a subscriber's): the words, one space apart, in *dst. */
static void set_description(char **dst, int argc, char **argv)
{
	size_t len = 0;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	free(*dst);
	*dst = xmalloc(len);
	(*dst)[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(*dst, " ");
		strcat(*dst, argv[i]);
	}
}

/* authentication-key [0|hex] KEY (a site's or a subscriber's) */
static int set_key(struct conf_parser *p, int argc, char **argv, uint8_t *key, size_t *keylen,
		   bool *has)
{
	if (conf_parse_key(p, argc == 2 ? argv[0] : NULL, argv[argc - 1], key, keylen,
			   XTR_KEY_MAX) < 0)
		return -EINVAL;
	*has = true;
	return 0;
}

static int cmd_description(struct conf_parser *p, int argc, char **argv)
{
	set_description(&state(p)->site->description, argc, argv);
	return 0;
}

static int cmd_key(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_site *s = state(p)->site;

	return set_key(p, argc, argv, s->key, &s->keylen, &s->has_key);
}

/* eid-notify authentication-key [0|hex] KEY (in a dynamic-eid) */
static int cmd_eid_notify_key(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_dyneid *d = &state(p)->c->dyneids[state(p)->dyn];

	if (conf_parse_key(p, argc == 2 ? argv[0] : NULL, argv[argc - 1], d->notify_key,
			   &d->notify_keylen, XTR_KEY_MAX) < 0)
		return -EINVAL;
	d->has_notify_key = true;
	return 0;
}

/* eid-notify peer-limit N (in a dynamic-eid): first-hop routers it takes notifications from */
static int cmd_eid_notify_peers(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_dyneid *d = &state(p)->c->dyneids[state(p)->dyn];
	unsigned long n;

	(void)argc;
	if (!conf_parse_uint(argv[0], 1, XTR_NOTIFY_PEERS_MAX, &n))
		return conf_error(p, "eid-notify peer-limit: a number from 1 to %d",
				  XTR_NOTIFY_PEERS_MAX);
	d->notify_peer_limit = (unsigned)n;
	return 0;
}

/* learning data-plane | learning timeout N | host-limit N (in a dynamic-eid) */
static int cmd_dyn_learning(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_dyneid *d = &state(p)->c->dyneids[state(p)->dyn];
	unsigned long n;

	(void)argc;
	if (p->cmd->data == 0) {
		d->learn_data = true;
		return 0;
	}
	if (p->cmd->data == 1) {
		if (!conf_parse_uint(argv[0], XTR_DYN_TIMEOUT_MIN, XTR_DYN_TIMEOUT_MAX, &n))
			return conf_error(p, "learning timeout: expected %d-%d seconds",
					  XTR_DYN_TIMEOUT_MIN, XTR_DYN_TIMEOUT_MAX);
		d->learn_timeout = (unsigned)n;
		return 0;
	}
	if (!conf_parse_uint(argv[0], 1, ETR_DYN_MAX, &n))
		return conf_error(p, "host-limit: expected 1-%d", ETR_DYN_MAX);
	d->host_limit = (unsigned)n;
	return 0;
}

/* migration-hold MS [packets N] [bytes N] | no migration-hold (in a dynamic-eid) */
static int cmd_dyn_hold(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_dyneid *d = &state(p)->c->dyneids[state(p)->dyn];
	unsigned long n;

	if (p->cmd->data == 1) {
		d->hold_ms = 0;
		return 0;
	}
	if (!conf_parse_uint(argv[0], 1, XTR_MHOLD_MS_MAX, &n))
		return conf_error(p, "migration-hold: expected 1-%d milliseconds",
				  XTR_MHOLD_MS_MAX);
	d->hold_ms = (unsigned)n;
	for (int i = 1; i < argc; i += 2) {
		bool packets = strcasecmp(argv[i], "packets") == 0;

		if (!packets && strcasecmp(argv[i], "bytes") != 0)
			return conf_error(p, "migration-hold: unexpected '%s'", argv[i]);
		if (i + 1 >= argc)
			return conf_error(p, "migration-hold: %s needs a number", argv[i]);
		if (packets && !conf_parse_uint(argv[i + 1], 1, XTR_MHOLD_PACKETS_MAX, &n))
			return conf_error(p, "migration-hold packets: expected 1-%d",
					  XTR_MHOLD_PACKETS_MAX);
		if (!packets && !conf_parse_uint(argv[i + 1], 1500, XTR_MHOLD_BYTES_MAX, &n))
			return conf_error(p, "migration-hold bytes: expected 1500-%u",
					  XTR_MHOLD_BYTES_MAX);
		*(packets ? &d->hold_packets : &d->hold_bytes) = (unsigned)n;
	}
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

/* [no] strict-nonce: the monotonic Map-Register nonce check, on by default (data 1: "no"). */
static int cmd_strict_nonce(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	state(p)->site->strict_nonce = !p->cmd->data;
	return 0;
}

/* An xTR-ID: 32 hex digits. */
static bool parse_xtr_id(const char *s, uint8_t id[16])
{
	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
		return false;
	for (int i = 0; i < 16; i++)
		sscanf(s + 2 * i, "%2hhx", &id[i]);
	return true;
}

/* subscriber NAME: an ITR that may subscribe to mappings (RFC 9437) */
static int cmd_subscriber(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	struct xtr_conf_msmr *c = &st->c->msmr;
	struct xtr_conf_subscriber *s;

	(void)argc;
	if (strlen(argv[0]) >= XTR_SITE_NAME_MAX)
		return conf_error(p, "subscriber name longer than %d characters",
				  XTR_SITE_NAME_MAX - 1);
	for (size_t i = 0; i < c->nsubscribers; i++) {
		if (strcmp(c->subscribers[i]->name, argv[0]) == 0) {
			st->sub = c->subscribers[i];
			return 0;
		}
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", argv[0]);
	s->limit = XTR_SUB_LIMIT_DEFAULT;
	s->line = p->line;
	c->subscribers =
		xreallocarray(c->subscribers, c->nsubscribers + 1, sizeof(*c->subscribers));
	c->subscribers[c->nsubscribers++] = s;
	st->sub = s;
	return 0;
}

static int cmd_sub_description(struct conf_parser *p, int argc, char **argv)
{
	set_description(&state(p)->sub->description, argc, argv);
	return 0;
}

static int cmd_sub_key(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_subscriber *s = state(p)->sub;

	return set_key(p, argc, argv, s->key, &s->keylen, &s->has_key);
}

/* xtr-id HEX [site-id N] */
static int cmd_sub_xtr_id(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_msmr *c = &state(p)->c->msmr;
	struct xtr_conf_subscriber *s = state(p)->sub;
	struct xtr_conf_xtr_id x = { 0 };
	unsigned long v;

	if (!parse_xtr_id(argv[0], x.id))
		return conf_error(p, "xtr-id: '%s' is not 32 hex digits", argv[0]);
	if (argc == 2 || (argc == 3 && strcmp(argv[1], "site-id") != 0))
		return conf_error(p, "xtr-id HEX [site-id N]");
	if (argc == 3) {
		if (!conf_parse_uint(argv[2], 0, UINT64_MAX, &v))
			return conf_error(p, "site-id: '%s' is not a number below 2^64", argv[2]);
		x.site_id = v;
		x.has_site_id = true;
	}
	for (size_t i = 0; i < c->nsubscribers; i++)
		for (size_t j = 0; j < c->subscribers[i]->nids; j++)
			if (memcmp(c->subscribers[i]->ids[j].id, x.id, 16) == 0)
				return conf_error(p, "xtr-id %s is already subscriber %s's",
						  argv[0], c->subscribers[i]->name);
	s->ids = xreallocarray(s->ids, s->nids + 1, sizeof(*s->ids));
	s->ids[s->nids++] = x;
	return 0;
}

/* itr-rloc ADDRESS: an ITR-RLOC the subscriber may name (where its publications go) */
static int cmd_sub_rloc(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_subscriber *s = state(p)->sub;
	struct lisp_addr a;

	(void)argc;
	if (lisp_addr_parse(argv[0], &a) < 0 || (a.afi != LISP_AFI_IPV4 && a.afi != LISP_AFI_IPV6))
		return conf_error(p, "itr-rloc: '%s' is not an IPv4 or IPv6 address", argv[0]);
	s->rlocs = xreallocarray(s->rlocs, s->nrlocs + 1, sizeof(*s->rlocs));
	s->rlocs[s->nrlocs++] = a;
	return 0;
}

static int cmd_sub_limit(struct conf_parser *p, int argc, char **argv)
{
	unsigned long v;

	(void)argc;
	if (!conf_parse_uint(argv[0], 1, XTR_SUB_LIMIT_MAX, &v))
		return conf_error(p, "subscription-limit: '%s' is not a number in 1..%u", argv[0],
				  XTR_SUB_LIMIT_MAX);
	state(p)->sub->limit = (unsigned)v;
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
	bool *flags[] = { [ROLE_MS_V4] = &c->msmr.ms_v4,
			  [ROLE_MR_V4] = &c->msmr.mr_v4,
			  [ROLE_MS_V6] = &c->msmr.ms_v6,
			  [ROLE_MR_V6] = &c->msmr.mr_v6 };

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

/* metrics listen ADDRESS port N: the Prometheus listener */
static int cmd_metrics(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	unsigned long port;

	(void)argc;
	if (lisp_addr_parse(argv[0], &c->metrics_addr) < 0 || c->metrics_addr.afi == LISP_AFI_MAC)
		return conf_error(p, "metrics listen: '%s' is not an IPv4 or IPv6 address",
				  argv[0]);
	if (strcasecmp(argv[1], "port") != 0 || !conf_parse_uint(argv[2], 1, 65535, &port))
		return conf_error(p, "metrics listen ADDRESS port N: expected a port 1-65535");
	c->metrics_port = (uint16_t)port;
	return 0;
}

/* "priority P weight W" at argv[0..3]. */
static int prio_weight(struct conf_parser *p, int argc, char **argv, struct xtr_conf_locator *l)
{
	unsigned long pr, w;

	if (argc != 4 || strcasecmp(argv[0], "priority") != 0 ||
	    !conf_parse_uint(argv[1], 0, 255, &pr) || strcasecmp(argv[2], "weight") != 0 ||
	    !conf_parse_uint(argv[3], 0, 255, &w))
		return conf_error(p, "%s: expected 'priority 0-255 weight 0-255'",
				  strcmp(p->cmd->words, "*") == 0 ? "locator" : p->cmd->words);
	l->priority = (uint8_t)pr;
	l->weight = (uint8_t)w;
	return 0;
}

static int cmd_locator_set(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	struct xtr_conf *c = st->c;

	(void)argc;
	if (strlen(argv[0]) >= XTR_SITE_NAME_MAX)
		return conf_error(p, "locator-set name longer than %d characters",
				  XTR_SITE_NAME_MAX - 1);
	for (size_t i = 0; i < c->nlocsets; i++) {
		if (strcmp(c->locsets[i].name, argv[0]) == 0) {
			st->locset = &c->locsets[i];
			return 0;
		}
	}
	c->locsets = xreallocarray(c->locsets, c->nlocsets + 1, sizeof(*c->locsets));
	st->locset = &c->locsets[c->nlocsets++];
	memset(st->locset, 0, sizeof(*st->locset));
	snprintf(st->locset->name, sizeof(st->locset->name), "%s", argv[0]);
	return 0;
}

static void add_locator(struct xtr_conf_locator **v, size_t *n, const struct xtr_conf_locator *l)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = *l;
}

/* ipv4-interface|ipv6-interface NAME priority P weight W */
static int cmd_loc_interface(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_locset *ls = state(p)->locset;
	struct xtr_conf_locator l = { .if_afi = (uint16_t)p->cmd->data };

	if (strlen(argv[0]) >= XTR_IFNAME_MAX)
		return conf_error(p, "interface name '%s' too long", argv[0]);
	snprintf(l.ifname, sizeof(l.ifname), "%s", argv[0]);
	if (prio_weight(p, argc - 1, argv + 1, &l) < 0)
		return -EINVAL;
	add_locator(&ls->locs, &ls->nlocs, &l);
	return 0;
}

/* ADDRESS priority P weight W */
static int cmd_loc_address(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_locset *ls = state(p)->locset;
	struct xtr_conf_locator l = { 0 };

	if (lisp_addr_parse(argv[0], &l.addr) < 0 || l.addr.afi == LISP_AFI_MAC)
		return conf_error(p, "locator-set %s: '%s' is neither a command nor an address",
				  ls->name, argv[0]);
	if (prio_weight(p, argc - 1, argv + 1, &l) < 0)
		return -EINVAL;
	add_locator(&ls->locs, &ls->nlocs, &l);
	return 0;
}

/* eid-table default instance-id N | eid-table vrf NAME instance-id N */
static int cmd_eid_table(struct conf_parser *p, int argc, char **argv)
{
	unsigned long iid;
	int i = strcasecmp(argv[0], "vrf") == 0 ? 2 : 1;
	const char *vrf = i == 2 ? argv[1] : "";
	struct xtr_conf *c = state(p)->c;

	if ((i == 1 && strcasecmp(argv[0], "default") != 0) || argc != i + 2 ||
	    strcasecmp(argv[i], "instance-id") != 0 ||
	    !conf_parse_uint(argv[i + 1], 0, LISP_IID_DP_MAX, &iid) ||
	    strlen(vrf) >= XTR_SITE_NAME_MAX)
		return conf_error(p, "eid-table: expected 'default|vrf NAME instance-id 0-%u'",
				  LISP_IID_DP_MAX);
	state(p)->iid = (uint32_t)iid;
	for (size_t j = 0; j < c->neidtables; j++) {
		if (c->eidtables[j].iid != iid && strcmp(c->eidtables[j].vrf, vrf) != 0)
			continue;
		if (c->eidtables[j].iid != iid || strcmp(c->eidtables[j].vrf, vrf) != 0)
			return conf_error(p,
					  "eid-table: instance-id %lu and vrf '%s' already belong "
					  "to another eid-table",
					  iid, vrf);
		return 0;
	}
	c->eidtables = xreallocarray(c->eidtables, c->neidtables + 1, sizeof(*c->eidtables));
	c->eidtables[c->neidtables].iid = (uint32_t)iid;
	snprintf(c->eidtables[c->neidtables].vrf, XTR_SITE_NAME_MAX, "%s", vrf);
	c->neidtables++;
	return 0;
}

static struct xtr_conf_dbmap *dbmap_for(struct xtr_conf *c, const struct lisp_prefix *pfx, int dyn)
{
	for (size_t i = 0; i < c->ndbmaps; i++)
		if (lisp_prefix_equal(&c->dbmaps[i].p, pfx))
			return c->dbmaps[i].dyn == dyn ? &c->dbmaps[i] : NULL;
	c->dbmaps = xreallocarray(c->dbmaps, c->ndbmaps + 1, sizeof(*c->dbmaps));
	memset(&c->dbmaps[c->ndbmaps], 0, sizeof(c->dbmaps[0]));
	c->dbmaps[c->ndbmaps].p = *pfx;
	c->dbmaps[c->ndbmaps].dyn = dyn;
	return &c->dbmaps[c->ndbmaps++];
}

/* dynamic-eid NAME (in an eid-table, or under router lisp for instance-id 0) */
static int cmd_dynamic_eid(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	struct xtr_conf *c = st->c;
	uint32_t iid = conf_mode(p) == MODE_EID_TABLE ? st->iid : 0;

	(void)argc;
	if (strlen(argv[0]) >= XTR_SITE_NAME_MAX)
		return conf_error(p, "dynamic-eid name longer than %d characters",
				  XTR_SITE_NAME_MAX - 1);
	for (size_t i = 0; i < c->ndyneids; i++) {
		if (strcmp(c->dyneids[i].name, argv[0]) != 0)
			continue;
		if (c->dyneids[i].iid != iid)
			return conf_error(p, "dynamic-eid %s is already in instance-id %u", argv[0],
					  c->dyneids[i].iid);
		st->dyn = (int)i;
		return 0;
	}
	c->dyneids = xreallocarray(c->dyneids, c->ndyneids + 1, sizeof(*c->dyneids));
	memset(&c->dyneids[c->ndyneids], 0, sizeof(c->dyneids[0]));
	snprintf(c->dyneids[c->ndyneids].name, XTR_SITE_NAME_MAX, "%s", argv[0]);
	c->dyneids[c->ndyneids].iid = iid;
	c->dyneids[c->ndyneids].line = p->line;
	c->dyneids[c->ndyneids].learn_timeout = XTR_DYN_TIMEOUT_DEFAULT;
	c->dyneids[c->ndyneids].host_limit = XTR_DYN_HOST_LIMIT_DEFAULT;
	c->dyneids[c->ndyneids].notify_peer_limit = XTR_NOTIFY_PEERS_DEFAULT;
	c->dyneids[c->ndyneids].hold_ms = XTR_MHOLD_MS_DEFAULT;
	c->dyneids[c->ndyneids].hold_packets = XTR_MHOLD_PACKETS_DEFAULT;
	c->dyneids[c->ndyneids].hold_bytes = XTR_MHOLD_BYTES_DEFAULT;
	st->dyn = (int)c->ndyneids++;
	return 0;
}

/* interface NAME */
static int cmd_interface(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	struct xtr_conf_iface *f;

	(void)argc;
	if (strlen(argv[0]) >= XTR_IFNAME_MAX)
		return conf_error(p, "interface name longer than %d characters",
				  XTR_IFNAME_MAX - 1);
	for (size_t i = 0; i < c->nifaces; i++) {
		if (strcmp(c->ifaces[i].name, argv[0]) == 0) {
			state(p)->iface = &c->ifaces[i];
			return 0;
		}
	}
	c->ifaces = xreallocarray(c->ifaces, c->nifaces + 1, sizeof(*c->ifaces));
	f = &c->ifaces[c->nifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", argv[0]);
	f->line = p->line;
	state(p)->iface = f;
	return 0;
}

/* lisp mobility NAME */
static int cmd_lisp_mobility(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_iface *f = state(p)->iface;

	(void)argc;
	if (strlen(argv[0]) >= XTR_SITE_NAME_MAX)
		return conf_error(p, "dynamic-eid name longer than %d characters",
				  XTR_SITE_NAME_MAX - 1);
	if (f->mobility[0] && strcmp(f->mobility, argv[0]) != 0)
		return conf_error(p, "interface %s: already lisp mobility %s", f->name,
				  f->mobility);
	snprintf(f->mobility, sizeof(f->mobility), "%s", argv[0]);
	f->line = p->line;
	return 0;
}

static int cmd_extended_subnet(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	state(p)->iface->extended_subnet = true;
	return 0;
}

/* ipv4|ipv6 use-petr ADDRESS [priority P weight W] */
static int cmd_use_petr(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	uint16_t afi = (uint16_t)p->cmd->data;
	struct xtr_conf_locator l = { .priority = 1, .weight = 100 };

	if (lisp_addr_parse(argv[0], &l.addr) < 0 || l.addr.afi != afi)
		return conf_error(p, "%s: '%s' is not an %s address", p->cmd->words, argv[0],
				  afi == LISP_AFI_IPV4 ? "IPv4" : "IPv6");
	if (argc != 1 && argc != 5)
		return conf_error(p, "%s: expected 'ADDRESS [priority P weight W]'", p->cmd->words);
	if (argc == 5 && prio_weight(p, argc - 1, argv + 1, &l) < 0)
		return -EINVAL;
	for (size_t i = 0; i < c->dp.npetrs; i++)
		if (lisp_addr_equal(&c->dp.petrs[i].addr, &l.addr))
			return conf_error(p, "use-petr %s given twice", argv[0]);
	if (c->dp.npetrs == XTR_PETR_MAX)
		return conf_error(p, "more than %d use-petr", XTR_PETR_MAX);
	c->dp.petrs[c->dp.npetrs++] = (struct xtr_conf_petr){
		.addr = l.addr, .priority = l.priority, .weight = l.weight, .line = p->line
	};
	return 0;
}

/* ipv4|ipv6 proxy-itr ADDRESS [ADDRESS]: one locator of each family at most */
static int cmd_proxy_itr(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;

	for (int i = 0; i < argc; i++) {
		struct lisp_addr a;

		if (lisp_addr_parse(argv[i], &a) < 0 ||
		    (a.afi != LISP_AFI_IPV4 && a.afi != LISP_AFI_IPV6))
			return conf_error(p, "%s: '%s' is not an IPv4 or IPv6 address",
					  p->cmd->words, argv[i]);
		*(a.afi == LISP_AFI_IPV4 ? &c->proxy_itr4 : &c->proxy_itr6) = a;
	}
	return 0;
}

static int cmd_proxy_etr(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	*(p->cmd->data == LISP_AFI_IPV4 ? &state(p)->c->proxy_etr_v4 : &state(p)->c->proxy_etr_v6) =
		true;
	return 0;
}

/* dataplane interface NAME | dataplane mtu N | dataplane workers N */
static int cmd_dataplane(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	unsigned long n;

	(void)argc;
	if (p->cmd->data == 0) {
		if (strlen(argv[0]) >= IF_NAMESIZE)
			return conf_error(p, "interface name longer than %d characters",
					  IF_NAMESIZE - 1);
		snprintf(c->dp.ifname, sizeof(c->dp.ifname), "%s", argv[0]);
		return 0;
	}
	if (p->cmd->data == 2) {
		if (!conf_parse_uint(argv[0], 1, XTR_DP_WORKERS_MAX, &n))
			return conf_error(p, "dataplane workers: expected 1-%d",
					  XTR_DP_WORKERS_MAX);
		c->dp.workers = (unsigned)n;
		return 0;
	}
	if (!conf_parse_uint(argv[0], 1280, 9000, &n))
		return conf_error(p, "dataplane mtu: expected 1280-9000");
	c->dp.mtu = (unsigned)n;
	return 0;
}

/* database-mapping PREFIX locator-set NAME | database-mapping PREFIX ADDRESS priority P weight W */
static int cmd_database_mapping(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	bool dyn = conf_mode(p) == MODE_DYNEID;
	uint32_t iid = dyn				? st->c->dyneids[st->dyn].iid
		       : conf_mode(p) == MODE_EID_TABLE ? st->iid
							: 0;
	struct xtr_conf_locator l = { 0 };
	struct xtr_conf_dbmap *m;
	struct lisp_prefix pfx;

	if (lisp_prefix_parse(argv[0], iid, &pfx) < 0 ||
	    (pfx.addr.afi != LISP_AFI_IPV4 && pfx.addr.afi != LISP_AFI_IPV6))
		return conf_error(p,
				  "database-mapping: '%s' is not an IPv4 or IPv6 prefix (host "
				  "bits must be zero)",
				  argv[0]);
	m = dbmap_for(st->c, &pfx, dyn ? st->dyn : -1);
	if (!m)
		return conf_error(p, "database-mapping %s: already %s", argv[0],
				  dyn ? "a database-mapping outside this dynamic-eid"
				      : "in a dynamic-eid");
	if (!m->line)
		m->line = p->line;
	if (argc == 3 && strcasecmp(argv[1], "locator-set") == 0) {
		if (m->nlocs || m->locset[0])
			return conf_error(p, "database-mapping %s: locators given twice", argv[0]);
		if (strlen(argv[2]) >= XTR_SITE_NAME_MAX)
			return conf_error(p, "locator-set name too long");
		snprintf(m->locset, sizeof(m->locset), "%s", argv[2]);
		return 0;
	}
	if (argc != 6 || lisp_addr_parse(argv[1], &l.addr) < 0 || l.addr.afi == LISP_AFI_MAC)
		return conf_error(p, "database-mapping: expected 'PREFIX locator-set NAME' or "
				     "'PREFIX ADDRESS priority P weight W'");
	if (m->locset[0])
		return conf_error(p, "database-mapping %s: locators given twice", argv[0]);
	if (prio_weight(p, argc - 2, argv + 2, &l) < 0)
		return -EINVAL;
	add_locator(&m->locs, &m->nlocs, &l);
	return 0;
}

enum {
	ROLE_ETR_V4,
	ROLE_ETR_V6
};

enum {
	ROLE_ITR_V4,
	ROLE_ITR_V6
};

static int cmd_itr(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	*(p->cmd->data == ROLE_ITR_V4 ? &state(p)->c->itr_v4 : &state(p)->c->itr_v6) = true;
	return 0;
}

/* ipv4|ipv6 itr map-resolver ADDRESS */
static int cmd_itr_map_resolver(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_itr *c = &state(p)->c->itr;
	uint16_t afi = p->cmd->data == ROLE_ITR_V4 ? LISP_AFI_IPV4 : LISP_AFI_IPV6;
	struct lisp_addr a;

	(void)argc;
	if (lisp_addr_parse(argv[0], &a) < 0 || a.afi != afi)
		return conf_error(p, "%s: '%s' is not an %s address", p->cmd->words, argv[0],
				  afi == LISP_AFI_IPV4 ? "IPv4" : "IPv6");
	for (size_t i = 0; i < c->nmap_resolvers; i++)
		if (lisp_addr_equal(&c->map_resolvers[i], &a))
			return conf_error(p, "map-resolver %s given twice", argv[0]);
	c->map_resolvers =
		xreallocarray(c->map_resolvers, c->nmap_resolvers + 1, sizeof(*c->map_resolvers));
	c->map_resolver_lines = xreallocarray(c->map_resolver_lines, c->nmap_resolvers + 1,
					      sizeof(*c->map_resolver_lines));
	c->map_resolver_lines[c->nmap_resolvers] = p->line;
	c->map_resolvers[c->nmap_resolvers++] = a;
	return 0;
}

/* site-id N */
static int cmd_site_id(struct conf_parser *p, int argc, char **argv)
{
	unsigned long v;

	(void)argc;
	if (!conf_parse_uint(argv[0], 1, UINT64_MAX, &v))
		return conf_error(p, "site-id: '%s' is not a number in 1..2^64-1", argv[0]);
	state(p)->c->site_id = v;
	return 0;
}

/* itr subscribe xtr-id HEX site-id N authentication-key [0|hex] KEY */
static int cmd_itr_subscribe(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_itr *c = &state(p)->c->itr;
	unsigned long v;

	if (strcmp(argv[0], "xtr-id") != 0 || strcmp(argv[2], "site-id") != 0 ||
	    strcmp(argv[4], "authentication-key") != 0)
		return conf_error(p, "itr subscribe xtr-id HEX site-id N authentication-key "
				     "[0|hex] KEY");
	if (!parse_xtr_id(argv[1], c->sub_xtr_id))
		return conf_error(p, "itr subscribe: xtr-id '%s' is not 32 hex digits", argv[1]);
	if (!conf_parse_uint(argv[3], 0, UINT64_MAX, &v))
		return conf_error(p, "itr subscribe: site-id '%s' is not a number below 2^64",
				  argv[3]);
	c->sub_site_id = v;
	if (conf_parse_key(p, argc == 7 ? argv[5] : NULL, argv[argc - 1], c->sub_key,
			   &c->sub_keylen, XTR_KEY_MAX) < 0)
		return -EINVAL;
	c->subscribe = true;
	return 0;
}

/* map-cache PREFIX map-request|drop|native-forward */
static int cmd_map_cache(struct conf_parser *p, int argc, char **argv)
{
	struct parse_state *st = state(p);
	struct xtr_conf_itr *c = &st->c->itr;
	struct xtr_conf_mapcache m = { 0 };

	(void)argc;
	if (lisp_prefix_parse(argv[0], conf_mode(p) == MODE_EID_TABLE ? st->iid : 0, &m.p) < 0 ||
	    (m.p.addr.afi != LISP_AFI_IPV4 && m.p.addr.afi != LISP_AFI_IPV6))
		return conf_error(p,
				  "map-cache: '%s' is not an IPv4 or IPv6 prefix (host bits "
				  "must be zero)",
				  argv[0]);
	if (strcasecmp(argv[1], "map-request") == 0)
		m.act = LISP_ACT_SEND_MAP_REQUEST;
	else if (strcasecmp(argv[1], "drop") == 0)
		m.act = LISP_ACT_DROP;
	else if (strcasecmp(argv[1], "native-forward") == 0)
		m.act = LISP_ACT_NATIVE_FORWARD;
	else
		return conf_error(p,
				  "map-cache: action must be map-request, drop or "
				  "native-forward, not '%s'",
				  argv[1]);
	for (size_t i = 0; i < c->nmapcache; i++)
		if (lisp_prefix_equal(&c->mapcache[i].p, &m.p))
			return conf_error(p, "map-cache %s given twice", argv[0]);
	c->mapcache = xreallocarray(c->mapcache, c->nmapcache + 1, sizeof(*c->mapcache));
	c->mapcache[c->nmapcache++] = m;
	return 0;
}

/*
 * dataplane hold-queue-limit [per-instance-id] N (data 0, 1) and
 * dataplane map-request-limit [per-instance-id] N (data 2, 3)
 */
static int cmd_queue_limit(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	bool per_iid = p->cmd->data & 1, mr = p->cmd->data & 2;
	unsigned long min = per_iid ? 1 : 16, max = mr ? XTR_MR_LIMIT_MAX : XTR_HOLD_LIMIT_MAX, n;

	(void)argc;
	if (!conf_parse_uint(argv[0], min, max, &n))
		return conf_error(p, "%s: expected %lu-%lu", p->cmd->words, min, max);
	if (mr)
		*(per_iid ? &c->itr.mr_limit_iid : &c->itr.mr_limit) = n;
	else
		*(per_iid ? &c->dp.hold_limit_iid : &c->dp.hold_limit) = n;
	return 0;
}

/*
 * map-reply rate-limit PPS [burst N] [total PPS]: answers toward one
 * destination (Map-Replies, forwarded Map-Requests) per second, how many
 * may go at once, and all destinations together per second.
 */
static int cmd_reply_rate(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	unsigned long rate, burst = 0, total = XTR_REPLY_TOTAL_DEFAULT;
	bool has_burst = false, has_total = false;

	if (!conf_parse_uint(argv[0], 1, XTR_REPLY_RATE_MAX, &rate))
		return conf_error(p, "map-reply rate-limit: expected 1-%u answers per second",
				  (unsigned)XTR_REPLY_RATE_MAX);
	for (int i = 1; i < argc; i += 2) {
		bool is_burst = strcasecmp(argv[i], "burst") == 0;

		if (!is_burst && strcasecmp(argv[i], "total") != 0)
			return conf_error(p,
					  "map-reply rate-limit: expected burst or total, not '%s'",
					  argv[i]);
		if (is_burst ? has_burst : has_total)
			return conf_error(p, "map-reply rate-limit: %s given twice", argv[i]);
		if (i + 1 >= argc)
			return conf_error(p, "map-reply rate-limit: %s needs a number", argv[i]);
		if (is_burst ? !conf_parse_uint(argv[i + 1], 1, XTR_REPLY_RATE_MAX, &burst)
			     : !conf_parse_uint(argv[i + 1], 1, XTR_REPLY_TOTAL_MAX, &total))
			return conf_error(
				p, "map-reply rate-limit: %s: expected 1-%u", argv[i],
				(unsigned)(is_burst ? XTR_REPLY_RATE_MAX : XTR_REPLY_TOTAL_MAX));
		*(is_burst ? &has_burst : &has_total) = true;
	}
	if (!has_burst)
		burst = 2 * rate;
	if (total < rate)
		return conf_error(p, "map-reply rate-limit: total %lu is below the rate %lu", total,
				  rate);
	c->reply.rate = (double)rate;
	c->reply.burst = (double)burst;
	c->reply.total = (double)total;
	return 0;
}

/* dataplane map-cache-limit N */
static int cmd_map_cache_limit(struct conf_parser *p, int argc, char **argv)
{
	unsigned long n;

	(void)argc;
	if (!conf_parse_uint(argv[0], 1, 16000000, &n))
		return conf_error(p, "map-cache-limit: expected 1-16000000");
	state(p)->c->itr.map_cache_limit = n;
	return 0;
}

/* rloc-probing interval MS [misses N] | no rloc-probing */
static int cmd_rloc_probing(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf_itr *c = &state(p)->c->itr;
	unsigned long ms, misses = XTR_PROBE_MISSES_DEFAULT;

	if (p->cmd->data) {
		c->probe_ms = 0;
		return 0;
	}
	if (strcmp(argv[0], "interval") != 0 || (argc != 2 && argc != 4) ||
	    (argc == 4 && strcmp(argv[2], "misses") != 0))
		return conf_error(p, "rloc-probing interval MS [misses N]");
	if (!conf_parse_uint(argv[1], XTR_PROBE_MS_MIN, XTR_PROBE_MS_MAX, &ms))
		return conf_error(p, "rloc-probing: interval '%s' is not %u..%u ms", argv[1],
				  XTR_PROBE_MS_MIN, XTR_PROBE_MS_MAX);
	if (argc == 4 && !conf_parse_uint(argv[3], 1, 100, &misses))
		return conf_error(p, "rloc-probing: misses '%s' is not 1..100", argv[3]);
	c->probe_ms = (unsigned)ms;
	c->probe_misses = (unsigned)misses;
	return 0;
}

static int cmd_etr(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	*(p->cmd->data == ROLE_ETR_V4 ? &state(p)->c->etr_v4 : &state(p)->c->etr_v6) = true;
	return 0;
}

static bool ms_option(const char *w)
{
	return strcasecmp(w, "hash-function") == 0 || strcasecmp(w, "notify-nonce") == 0 ||
	       strcasecmp(w, "proxy-reply") == 0;
}

/*
 * The options after a map-server's key: hash-function sha1|sha2, notify-nonce random,
 * proxy-reply.
 */
static int ms_options(struct conf_parser *p, int argc, char **argv, struct xtr_conf_ms *ms)
{
	for (int i = 0; i < argc; i += 2) {
		if (!ms_option(argv[i]))
			return conf_error(p, "%s: unexpected '%s'", p->cmd->words, argv[i]);
		if (strcasecmp(argv[i], "proxy-reply") == 0) {
			ms->proxy_reply = true;
			i--; /* no value */
			continue;
		}
		if (i + 1 == argc)
			return conf_error(p, "%s: %s needs a value", p->cmd->words, argv[i]);
		if (strcasecmp(argv[i], "notify-nonce") == 0) {
			if (strcasecmp(argv[i + 1], "random") != 0)
				return conf_error(p,
						  "%s: notify-nonce: expected 'random', not '%s'",
						  p->cmd->words, argv[i + 1]);
			ms->random_nonces = true;
		} else if (strcasecmp(argv[i + 1], "sha1") == 0) {
			ms->alg = LISP_ALG_HMAC_SHA1_96;
		} else if (strcasecmp(argv[i + 1], "sha2") == 0) {
			ms->alg = LISP_ALG_HMAC_SHA256_128;
		} else {
			return conf_error(p, "%s: hash-function: expected sha1 or sha2, not '%s'",
					  p->cmd->words, argv[i + 1]);
		}
	}
	return 0;
}

/*
 * ipv4|ipv6 etr map-server ADDRESS key [0|hex] KEY [hash-function sha1|sha2]
 * [notify-nonce random] [proxy-reply]: a key type is there when a word that is no option
 * follows it.
 */
static int cmd_etr_map_server(struct conf_parser *p, int argc, char **argv)
{
	struct xtr_conf *c = state(p)->c;
	struct xtr_conf_ms ms = { .line = p->line, .alg = LISP_ALG_HMAC_SHA256_128 };
	bool typed = argc >= 4 && !ms_option(argv[3]);

	if (lisp_addr_parse(argv[0], &ms.addr) < 0 ||
	    ms.addr.afi != (p->cmd->data == ROLE_ETR_V4 ? LISP_AFI_IPV4 : LISP_AFI_IPV6))
		return conf_error(p, "%s: '%s' is not an %s address", p->cmd->words, argv[0],
				  p->cmd->data == ROLE_ETR_V4 ? "IPv4" : "IPv6");
	if (strcasecmp(argv[1], "key") != 0)
		return conf_error(p, "%s: expected 'ADDRESS key [0|hex] KEY'", p->cmd->words);
	if (conf_parse_key(p, typed ? argv[2] : NULL, argv[typed ? 3 : 2], ms.key, &ms.keylen,
			   XTR_KEY_MAX) < 0 ||
	    ms_options(p, argc - (typed ? 4 : 3), argv + (typed ? 4 : 3), &ms) < 0)
		return -EINVAL;
	for (size_t i = 0; i < c->nmap_servers; i++)
		if (lisp_addr_equal(&c->map_servers[i].addr, &ms.addr))
			return conf_error(p, "map-server %s given twice", argv[0]);
	c->map_servers =
		xreallocarray(c->map_servers, c->nmap_servers + 1, sizeof(*c->map_servers));
	c->map_servers[c->nmap_servers++] = ms;
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
	{ MODE_ROUTER_LISP, "subscriber", 1, 1, MODE_SUBSCRIBER, cmd_subscriber, "NAME", 0 },
	{ MODE_SUBSCRIBER, "description", 1, CONF_MAX_WORDS, CONF_NONE, cmd_sub_description, "TEXT",
	  0 },
	{ MODE_SUBSCRIBER, "authentication-key", 1, 2, CONF_NONE, cmd_sub_key, "[0|hex] KEY", 0 },
	{ MODE_SUBSCRIBER, "xtr-id", 1, 3, CONF_NONE, cmd_sub_xtr_id, "HEX [site-id N]", 0 },
	{ MODE_SUBSCRIBER, "itr-rloc", 1, 1, CONF_NONE, cmd_sub_rloc, "ADDRESS", 0 },
	{ MODE_SUBSCRIBER, "subscription-limit", 1, 1, CONF_NONE, cmd_sub_limit, "N", 0 },
	{ MODE_ROUTER_LISP, "site-id", 1, 1, CONF_NONE, cmd_site_id, "N", 0 },
	{ MODE_ROUTER_LISP, "rloc-probing", 2, 4, CONF_NONE, cmd_rloc_probing,
	  "interval MS [misses N]", 0 },
	{ MODE_ROUTER_LISP, "no rloc-probing", 0, 0, CONF_NONE, cmd_rloc_probing, "", 1 },
	{ MODE_ROUTER_LISP, "itr subscribe", 6, 7, CONF_NONE, cmd_itr_subscribe,
	  "xtr-id HEX site-id N authentication-key [0|hex] KEY", 0 },
	{ MODE_SITE, "description", 1, CONF_MAX_WORDS, CONF_NONE, cmd_description, "TEXT", 0 },
	{ MODE_SITE, "authentication-key", 1, 2, CONF_NONE, cmd_key, "[0|hex] KEY", 0 },
	{ MODE_SITE, "eid-prefix", 1, 4, CONF_NONE, cmd_eid_prefix,
	  "[instance-id N] PREFIX [accept-more-specifics]", 0 },
	{ MODE_SITE, "allowed-locator", 1, 1, CONF_NONE, cmd_allowed_locator, "ADDRESS", 0 },
	{ MODE_SITE, "strict-nonce", 0, 0, CONF_NONE, cmd_strict_nonce, "", 0 },
	{ MODE_SITE, "no strict-nonce", 0, 0, CONF_NONE, cmd_strict_nonce, "", 1 },
	{ MODE_ROUTER_LISP, "locator-set", 1, 1, MODE_LOCSET, cmd_locator_set, "NAME", 0 },
	{ MODE_LOCSET, "ipv4-interface", 5, 5, CONF_NONE, cmd_loc_interface,
	  "NAME priority P weight W", LISP_AFI_IPV4 },
	{ MODE_LOCSET, "ipv6-interface", 5, 5, CONF_NONE, cmd_loc_interface,
	  "NAME priority P weight W", LISP_AFI_IPV6 },
	{ MODE_LOCSET, "*", 5, 5, CONF_NONE, cmd_loc_address, "ADDRESS priority P weight W", 0 },
	{ MODE_ROUTER_LISP, "eid-table", 3, 4, MODE_EID_TABLE, cmd_eid_table,
	  "default|vrf NAME instance-id N", 0 },
	{ MODE_ROUTER_LISP, "database-mapping", 3, 6, CONF_NONE, cmd_database_mapping,
	  "PREFIX locator-set NAME | PREFIX ADDRESS priority P weight W", 0 },
	{ MODE_EID_TABLE, "database-mapping", 3, 6, CONF_NONE, cmd_database_mapping,
	  "PREFIX locator-set NAME | PREFIX ADDRESS priority P weight W", 0 },
	{ MODE_ROUTER_LISP, "ipv4 etr", 0, 0, CONF_NONE, cmd_etr, "", ROLE_ETR_V4 },
	{ MODE_ROUTER_LISP, "ipv6 etr", 0, 0, CONF_NONE, cmd_etr, "", ROLE_ETR_V6 },
	{ MODE_ROUTER_LISP, "ipv4 etr map-server", 3, 8, CONF_NONE, cmd_etr_map_server,
	  "ADDRESS key [0|hex] KEY [hash-function sha1|sha2] [notify-nonce random]", ROLE_ETR_V4 },
	{ MODE_ROUTER_LISP, "ipv6 etr map-server", 3, 8, CONF_NONE, cmd_etr_map_server,
	  "ADDRESS key [0|hex] KEY [hash-function sha1|sha2] [notify-nonce random]", ROLE_ETR_V6 },
	{ MODE_ROUTER_LISP, "ipv4 itr", 0, 0, CONF_NONE, cmd_itr, "", ROLE_ITR_V4 },
	{ MODE_ROUTER_LISP, "ipv6 itr", 0, 0, CONF_NONE, cmd_itr, "", ROLE_ITR_V6 },
	{ MODE_ROUTER_LISP, "ipv4 itr map-resolver", 1, 1, CONF_NONE, cmd_itr_map_resolver,
	  "ADDRESS", ROLE_ITR_V4 },
	{ MODE_ROUTER_LISP, "ipv6 itr map-resolver", 1, 1, CONF_NONE, cmd_itr_map_resolver,
	  "ADDRESS", ROLE_ITR_V6 },
	{ MODE_ROUTER_LISP, "map-cache", 2, 2, CONF_NONE, cmd_map_cache,
	  "PREFIX map-request|drop|native-forward", 0 },
	{ MODE_EID_TABLE, "map-cache", 2, 2, CONF_NONE, cmd_map_cache,
	  "PREFIX map-request|drop|native-forward", 0 },
	{ MODE_ROUTER_LISP, "dataplane map-cache-limit", 1, 1, CONF_NONE, cmd_map_cache_limit, "N",
	  0 },
	{ MODE_ROUTER_LISP, "dataplane hold-queue-limit", 1, 1, CONF_NONE, cmd_queue_limit, "N",
	  0 },
	{ MODE_ROUTER_LISP, "dataplane hold-queue-limit per-instance-id", 1, 1, CONF_NONE,
	  cmd_queue_limit, "N", 1 },
	{ MODE_ROUTER_LISP, "dataplane map-request-limit", 1, 1, CONF_NONE, cmd_queue_limit, "N",
	  2 },
	{ MODE_ROUTER_LISP, "dataplane map-request-limit per-instance-id", 1, 1, CONF_NONE,
	  cmd_queue_limit, "N", 3 },
	{ MODE_ROUTER_LISP, "dataplane interface", 1, 1, CONF_NONE, cmd_dataplane, "NAME", 0 },
	{ MODE_ROUTER_LISP, "dataplane mtu", 1, 1, CONF_NONE, cmd_dataplane, "N", 1 },
	{ MODE_ROUTER_LISP, "dataplane workers", 1, 1, CONF_NONE, cmd_dataplane, "N", 2 },
	{ MODE_ROUTER_LISP, "map-reply rate-limit", 1, 5, CONF_NONE, cmd_reply_rate,
	  "PPS [burst N] [total PPS]", 0 },
	{ MODE_ROUTER_LISP, "metrics listen", 3, 3, CONF_NONE, cmd_metrics, "ADDRESS port N", 0 },
	{ MODE_ROUTER_LISP, "dynamic-eid", 1, 1, MODE_DYNEID, cmd_dynamic_eid, "NAME", 0 },
	{ MODE_EID_TABLE, "dynamic-eid", 1, 1, MODE_DYNEID, cmd_dynamic_eid, "NAME", 0 },
	{ MODE_DYNEID, "eid-notify authentication-key", 1, 2, CONF_NONE, cmd_eid_notify_key,
	  "[0|hex] KEY", 0 },
	{ MODE_DYNEID, "eid-notify peer-limit", 1, 1, CONF_NONE, cmd_eid_notify_peers, "N", 0 },
	{ MODE_DYNEID, "learning data-plane", 0, 0, CONF_NONE, cmd_dyn_learning, "", 0 },
	{ MODE_DYNEID, "learning timeout", 1, 1, CONF_NONE, cmd_dyn_learning, "SECONDS", 1 },
	{ MODE_DYNEID, "host-limit", 1, 1, CONF_NONE, cmd_dyn_learning, "N", 2 },
	{ MODE_DYNEID, "migration-hold", 1, 5, CONF_NONE, cmd_dyn_hold, "MS [packets N] [bytes N]",
	  0 },
	{ MODE_DYNEID, "no migration-hold", 0, 0, CONF_NONE, cmd_dyn_hold, "", 1 },
	{ MODE_DYNEID, "database-mapping", 3, 6, CONF_NONE, cmd_database_mapping,
	  "PREFIX locator-set NAME | PREFIX ADDRESS priority P weight W", 0 },
	{ MODE_ROUTER_LISP, "ipv4 use-petr", 1, 5, CONF_NONE, cmd_use_petr,
	  "ADDRESS [priority P weight W]", LISP_AFI_IPV4 },
	{ MODE_ROUTER_LISP, "ipv6 use-petr", 1, 5, CONF_NONE, cmd_use_petr,
	  "ADDRESS [priority P weight W]", LISP_AFI_IPV6 },
	{ MODE_ROUTER_LISP, "ipv4 proxy-itr", 1, 2, CONF_NONE, cmd_proxy_itr, "ADDRESS [ADDRESS]",
	  0 },
	{ MODE_ROUTER_LISP, "ipv6 proxy-itr", 1, 2, CONF_NONE, cmd_proxy_itr, "ADDRESS [ADDRESS]",
	  0 },
	{ MODE_ROUTER_LISP, "ipv4 proxy-etr", 0, 0, CONF_NONE, cmd_proxy_etr, "", LISP_AFI_IPV4 },
	{ MODE_ROUTER_LISP, "ipv6 proxy-etr", 0, 0, CONF_NONE, cmd_proxy_etr, "", LISP_AFI_IPV6 },
	{ CONF_TOP, "interface", 1, 1, MODE_IFACE, cmd_interface, "NAME", 0 },
	{ MODE_IFACE, "lisp mobility", 1, 1, CONF_NONE, cmd_lisp_mobility, "NAME", 0 },
	{ MODE_IFACE, "lisp extended-subnet-mode", 0, 0, CONF_NONE, cmd_extended_subnet, "", 0 },
};

/* The dynamic-eid and proxy part of the whole-file checks. */
static int check_dyn(const struct xtr_conf *c, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->ndyneids; i++) {
		bool mapped = false;

		for (size_t j = 0; j < c->ndbmaps && !mapped; j++)
			mapped = c->dbmaps[j].dyn == (int)i;
		if (!mapped) {
			snprintf(err, errlen, "%s:%u: dynamic-eid %s has no database-mapping", name,
				 c->dyneids[i].line, c->dyneids[i].name);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->nifaces; i++) {
		const struct xtr_conf_iface *f = &c->ifaces[i];
		bool found = !f->mobility[0];

		for (size_t j = 0; j < c->ndyneids && !found; j++)
			found = strcmp(c->dyneids[j].name, f->mobility) == 0;
		if (!found) {
			snprintf(err, errlen,
				 "%s:%u: interface %s: lisp mobility %s: no such "
				 "dynamic-eid",
				 name, f->line, f->name, f->mobility);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->dp.npetrs; i++) {
		bool v4 = c->dp.petrs[i].addr.afi == LISP_AFI_IPV4;

		if (!c->itr_v4 && !c->itr_v6 && !c->proxy_itr4.afi && !c->proxy_itr6.afi) {
			snprintf(err, errlen,
				 "%s:%u: %s use-petr given, but no itr or proxy-itr role", name,
				 c->dp.petrs[i].line, v4 ? "ipv4" : "ipv6");
			return -EINVAL;
		}
	}
	return 0;
}

bool xtr_conf_learns_data(const struct xtr_conf_dyneid *d)
{
	return d->learn_data || !d->has_notify_key;
}

bool xtr_conf_dataplane(const struct xtr_conf *c)
{
	return c->itr_v4 || c->itr_v6 || c->etr_v4 || c->etr_v6 || c->proxy_itr4.afi ||
	       c->proxy_itr6.afi || c->proxy_etr_v4 || c->proxy_etr_v6;
}

/* The ETR part of the whole-file checks: locator-sets exist, map-servers have their role. */
static int check_etr(const struct xtr_conf *c, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->ndbmaps; i++) {
		const struct xtr_conf_dbmap *m = &c->dbmaps[i];
		bool found = !m->locset[0];

		for (size_t j = 0; j < c->nlocsets && !found; j++)
			found = strcmp(c->locsets[j].name, m->locset) == 0;
		if (!found) {
			snprintf(err, errlen, "%s:%u: database-mapping: no locator-set %s", name,
				 m->line, m->locset);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->itr.nmap_resolvers; i++) {
		bool v4 = c->itr.map_resolvers[i].afi == LISP_AFI_IPV4;

		if (v4 ? !c->itr_v4 && !c->proxy_itr4.afi && !c->proxy_itr6.afi
		       : !c->itr_v6 && !c->proxy_itr4.afi && !c->proxy_itr6.afi) {
			snprintf(err, errlen,
				 "%s:%u: %s itr map-resolver given, but not %s itr (or proxy-itr)",
				 name, c->itr.map_resolver_lines[i], v4 ? "ipv4" : "ipv6",
				 v4 ? "ipv4" : "ipv6");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->nmap_servers; i++) {
		bool v4 = c->map_servers[i].addr.afi == LISP_AFI_IPV4;

		if (v4 ? !c->etr_v4 : !c->etr_v6) {
			snprintf(err, errlen, "%s:%u: %s etr map-server given, but not %s etr",
				 name, c->map_servers[i].line, v4 ? "ipv4" : "ipv6",
				 v4 ? "ipv4" : "ipv6");
			return -EINVAL;
		}
	}
	return 0;
}

/* The publish/subscribe part: subscribers complete, subscribing ITRs with a map-resolver. */
static int check_pubsub(const struct xtr_conf *c, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->msmr.nsubscribers; i++) {
		const struct xtr_conf_subscriber *s = c->msmr.subscribers[i];
		const char *missing = !s->has_key  ? "authentication-key"
				      : !s->nids   ? "xtr-id"
				      : !s->nrlocs ? "itr-rloc"
						   : NULL;

		if (missing) {
			snprintf(err, errlen, "%s:%u: subscriber %s has no %s", name, s->line,
				 s->name, missing);
			return -EINVAL;
		}
	}
	if (c->itr.subscribe && !c->itr.nmap_resolvers) {
		snprintf(err, errlen, "%s: itr subscribe given, but no itr map-resolver", name);
		return -EINVAL;
	}
	return 0;
}

/* Checks that need the whole file: keys present, no prefix in two sites. */
static int check(const struct parse_state *st, const char *name, char *err, size_t errlen)
{
	const struct xtr_conf *c = st->c;

	if (check_etr(c, name, err, errlen) < 0 || check_dyn(c, name, err, errlen) < 0 ||
	    check_pubsub(c, name, err, errlen) < 0)
		return -EINVAL;

	for (size_t i = 0; i < c->msmr.nsites; i++) {
		const struct xtr_conf_site *s = c->msmr.sites[i];

		if (!s->has_key) {
			snprintf(err, errlen, "%s:%u: site %s has no authentication-key", name,
				 st->site_lines[i], s->name);
			return -EINVAL;
		}
		for (size_t j = 0; j < s->nprefixes; j++) {
			for (size_t k = 0; k < i; k++) {
				const struct xtr_conf_site *o = c->msmr.sites[k];

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

static struct xtr_conf *conf_new(void)
{
	struct xtr_conf *c = xcalloc(1, sizeof(*c));

	c->itr.map_cache_limit = XTR_MAP_CACHE_LIMIT_DEFAULT;
	c->dp.hold_limit = XTR_HOLD_LIMIT_DEFAULT;
	c->reply.rate = XTR_REPLY_RATE_DEFAULT;
	c->reply.burst = XTR_REPLY_BURST_DEFAULT;
	c->reply.total = XTR_REPLY_TOTAL_DEFAULT;
	c->dp.hold_limit_iid = XTR_HOLD_LIMIT_IID_DEFAULT;
	c->itr.mr_limit = XTR_MR_LIMIT_DEFAULT;
	c->itr.mr_limit_iid = XTR_MR_LIMIT_IID_DEFAULT;
	c->dp.mtu = XTR_DP_MTU_DEFAULT;
	snprintf(c->dp.ifname, sizeof(c->dp.ifname), "%s", XTR_DP_IFNAME);
	return c;
}

struct xtr_conf *xtr_conf_parse_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct parse_state st = { .c = conf_new() };
	int rc = conf_parse_string(name, text, cmds, sizeof(cmds) / sizeof(cmds[0]), &st, err,
				   errlen);

	return finish(&st, rc, name, err, errlen);
}

struct xtr_conf *xtr_conf_load(const char *path, char *err, size_t errlen)
{
	struct parse_state st = { .c = conf_new() };
	int rc = conf_parse_file(path, cmds, sizeof(cmds) / sizeof(cmds[0]), &st, err, errlen);

	return finish(&st, rc, path, err, errlen);
}

void xtr_conf_free(struct xtr_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->msmr.nsites; i++) {
		free(c->msmr.sites[i]->description);
		free(c->msmr.sites[i]->prefixes);
		free(c->msmr.sites[i]->allowed);
		free(c->msmr.sites[i]);
	}
	free(c->msmr.sites);
	for (size_t i = 0; i < c->msmr.nsubscribers; i++) {
		free(c->msmr.subscribers[i]->description);
		free(c->msmr.subscribers[i]->ids);
		free(c->msmr.subscribers[i]->rlocs);
		free(c->msmr.subscribers[i]);
	}
	free(c->msmr.subscribers);
	for (size_t i = 0; i < c->nlocsets; i++)
		free(c->locsets[i].locs);
	free(c->locsets);
	for (size_t i = 0; i < c->ndbmaps; i++)
		free(c->dbmaps[i].locs);
	free(c->dbmaps);
	free(c->map_servers);
	free(c->eidtables);
	free(c->itr.map_resolvers);
	free(c->itr.map_resolver_lines);
	free(c->itr.mapcache);
	free(c->dyneids);
	free(c->ifaces);
	free(c);
}
