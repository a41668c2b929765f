/* Logging: lines on stderr carry their syslog priority only when stderr is systemd's journal. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/log.h"

/* Runs log calls with stderr on a file, JOURNAL_STREAM set to js (NULL: unset); returns the text. */
static char *capture(const char *js, bool match)
{
	char path[] = "/tmp/vmroam-test-log-XXXXXX", env[64];
	static char out[1024];
	int fd = mkstemp(path), saved = dup(2);
	struct stat st;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, 2), 2);
	assert_int_equal(fstat(2, &st), 0);
	if (match) {
		snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		js = env;
	}
	if (js)
		setenv("JOURNAL_STREAM", js, 1);
	else
		unsetenv("JOURNAL_STREAM");
	log_init("t", true);
	log_warn("w %d", 1);
	log_info("i");
	log_err("e");
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n > 0);
	out[n] = '\0';
	close(fd);
	return out;
}

/* A flood of remote-triggered lines: 1 warning, LOG_INFO_BURST infos per interval pass. */
static void rate_limited(void **state)
{
	char path[] = "/tmp/vmroam-test-log-XXXXXX", out[16384];
	int fd = mkstemp(path), saved = dup(2), lines = 0;
	struct log_rate w = { 0 }, i = { 0 };
	ssize_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, 2), 2);
	unsetenv("JOURNAL_STREAM");
	log_init("t", true);
	for (int k = 0; k < 1000; k++) {
		log_warn_rl(&w, "w %d", k);
		log_info_rl(&i, "i %d", k);
	}
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	close(fd);
	assert_true(n > 0);
	out[n] = '\0';
	for (char *c = out; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 1 + LOG_INFO_BURST);
	assert_int_equal(w.suppressed, 999);
	assert_int_equal(i.suppressed, 1000 - LOG_INFO_BURST);
	assert_non_null(strstr(out, "t: warning: w 0\n"));
	assert_non_null(strstr(out, "t: info: i 19\n"));
	assert_null(strstr(out, "i 20\n"));
}

static void plain_stderr(void **state)
{
	(void)state;
	assert_string_equal(capture(NULL, false), "t: warning: w 1\nt: info: i\nt: error: e\n");
	/* another stream's id (stdout under a unit, say): no prefix */
	assert_string_equal(capture("1:2", false), "t: warning: w 1\nt: info: i\nt: error: e\n");
	assert_string_equal(capture("garbage", false),
			    "t: warning: w 1\nt: info: i\nt: error: e\n");
}

static void journal(void **state)
{
	(void)state;
	assert_string_equal(capture(NULL, true),
			    "<4>t: warning: w 1\n<6>t: info: i\n<3>t: error: e\n");
	assert_false(log_stderr_is_journal(NULL));
	assert_false(log_stderr_is_journal("12:34x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_stderr),
		cmocka_unit_test(rate_limited),
		cmocka_unit_test(journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
