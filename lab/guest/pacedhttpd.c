/*
 * pacedhttpd: the lab guest's web server (the guest has no Python), as lab/httpd.py serves the
 * namespace VMs: GET or HEAD of a regular file of DIRECTORY (by its name, no subdirectories),
 * with a Content-Length; each connection's sending paced by the kernel (SO_MAX_PACING_RATE) so
 * that a download is an even stream whose stalls are the network's. GET / answers a short list.
 * One process per connection (fork). Built static (gcc -static) by lab/guest.sh.
 *
 * usage: pacedhttpd ADDRESS PORT DIRECTORY RATE-BYTES-PER-SECOND (0: unpaced)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SO_MAX_PACING_RATE
#define SO_MAX_PACING_RATE 47
#endif

static const char *dir;

/* Writes all of buf; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void reply_text(int c, const char *status, const char *body, int head)
{
	char h[256];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, strlen(body));

	if (write_all(c, h, (size_t)n) == 0 && !head)
		write_all(c, body, strlen(body));
}

/* GET /: the files served, one a line. */
static void reply_list(int c, int head)
{
	char body[1024] = "";
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t len = 0;

	while (d && (e = readdir(d)) != NULL) {
		int n;

		if (e->d_name[0] == '.')
			continue;
		n = snprintf(body + len, sizeof(body) - len, "%s\n", e->d_name);
		if (n < 0 || (size_t)n >= sizeof(body) - len)
			break;
		len += (size_t)n;
	}
	if (d)
		closedir(d);
	reply_text(c, "200 OK", body, head);
}

static void reply_file(int c, const char *name, int head)
{
	char path[512], h[256];
	struct stat st;
	off_t off = 0;
	int fd, n;

	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (fd = open(path, O_RDONLY)) < 0) {
		reply_text(c, "404 Not Found", "not found\n", head);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		reply_text(c, "404 Not Found", "not found\n", head);
		return;
	}
	n = snprintf(h, sizeof(h),
		     "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
		     "Content-Length: %lld\r\nConnection: close\r\n\r\n",
		     (long long)st.st_size);
	if (write_all(c, h, (size_t)n) == 0 && !head) {
		while (off < st.st_size) {
			ssize_t s = sendfile(c, fd, &off, (size_t)(st.st_size - off));

			if (s < 0 && errno == EINTR)
				continue;
			if (s <= 0)
				break;
		}
	}
	close(fd);
}

/* One connection: read the request head, answer, close. */
static void serve(int c)
{
	char req[2048], method[8], target[1024];
	size_t len = 0;

	while (len < sizeof(req) - 1) {
		ssize_t n = read(c, req + len, sizeof(req) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	if (sscanf(req, "%7s %1023s", method, target) != 2 || target[0] != '/') {
		reply_text(c, "400 Bad Request", "bad request\n", 0);
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		reply_text(c, "501 Not Implemented", "GET or HEAD only\n", 0);
		return;
	}
	if (strcmp(target, "/") == 0)
		reply_list(c, method[0] == 'H');
	else
		reply_file(c, target + 1, method[0] == 'H');
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned long rate;
	int s, one = 1;

	if (argc != 5 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: pacedhttpd ADDRESS PORT DIRECTORY RATE-BYTES-PER-SECOND\n");
		return 1;
	}
	sa.sin_port = htons((unsigned short)strtoul(argv[2], NULL, 10));
	dir = argv[3];
	rate = strtoul(argv[4], NULL, 10);
	signal(SIGCHLD, SIG_IGN); /* (children reaped by the kernel) */
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0) {
		perror("pacedhttpd: listen");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno != EINTR)
				perror("pacedhttpd: accept");
			continue;
		}
		if (fork() == 0) {
			unsigned int r = rate > 0xffffffffUL ? 0xffffffffU : (unsigned int)rate;

			close(s);
			if (rate &&
			    setsockopt(c, SOL_SOCKET, SO_MAX_PACING_RATE, &r, sizeof(r)) < 0)
				perror("pacedhttpd: SO_MAX_PACING_RATE");
			serve(c);
			shutdown(c, SHUT_WR);
			close(c);
			_exit(0);
		}
		close(c);
	}
}
