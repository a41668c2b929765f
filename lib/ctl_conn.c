/* Control-socket framing. */
#define _GNU_SOURCE /* pipe2 */
#include "lib/ctl_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

int ctl_frame_next(const uint8_t *buf, size_t len, const uint8_t **msg, size_t *msglen,
		   size_t *used)
{
	uint32_t n;

	if (len < CTL_HDR_LEN)
		return -EAGAIN;
	n = buf_load_be32(buf);
	if (n > CTL_MAX_FRAME)
		return -EMSGSIZE;
	if (len - CTL_HDR_LEN < n)
		return -EAGAIN;
	*msg = buf + CTL_HDR_LEN;
	*msglen = n;
	*used = CTL_HDR_LEN + n;
	return 0;
}

void ctl_frame_header(uint8_t hdr[CTL_HDR_LEN], size_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/*
 * Group name's gid: true and *gid, or false when there is no such group.
 * Asked by a child process: a name missing from /etc/group makes glibc
 * load nsswitch.conf's other modules (libnss_systemd, and the libm and
 * libcap it pulls: ~0.7 MiB resident), which stay mapped for the life of
 * the process that asked (issue 23). Asked here when no child can run.
 */
static bool group_gid(const char *name, gid_t *gid)
{
	struct {
		bool found;
		gid_t gid;
	} r = { 0 };
	const struct group *gr;
	ssize_t n = -1;
	pid_t pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0) {
			gr = getgrnam(name);
			r.found = gr != NULL;
			r.gid = gr ? gr->gr_gid : 0;
			_exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
		}
		close(p[1]);
		if (pid > 0) {
			do
				n = read(p[0], &r, sizeof(r));
			while (n < 0 && errno == EINTR);
			/* (an event loop's SIGCHLD handler may reap it first: ECHILD) */
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		close(p[0]);
	}
	if (n != (ssize_t)sizeof(r)) {
		gr = getgrnam(name);
		r.found = gr != NULL;
		r.gid = gr ? gr->gr_gid : 0;
	}
	*gid = r.gid;
	return r.found;
}

int ctl_listen(const char *path, const char *group, int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	gid_t gid = 0;
	bool has_group = group && group_gid(group, &gid);
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* nobody can connect before listen(): mode and group are set by then */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0660) < 0)
		goto fail;
	if (has_group && chown(path, (uid_t)-1, gid) < 0 && errno != EPERM)
		goto fail;
	if (listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int ctl_send(int fd, const void *msg, size_t len)
{
	uint8_t hdr[CTL_HDR_LEN];
	int rc;

	if (len > CTL_MAX_FRAME)
		return -EMSGSIZE;
	ctl_frame_header(hdr, len);
	rc = write_all(fd, hdr, sizeof(hdr));
	return rc < 0 ? rc : write_all(fd, msg, len);
}

int ctl_recv(int fd, uint8_t **msg, size_t *len)
{
	uint8_t hdr[CTL_HDR_LEN];
	uint32_t n;
	int rc = read_all(fd, hdr, sizeof(hdr));

	if (rc < 0)
		return rc;
	n = buf_load_be32(hdr);
	if (n > CTL_MAX_FRAME)
		return -EMSGSIZE;
	*msg = xmalloc(n ? n : 1);
	rc = read_all(fd, *msg, n);
	if (rc < 0) {
		free(*msg);
		*msg = NULL;
		return rc;
	}
	*len = n;
	return 0;
}
