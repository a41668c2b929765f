/* IOS-style configuration reader: tokenizer and mode stack. */
#include "lib/conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

int conf_error(struct conf_parser *p, const char *fmt, ...)
{
	char msg[CONF_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (snprintf(p->err, sizeof(p->err), "%s:%u: %s", p->file, p->line, msg) >=
	    (int)sizeof(p->err))
		strcpy(p->err + sizeof(p->err) - 4, "...");
	return -EINVAL;
}

int conf_mode(const struct conf_parser *p)
{
	return p->depth ? p->stack[p->depth - 1] : CONF_TOP;
}

bool conf_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Splits line into words in place; "!" at the start of a word ends the line. */
static int tokenize(struct conf_parser *p, char *line, char **words)
{
	int n = 0;
	char *s = line;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0' || *s == '!')
			return n;
		if (n == CONF_MAX_WORDS)
			return conf_error(p, "too many words on one line");
		words[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

/* Number of keywords of cmd that match words, or 0 if it does not match. */
static int match(const struct conf_cmd *cmd, char **words, int n)
{
	const char *kw = cmd->words;
	int i = 0;

	while (*kw) {
		size_t len = strcspn(kw, " ");

		if (i >= n || strlen(words[i]) != len || strncasecmp(words[i], kw, len) != 0)
			return 0;
		i++;
		kw += len;
		while (*kw == ' ')
			kw++;
	}
	return i;
}

/* The longest command of mode that matches the words, and how many words it used. */
static const struct conf_cmd *find(const struct conf_parser *p, int mode, char **words, int n,
				   int *used, bool wildcard)
{
	const struct conf_cmd *best = NULL, *any = NULL;

	*used = 0;
	for (size_t i = 0; i < p->ncmds; i++) {
		int m;

		if (p->cmds[i].mode != mode)
			continue;
		if (strcmp(p->cmds[i].words, "*") == 0) {
			any = &p->cmds[i];
			continue;
		}
		m = match(&p->cmds[i], words, n);
		if (m > *used) {
			*used = m;
			best = &p->cmds[i];
		}
	}
	return wildcard ? any : best;
}

static int run(struct conf_parser *p, const struct conf_cmd *cmd, char **words, int n, int used)
{
	int argc = n - used, rc;

	if (argc < cmd->min_args || argc > cmd->max_args)
		return conf_error(p, "%s: %s; usage: %s%s%s", cmd->words,
				  argc < cmd->min_args ? "missing argument" : "too many arguments",
				  cmd->words, cmd->args[0] ? " " : "", cmd->args);
	if (cmd->fn) {
		p->cmd = cmd;
		rc = cmd->fn(p, argc, words + used);
		if (rc < 0)
			return rc;
	}
	if (cmd->enters != CONF_NONE) {
		if (p->depth == CONF_MAX_DEPTH)
			return conf_error(p, "configuration nested too deep");
		p->stack[p->depth++] = cmd->enters;
	}
	return 0;
}

static int line(struct conf_parser *p, char *text)
{
	char *words[CONF_MAX_WORDS];
	const struct conf_cmd *cmd;
	int n = tokenize(p, text, words), used, depth;

	if (n <= 0)
		return n;
	/* IOS-XE closes a mode with exit-<mode> (exit-locator-set, exit-router-lisp ...) */
	if (n == 1 &&
	    (strcasecmp(words[0], "exit") == 0 || strncasecmp(words[0], "exit-", 5) == 0)) {
		if (p->depth)
			p->depth--;
		return 0;
	}
	if (n == 1 && strcasecmp(words[0], "end") == 0) {
		p->depth = 0;
		return 0;
	}
	/*
	 * The current mode, then each enclosing one: a command of an outer
	 * mode closes the inner. A mode's catch-all ("*") takes a line only
	 * when no mode has a command for it.
	 */
	for (int wild = 0; wild < 2; wild++) {
		for (depth = p->depth; depth >= 0; depth--) {
			cmd = find(p, depth ? p->stack[depth - 1] : CONF_TOP, words, n, &used,
				   wild);
			if (cmd) {
				p->depth = depth;
				return run(p, cmd, words, n, used);
			}
		}
	}
	return conf_error(p, "unknown or misplaced command '%s'", words[0]);
}

int conf_parse_string(const char *name, const char *text, const struct conf_cmd *cmds, size_t ncmds,
		      void *arg, char *err, size_t errlen)
{
	struct conf_parser p = { .cmds = cmds, .ncmds = ncmds, .arg = arg, .file = name };
	char buf[CONF_MAX_LINE + 1];
	const char *s = text;
	int rc = 0;

	while (*s && rc == 0) {
		size_t len = strcspn(s, "\n");

		p.line++;
		if (len > CONF_MAX_LINE) {
			rc = conf_error(&p, "line longer than %d characters", CONF_MAX_LINE);
			break;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (memchr(buf, '\0', len) != NULL && strlen(buf) != len)
			rc = conf_error(&p, "NUL byte in line");
		else
			rc = line(&p, buf);
		s += len;
		if (*s == '\n')
			s++;
	}
	if (rc < 0 && err && snprintf(err, errlen, "%s", p.err) >= (int)errlen && errlen > 3)
		strcpy(err + errlen - 4, "...");
	return rc < 0 ? -EINVAL : 0;
}

int conf_parse_file(const char *path, const struct conf_cmd *cmds, size_t ncmds, void *arg,
		    char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    size > (1L << 26)) {
		snprintf(err, errlen, "%s: cannot read (too large or not a regular file)", path);
		fclose(f);
		return -EINVAL;
	}
	text = xmalloc((size_t)size + 1);
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	text[size] = '\0';
	if (strlen(text) != (size_t)size)
		rc = (snprintf(err, errlen, "%s: NUL byte in file", path), -EINVAL);
	else
		rc = conf_parse_string(path, text, cmds, ncmds, arg, err, errlen);
	free(text);
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int conf_parse_key(struct conf_parser *p, const char *type, const char *key, uint8_t *out,
		   size_t *outlen, size_t max)
{
	size_t len = strlen(key);

	if (type && (strcmp(type, "6") == 0 || strcmp(type, "7") == 0))
		return conf_error(
			p,
			"%s: type %s (an IOS-encrypted key) is not supported: give the key "
			"in clear ('0 KEY') or its bytes in hex ('hex HEXDIGITS')",
			p->cmd->words, type);
	if (type && strcmp(type, "0") != 0 && strcasecmp(type, "hex") != 0)
		return conf_error(p, "%s: key type must be 0 (clear) or hex, not '%s'",
				  p->cmd->words, type);
	if (!type || strcmp(type, "0") == 0) {
		if (len > max)
			return conf_error(p, "%s longer than %zu bytes", p->cmd->words, max);
		memcpy(out, key, len);
		*outlen = len;
		return 0;
	}
	if (len == 0 || len % 2 || len / 2 > max)
		return conf_error(
			p, "%s hex: expected an even number of hex digits, at most %zu bytes",
			p->cmd->words, max);
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(key[i]), lo = hexval(key[i + 1]);

		if (hi < 0 || lo < 0)
			return conf_error(p, "%s hex: '%s' is not hex", p->cmd->words, key);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return 0;
}
