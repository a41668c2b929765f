/* xtrctl command words: keyword tables with unique-prefix abbreviations ("sh li si"). */
#include <stdio.h>
#include <string.h>

#include "lib/conf.h"
#include "xtr-gateway/ctl/xtrctl.h"

enum token_type {
	ENDTOKEN,
	KEYWORD,
	ARG_OPTIONAL,
	ARG_REQUIRED
};

struct token {
	enum token_type type;
	const char *keyword;
	enum action action;
	const struct token *next;
};

static const struct token t_iid_value[];
static const struct token t_lig[];
static const struct token t_clear[];
static const struct token t_site_opts[];
static const struct token t_site_arg[];
static const struct token t_lisp[];
static const struct token t_show[];
static const struct token t_log[];
static const struct token t_category[];

static const struct token t_main[] = {
	{ KEYWORD, "show", ACT_NONE, t_show }, { KEYWORD, "reload", ACT_RELOAD, NULL },
	{ KEYWORD, "lig", ACT_NONE, t_lig },   { KEYWORD, "clear", ACT_NONE, t_clear },
	{ KEYWORD, "log", ACT_NONE, t_log },   { ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_mc_iid[];
static const struct token t_mc_arg[] = {
	{ KEYWORD, "instance-id", ACT_NONE, t_mc_iid },
	{ ARG_OPTIONAL, "PREFIX", ACT_NONE, t_mc_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_mc_iid[] = {
	{ ARG_REQUIRED, "N", ACT_NONE, t_mc_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_ip_lisp[] = {
	{ KEYWORD, "database", ACT_SHOW_DATABASE4, NULL },
	{ KEYWORD, "map-cache", ACT_SHOW_MC4, t_mc_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_ipv6_lisp[] = {
	{ KEYWORD, "database", ACT_SHOW_DATABASE6, NULL },
	{ KEYWORD, "map-cache", ACT_SHOW_MC6, t_mc_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_lig_iid[];
static const struct token t_lig[] = {
	{ KEYWORD, "instance-id", ACT_NONE, t_lig_iid },
	{ ARG_REQUIRED, "EID", ACT_LIG, NULL },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_lig_iid[] = {
	{ ARG_REQUIRED, "N", ACT_NONE, t_lig },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_clear_ip_lisp[] = {
	{ KEYWORD, "map-cache", ACT_CLEAR_MC4, t_mc_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_clear_ipv6_lisp[] = {
	{ KEYWORD, "map-cache", ACT_CLEAR_MC6, t_mc_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_dyn_iid[];
static const struct token t_dyn_arg[] = {
	{ KEYWORD, "summary", ACT_NONE, t_dyn_arg },
	{ KEYWORD, "instance-id", ACT_NONE, t_dyn_iid },
	{ ARG_OPTIONAL, "PREFIX", ACT_NONE, t_dyn_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_dyn_iid[] = {
	{ ARG_REQUIRED, "N", ACT_NONE, t_dyn_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_clear_lisp[] = {
	{ KEYWORD, "dynamic-eid", ACT_CLEAR_DYN, t_dyn_arg },
	{ KEYWORD, "event-history", ACT_CLEAR_EVH, NULL },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_clear_ip[] = {
	{ KEYWORD, "lisp", ACT_NONE, t_clear_ip_lisp },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_clear_ipv6[] = {
	{ KEYWORD, "lisp", ACT_NONE, t_clear_ipv6_lisp },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_clear[] = {
	{ KEYWORD, "ip", ACT_NONE, t_clear_ip },
	{ KEYWORD, "ipv6", ACT_NONE, t_clear_ipv6 },
	{ KEYWORD, "lisp", ACT_NONE, t_clear_lisp },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_ip[] = {
	{ KEYWORD, "lisp", ACT_NONE, t_ip_lisp },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_ipv6[] = {
	{ KEYWORD, "lisp", ACT_NONE, t_ipv6_lisp },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_show[] = {
	{ KEYWORD, "lisp", ACT_NONE, t_lisp },
	{ KEYWORD, "ip", ACT_NONE, t_ip },
	{ KEYWORD, "ipv6", ACT_NONE, t_ipv6 },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_lisp[] = {
	{ KEYWORD, "site", ACT_SHOW_SITE, t_site_arg },
	{ KEYWORD, "statistics", ACT_SHOW_STATISTICS, NULL },
	{ KEYWORD, "away", ACT_SHOW_AWAY, NULL },
#ifndef CTL_FOR_FHR
	{ KEYWORD, "subscription", ACT_SHOW_SUBSCRIPTION, NULL },
#endif
	{ KEYWORD, "dynamic-eid", ACT_SHOW_DYN, t_dyn_arg },
	{ KEYWORD, "dataplane", ACT_SHOW_DATAPLANE, NULL },
	{ KEYWORD, "eid-notify", ACT_SHOW_EID_NOTIFY, NULL },
	{ KEYWORD, "event-history", ACT_SHOW_EVH, t_mc_arg },
#ifdef CTL_FOR_FHR
	{ KEYWORD, "hypervisor", ACT_SHOW_HV, NULL },
#endif
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_site_arg[] = {
	{ KEYWORD, "instance-id", ACT_NONE, t_iid_value },
	{ ARG_OPTIONAL, "NAME|PREFIX", ACT_SHOW_SITE, t_site_opts },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_site_opts[] = {
	{ KEYWORD, "instance-id", ACT_NONE, t_iid_value },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_iid_value[] = {
	{ ARG_REQUIRED, "N", ACT_NONE, t_site_arg },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_log[] = {
	{ KEYWORD, "debug", ACT_LOG_DEBUG, t_category },
	{ KEYWORD, "brief", ACT_LOG_BRIEF, NULL },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};
static const struct token t_category[] = {
	{ ARG_REQUIRED, "CATEGORY", ACT_LOG_DEBUG, NULL },
	{ ENDTOKEN, NULL, ACT_NONE, NULL },
};

static void list_choices(const struct token *t)
{
	fprintf(stderr, "valid here:");
	for (; t->type != ENDTOKEN; t++)
		fprintf(stderr, " %s", t->keyword);
	fprintf(stderr, "\n");
}

/* The keyword word abbreviates uniquely in t, or an argument slot; NULL when neither. */
static const struct token *match(const struct token *t, const char *word)
{
	const struct token *found = NULL, *arg = NULL;
	int n = 0;

	for (; t->type != ENDTOKEN; t++) {
		if (t->type != KEYWORD) {
			arg = t;
			continue;
		}
		if (strcmp(t->keyword, word) == 0)
			return t;
		if (strncmp(t->keyword, word, strlen(word)) == 0) {
			found = t;
			n++;
		}
	}
	if (n > 1) {
		fprintf(stderr, "xtrctl: '%s' is ambiguous\n", word);
		return NULL;
	}
	return found ? found : arg;
}

/* True when the words so far stop where an argument is required. */
static bool needs_more(const struct token *t)
{
	return t && t->type == ARG_REQUIRED;
}

int parse_command(int argc, char **argv, struct parse_result *res)
{
	const struct token *table = t_main, *t = NULL;
	unsigned long v;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < argc; i++) {
		if (!table) {
			fprintf(stderr, "xtrctl: unexpected '%s'\n", argv[i]);
			return -1;
		}
		t = match(table, argv[i]);
		if (!t) {
			fprintf(stderr, "xtrctl: unknown word '%s'; ", argv[i]);
			list_choices(table);
			return -1;
		}
		if (t->action != ACT_NONE)
			res->action = t->action;
		if (t->type != KEYWORD && strcmp(t->keyword, "N") == 0) {
			if (!conf_parse_uint(argv[i], 0, 0xffffff, &v)) {
				fprintf(stderr, "xtrctl: instance-id must be 0..16777215\n");
				return -1;
			}
			res->instance_id = (uint32_t)v;
		} else if (t->type != KEYWORD) {
			res->arg = argv[i];
			res->detail = true;
		}
		table = t->next;
	}
	if (res->action == ACT_NONE || needs_more(table)) {
		fprintf(stderr, "xtrctl: incomplete command; ");
		list_choices(table ? table : t_main);
		return -1;
	}
	return 0;
}
