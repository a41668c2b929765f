/* ctl_listen(): the socket's mode and group (its group looked up by a child process). */
#include <errno.h>
#include <grp.h>
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

#include "lib/ctl_conn.h"

static char dir[] = "/tmp/test_ctl_conn.XXXXXX";
static char path[64];

/* Listens at path with group; returns the socket's stat. */
static struct stat listen_stat(const char *group)
{
	struct stat st;
	int fd = ctl_listen(path, group, 1);

	assert_true(fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	close(fd);
	unlink(path);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	return st;
}

static void test_group(void **state)
{
	const struct group *own = getgrgid(getegid());
	const struct group *other = getgrnam("daemon");
	char name[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	/* no group, a group that does not exist: the file's own (the process's) */
	assert_int_equal(listen_stat(NULL).st_gid, getegid());
	assert_int_equal(listen_stat("vmroam-no-such-group").st_gid, getegid());
	/* the process's own group by name */
	if (own) {
		snprintf(name, sizeof(name), "%s", own->gr_name);
		assert_int_equal(listen_stat(name).st_gid, getegid());
	}
	/* another group: given when the process may (root), else left as it was */
	if (other) {
		gid_t want = geteuid() == 0 ? other->gr_gid : getegid();

		snprintf(name, sizeof(name), "%s", other->gr_name);
		assert_int_equal(listen_stat(name).st_gid, want);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
