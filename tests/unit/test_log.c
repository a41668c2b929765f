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
		cmocka_unit_test(journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
