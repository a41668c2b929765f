/* Control-socket framing. */
#include "lib/ctl_conn.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

int ctl_listen(const char *path, const char *group, int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const struct group *gr = group ? getgrnam(group) : NULL;
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
	if (gr && chown(path, (uid_t)-1, gr->gr_gid) < 0 && errno != EPERM)
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
