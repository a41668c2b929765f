/* Small helpers every part uses. */
#ifndef LIB_UTIL_H
#define LIB_UTIL_H

#include <stddef.h>

/* The struct that holds member at ptr (for libev watchers embedded in their owner). */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* LIB_UTIL_H */
