/*
 * Fuzz target: the xtr-gateway configuration parser. What parses prints
 * (printconf) to text that parses again and prints the same.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtr-gateway/xtr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct xtr_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	xtr_conf_print(c, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512], *once, *twice;
	struct xtr_conf *c, *again;

	memcpy(text, data, size);
	text[size] = '\0';
	c = xtr_conf_parse_string("fuzz", text, err, sizeof(err));
	free(text);
	if (!c)
		return 0;
	once = print(c);
	again = xtr_conf_parse_string("printed", once, err, sizeof(err));
	assert(again);
	twice = print(again);
	assert(strcmp(once, twice) == 0);
	free(once);
	free(twice);
	xtr_conf_free(c);
	xtr_conf_free(again);
	return 0;
}
