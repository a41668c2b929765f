/*
 * Allocators that never return NULL: out of memory is fatal (the process
 * writes one line to stderr and aborts).
 */
#ifndef LIB_XALLOC_H
#define LIB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Reallocates to n elements of size bytes, checking n * size for overflow. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

#endif /* LIB_XALLOC_H */
