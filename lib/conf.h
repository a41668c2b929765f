/*
 * IOS-style configuration reader shared by the daemons: one command a
 * line, keywords case-insensitive, "!" starts a comment, indentation not
 * significant. Commands live in modes (router lisp, site, ...): a line
 * that is not a command of the current mode closes modes until one
 * knows it (as IOS does), "exit" closes one, "end" all. The reader only
 * calls the daemon's handlers; they fill the daemon's config struct.
 * Errors read "FILE:LINE: message". No side effects, no logging.
 */
#ifndef LIB_CONF_H
#define LIB_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_TOP       0  /* the global mode */
#define CONF_NONE      -1 /* "enters": the command opens no mode */
#define CONF_MAX_WORDS 32
#define CONF_MAX_DEPTH 8
#define CONF_ERR_LEN   512
#define CONF_MAX_LINE  1024

struct conf_parser;

/* Handles one line: argv are the words after the command's keywords. Returns 0 or conf_error(). */
typedef int (*conf_fn)(struct conf_parser *p, int argc, char **argv);

struct conf_cmd {
	int mode;	   /* the mode the command belongs to */
	const char *words; /* keywords, space-separated ("ipv4 map-server"); "*": any line
			      no other command of the mode takes, all its words as arguments */
	int min_args;
	int max_args;
	int enters;	  /* the mode the line opens, or CONF_NONE */
	conf_fn fn;	  /* NULL: nothing to do beyond entering a mode */
	const char *args; /* argument synopsis for error messages, "" for none */
	int data;	  /* for the handler: tells apart commands sharing one */
};

struct conf_parser {
	const struct conf_cmd *cmds;
	size_t ncmds;
	void *arg; /* the daemon's parse state */
	const char *file;
	unsigned line;
	const struct conf_cmd *cmd; /* the command being handled */
	int stack[CONF_MAX_DEPTH];
	int depth; /* modes open above CONF_TOP */
	char err[CONF_ERR_LEN];
};

/*
 * Reads a configuration from text (named name in messages) with the
 * given commands; arg is handed to the handlers in p->arg. Returns 0, or
 * -EINVAL with the first error in err (err may be NULL).
 */
int conf_parse_string(const char *name, const char *text, const struct conf_cmd *cmds, size_t ncmds,
		      void *arg, char *err, size_t errlen);

/* The same from a file; a file that cannot be read is reported in err too (-errno). */
int conf_parse_file(const char *path, const struct conf_cmd *cmds, size_t ncmds, void *arg,
		    char *err, size_t errlen);

/* Records "FILE:LINE: message" as the parse error; returns -EINVAL for the handler to return. */
int conf_error(struct conf_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The mode the current line is in (after any closing), for handlers shared between modes. */
int conf_mode(const struct conf_parser *p);

/*
 * A pre-shared key: type NULL or "0" (the key in clear) or "hex" (its
 * bytes in hex), at most max bytes, into out. IOS's types 6 and 7 (keys
 * encrypted on the router) are refused with a message saying what to
 * write instead. Returns 0 or conf_error() naming the command.
 */
int conf_parse_key(struct conf_parser *p, const char *type, const char *key, uint8_t *out,
		   size_t *outlen, size_t max);

/* Parses a decimal unsigned number in [min, max]; false if s is not one. */
bool conf_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif /* LIB_CONF_H */
