/* The command line both daemons take: -d, -f FILE, -n, -s SOCKET, -v; -S FILE where allowed. */
#ifndef LIB_DAEMON_ARGS_H
#define LIB_DAEMON_ARGS_H

#include <stdbool.h>

struct daemon_args {
	const char *conf_path;	/* -f, preset to the default */
	const char *ctl_path;	/* -s, preset to the default */
	bool check, verbose;	/* -n, -v */
	bool allow_state;	/* the daemon takes -S */
	const char *state_path; /* -S: a state file kept across restarts, NULL for none */
};

/* Parses argv into a (debug logging is switched on for -d); calls usage() on anything else. */
void daemon_args_parse(int argc, char **argv, struct daemon_args *a, void (*usage)(void));

#endif /* LIB_DAEMON_ARGS_H */
