/*
 * Fuzz target: the Map-Server's state file (xtr-gateway -S), bytes in ->
 * ms_load. A file it refuses changes nothing (no registration, no nonce
 * appears); one it takes is saved again and that copy loads to the same
 * number of registrations and the same nonces (what the daemon writes, it
 * reads back).
 */
#define _GNU_SOURCE /* memfd_create */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xtr-gateway/xtr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *conf_text =
	"router lisp\n"
	" site DC\n"
	"  authentication-key k\n"
	"  no strict-nonce\n"
	"  eid-prefix instance-id 100 198.51.100.0/24 accept-more-specifics\n"
	"  eid-prefix 2001:db8:a::/48 accept-more-specifics\n"
	" site B\n"
	"  authentication-key other\n"
	"  eid-prefix 203.0.113.0/25\n"
	"  allowed-locator 192.0.2.20\n"
	" subscriber BR\n"
	"  authentication-key sk\n"
	"  xtr-id 000000000000000000000000000000b1 site-id 20\n"
	"  itr-rloc 192.0.2.20\n"
	" ipv4 map-server\n";

static int no_send(void *arg, const struct lisp_addr *dst, uint16_t dport, const uint8_t *buf,
		   size_t len)
{
	(void)arg, (void)dst, (void)dport, (void)buf, (void)len;
	return 0;
}

static int count_rows(const struct ms_row *row, void *arg)
{
	(void)row;
	++*(int *)arg;
	return 0;
}

/* Registered prefixes over every site. */
static int rows(struct ms *ms)
{
	const char *names[] = { "DC", "B" };
	int n = 0;

	for (int i = 0; i < 2; i++)
		ms_site_rows(ms, ms_site_by_name(ms, names[i]), count_rows, &n);
	return n;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The nonce lines of ms's state (in any order: sorted), as one string; caller frees. */
static char *nonces(struct ms *ms)
{
	char *text, *lines[8192], *out, *save = NULL;
	size_t len, n = 0, off = 0;

	assert(ms_state_text(ms, 1000, &text, &len) == 0);
	for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		if (t[0] == 'N') {
			assert(n < sizeof(lines) / sizeof(lines[0]));
			lines[n++] = t;
		}
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	out = malloc(len + 1);
	assert(out);
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(out + off, "%s\n", lines[i]);
	out[off] = '\0';
	free(text);
	return out;
}

/* A file in memory: its path under /proc/self/fd. */
static int memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("state", 0);

	assert(fd >= 0);
	assert(write(fd, data, size) == (ssize_t)size);
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xtr_conf *conf;
	static int base; /* the rows of the configuration alone */
	struct ms_io io = { .send = no_send };
	struct xtr_counters gc = { 0 };
	char path[64], path2[64], err[256];
	struct ms *ms, *again;
	int fd, n;

	if (!conf) {
		conf = xtr_conf_parse_string("fuzz", conf_text, err, sizeof(err));
		assert(conf);
		ms = ms_new(&io, &gc);
		ms_configure(ms, &conf->msmr, &conf->reply, 1000);
		base = rows(ms);
		ms_free(ms);
	}
	if (size > 1 << 16)
		return 0;
	fd = memfile(data, size, path, sizeof(path));
	ms = ms_new(&io, &gc);
	ms_configure(ms, &conf->msmr, &conf->reply, 1000);
	n = ms_load(ms, path, 1000, err, sizeof(err));
	if (n < 0) {
		char *none = nonces(ms);

		assert(rows(ms) == base); /* refused: nothing taken */
		assert(!*none);
		assert(strchr(err, ':'));
		free(none);
	} else {
		char *before = nonces(ms), *after;

		/* ms_save renames a temporary file over the path: a real directory */
		snprintf(path2, sizeof(path2), "/tmp/fuzz_state.%d", (int)getpid());
		assert(ms_save(ms, path2, 1000) == 0);
		again = ms_new(&io, &gc);
		ms_configure(again, &conf->msmr, &conf->reply, 1000);
		assert(ms_load(again, path2, 1000, err, sizeof(err)) >= 0);
		assert(rows(again) == rows(ms));
		after = nonces(again);
		assert(strcmp(before, after) == 0);
		free(before);
		free(after);
		ms_free(again);
		unlink(path2);
	}
	ms_free(ms);
	close(fd);
	return 0;
}
