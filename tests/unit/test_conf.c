/* The IOS-style configuration reader: modes, closing, errors with file:line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/conf.h"

enum {
	M_RL = 1,
	M_SITE
};

static char trace[1024];

static int rec(struct conf_parser *p, int argc, char **argv)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%d:%s", conf_mode(p), p->cmd->words);
	for (int i = 0; i < argc; i++) {
		n = strlen(trace);
		snprintf(trace + n, sizeof(trace) - n, " %s", argv[i]);
	}
	n = strlen(trace);
	snprintf(trace + n, sizeof(trace) - n, ";");
	return 0;
}

static int refuse(struct conf_parser *p, int argc, char **argv)
{
	(void)argc;
	return conf_error(p, "no '%s' here", argv[0]);
}

static const struct conf_cmd cmds[] = {
	{ CONF_TOP, "router lisp", 0, 0, M_RL, rec, "", 0 },
	{ M_RL, "site", 1, 1, M_SITE, rec, "NAME", 0 },
	{ M_RL, "ipv4 map-server", 0, 0, CONF_NONE, rec, "", 0 },
	{ M_RL, "ipv4", 1, 1, CONF_NONE, rec, "X", 0 },
	{ M_SITE, "description", 1, 8, CONF_NONE, rec, "TEXT", 0 },
	{ M_SITE, "bad", 1, 1, CONF_NONE, refuse, "X", 0 },
};

static int parse(const char *text, char *err)
{
	trace[0] = '\0';
	err[0] = '\0';
	return conf_parse_string("t.conf", text, cmds, sizeof(cmds) / sizeof(cmds[0]), NULL, err,
				 256);
}

static void test_modes(void **state)
{
	char err[256];

	(void)state;
	/* an outer command closes the site; longest keyword match; case-insensitive keywords */
	assert_int_equal(parse("! comment\nRouter LISP\n site A\n  description two  words ! c\n"
			       " IPV4 Map-Server\n ipv4 other\n site B\n exit\n exit\n",
			       err),
			 0);
	assert_string_equal(trace, "0:router lisp;1:site A;2:description two words;"
				   "1:ipv4 map-server;1:ipv4 other;1:site B;");
	/* "exit" closes one mode: after it a site command is misplaced */
	assert_int_equal(parse("router lisp\n site A\n exit\n exit\n site C\n", err), -EINVAL);
	assert_string_equal(err, "t.conf:5: unknown or misplaced command 'site'");
	/* "end" closes all */
	assert_int_equal(parse("router lisp\n site A\nend\nsite B\n", err), -EINVAL);
	assert_string_equal(err, "t.conf:4: unknown or misplaced command 'site'");
}

static void test_errors(void **state)
{
	char err[256], big[2048];

	(void)state;
	assert_int_equal(parse("router lisp\n site\n", err), -EINVAL);
	assert_string_equal(err, "t.conf:2: site: missing argument; usage: site NAME");
	assert_int_equal(parse("router lisp\n site A B\n", err), -EINVAL);
	assert_string_equal(err, "t.conf:2: site: too many arguments; usage: site NAME");
	assert_int_equal(parse("router lisp\n site A\n  bad x\n", err), -EINVAL);
	assert_string_equal(err, "t.conf:3: no 'x' here");
	assert_int_equal(parse("\n\nfrobnicate\n", err), -EINVAL);
	assert_string_equal(err, "t.conf:3: unknown or misplaced command 'frobnicate'");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, err), -EINVAL);
	assert_non_null(strstr(err, "t.conf:1: line longer than"));
	assert_int_equal(conf_parse_file("/nonexistent/x.conf", cmds, 1, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.conf: No such file"));
}

static void test_uint(void **state)
{
	unsigned long v;

	(void)state;
	assert_true(conf_parse_uint("4100", 0, 16777215, &v) && v == 4100);
	assert_false(conf_parse_uint("16777216", 0, 16777215, &v));
	assert_false(conf_parse_uint("-1", 0, 10, &v));
	assert_false(conf_parse_uint("12x", 0, 100, &v));
	assert_false(conf_parse_uint("", 0, 100, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
