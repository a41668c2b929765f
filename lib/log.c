/* Daemon logging: stderr or syslog, debug categories, rate limiting. */
#include "lib/log.h"
#include "lib/platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#define RATE_INTERVAL 10.0

/* The one mutable global beyond the daemon struct that STYLE allows: logging state. */
static struct {
	bool to_stderr;
	bool journal; /* stderr is systemd's journal: lines carry their priority as <N> */
	uint32_t debug;
	const char *ident;
	void (*sink)(void *arg, int prio, const char *msg);
	void *sink_arg;
} lg = { .to_stderr = true, .ident = "vmroam" };

static const struct {
	const char *name;
	uint32_t cat;
} cats[] = {
	{ "register", LOG_REGISTER }, { "mapcache", LOG_MAPCACHE }, { "ctl", LOG_CTL },
	{ "nfq", LOG_NFQ },	      { "virt", LOG_VIRT },	    { "packet", LOG_PACKET },
};

bool log_stderr_is_journal(const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	/* systemd sets JOURNAL_STREAM=DEV:INO of the stream it connected (systemd.exec(5)) */
	return journal_stream && sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
	       fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_plain(int prio, const char *fmt, ...)
{
	va_list ap;

	if (log_stderr_is_journal(getenv("JOURNAL_STREAM")))
		fprintf(stderr, "<%d>", prio);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void log_set_sink(void (*fn)(void *arg, int prio, const char *msg), void *arg)
{
	lg.sink = fn;
	lg.sink_arg = arg;
}

void log_init(const char *ident, bool to_stderr)
{
	lg.ident = ident;
	lg.to_stderr = to_stderr;
	lg.journal = to_stderr && log_stderr_is_journal(getenv("JOURNAL_STREAM"));
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_debug(uint32_t c)
{
	lg.debug = c;
}

uint32_t log_get_debug(void)
{
	return lg.debug;
}

uint32_t log_cat_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		if (strcasecmp(cats[i].name, name) == 0)
			return cats[i].cat;
	return 0;
}

const char *log_cat_name(uint32_t cat)
{
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		if (cats[i].cat == cat)
			return cats[i].name;
	return "?";
}

static void vlog(int prio, const char *fmt, va_list ap, int err)
	__attribute__((format(printf, 2, 0)));
static void vlog(int prio, const char *fmt, va_list ap, int err)
{
	char msg[1024];
	static const char *names[] = { [LOG_ERR] = "error",
				       [LOG_WARNING] = "warning",
				       [LOG_INFO] = "info",
				       [LOG_DEBUG] = "debug" };

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lg.sink) {
		if (err) {
			size_t n = strlen(msg);

			snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
		}
		lg.sink(lg.sink_arg, prio, msg);
	} else if (lg.to_stderr) {
		char pri[8] = "";

		if (lg.journal)
			snprintf(pri, sizeof(pri), "<%d>", prio);
		if (err)
			fprintf(stderr, "%s%s: %s: %s: %s\n", pri, lg.ident, names[prio], msg,
				strerror(err));
		else
			fprintf(stderr, "%s%s: %s: %s\n", pri, lg.ident, names[prio], msg);
		fflush(stderr);
	} else if (err) {
		syslog(prio, "%s: %s", msg, strerror(err));
	} else {
		syslog(prio, "%s", msg);
	}
}

#define LOG_FN(name, prio, with_errno)                                                             \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		int e = errno;                                                                     \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(prio, fmt, ap, with_errno ? e : 0);                                           \
		va_end(ap);                                                                        \
		errno = e;                                                                         \
	}

LOG_FN(log_err, LOG_ERR, 0)
LOG_FN(log_warn, LOG_WARNING, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_err_errno, LOG_ERR, 1)
LOG_FN(log_warn_errno, LOG_WARNING, 1)

void log_debug_msg(uint32_t cat, const char *fmt, ...)
{
	va_list ap;

	if (!(lg.debug & cat))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

/*
 * Lets a message of rate state rl through when fewer than burst went in this
 * RATE_INTERVAL (a new interval starts once it has passed since the first),
 * with the count of the suppressed ones since the last let through.
 */
static void vlog_rl(struct log_rate *rl, unsigned burst, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void vlog_rl(struct log_rate *rl, unsigned burst, int prio, const char *fmt, va_list ap)
{
	char msg[900];
	double now = (double)platform_monotonic_ns() * 1e-9;

	if (rl->last == 0 || now - rl->last >= RATE_INTERVAL) {
		rl->last = now;
		rl->burst = 0;
	}
	if (rl->burst >= burst) {
		rl->suppressed++;
		return;
	}
	rl->burst++;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (rl->suppressed) {
		if (prio == LOG_WARNING)
			log_warn("%s (and %u more like it suppressed)", msg, rl->suppressed);
		else
			log_info("%s (and %u more like it suppressed)", msg, rl->suppressed);
	} else if (prio == LOG_WARNING) {
		log_warn("%s", msg);
	} else {
		log_info("%s", msg);
	}
	rl->suppressed = 0;
}

void log_warn_rl(struct log_rate *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_rl(rl, 1, LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_info_rl(struct log_rate *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_rl(rl, LOG_INFO_BURST, LOG_INFO, fmt, ap);
	va_end(ap);
}
