/*
 * Logging for the daemons: to stderr (foreground, the systemd journal
 * reads it) or to syslog. Messages are "module: what happened: detail".
 * Debug messages belong to categories switched on at run time. Messages
 * a remote peer can trigger go through a struct log_rate (one message per
 * interval; the count of suppressed ones is reported with the next).
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h> /* LOG_ERR ... for log_plain() */

enum log_cat {
	LOG_REGISTER = 1 << 0,
	LOG_MAPCACHE = 1 << 1,
	LOG_CTL = 1 << 2,
	LOG_NFQ = 1 << 3,
	LOG_VIRT = 1 << 4,
	LOG_PACKET = 1 << 5,
};

struct log_rate {
	double last;	     /* time of the last message let through */
	unsigned suppressed; /* since then */
	unsigned burst;	     /* log_info_rl: messages let through in this interval */
};

/*
 * Starts logging as ident; to_stderr false sends to syslog (daemon
 * facility). Under systemd, when stderr is the
 * journal (JOURNAL_STREAM names it), each line starts with its syslog
 * priority, <3> to <7>, which journald reads as the level.
 */
void log_init(const char *ident, bool to_stderr);
/* Messages go to fn (prio: syslog's) instead of stderr or syslog; NULL: back (tests/sim's trace). */
void log_set_sink(void (*fn)(void *arg, int prio, const char *msg), void *arg);
/* True if journal_stream (JOURNAL_STREAM's value) names this process's stderr. */
bool log_stderr_is_journal(const char *journal_stream);

/* Switches debug categories: the bitmask of enum log_cat that is on. */
void log_set_debug(uint32_t cats);
uint32_t log_get_debug(void);

/* The category of a name ("register", ...), or 0 if unknown; and the name of one category. */
uint32_t log_cat_from_name(const char *name);
const char *log_cat_name(uint32_t cat);

/*
 * The answer of a configuration check (-n) on stderr as it is, "file:line:
 * ..." first as compilers print it; under systemd with priority prio
 * (LOG_ERR, LOG_INFO), so that `journalctl -p warning` has a refused
 * configuration and not "configuration OK".
 */
void log_plain(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug_msg(uint32_t cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A debug message of a category; its arguments are not evaluated when the category is off. */
#define log_debug(cat, ...)                                                                        \
	do {                                                                                       \
		if (log_get_debug() & (cat))                                                       \
			log_debug_msg((cat), __VA_ARGS__);                                         \
	} while (0)
/* The same with ": strerror(errno)" appended. */
void log_err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs at error level and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A warning that at most once per 10 s per rate state reaches the log. */
void log_warn_rl(struct log_rate *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An info message of which at most LOG_INFO_BURST per 10 s per rate state reach the log. */
#define LOG_INFO_BURST 20
void log_info_rl(struct log_rate *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* LIB_LOG_H */
