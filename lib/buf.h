/*
 * Bounds-checked reader and writer over a byte buffer, network byte order.
 *
 * Both carry a sticky error: the first access past the end sets err
 * (-EBADMSG for a reader, -ENOSPC for a writer) and every later access
 * is a no-op returning zero, so a decoder can read a whole header and
 * check the error once. No allocation, no logging.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

struct buf_writer {
	uint8_t *p;
	size_t cap;
	size_t off;
	int err;
};

/* Start reading len bytes at data; the reader borrows data. */
static inline void buf_reader_init(struct buf_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* Bytes left to read (0 once an error is set). */
static inline size_t buf_remaining(const struct buf_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* Returns a pointer to the next n bytes and consumes them, or NULL (error set). */
static inline const uint8_t *buf_get_view(struct buf_reader *r, size_t n)
{
	const uint8_t *v;

	if (r->err || n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	v = r->p + r->off;
	r->off += n;
	return v;
}

/* Returns the next n bytes without consuming them, or NULL (no error set). */
static inline const uint8_t *buf_peek(const struct buf_reader *r, size_t n)
{
	if (r->err || n > r->len - r->off)
		return NULL;
	return r->p + r->off;
}

static inline void buf_skip(struct buf_reader *r, size_t n)
{
	(void)buf_get_view(r, n);
}

static inline uint8_t buf_get_u8(struct buf_reader *r)
{
	const uint8_t *v = buf_get_view(r, 1);

	return v ? v[0] : 0;
}

static inline uint16_t buf_get_be16(struct buf_reader *r)
{
	const uint8_t *v = buf_get_view(r, 2);

	return v ? (uint16_t)(v[0] << 8 | v[1]) : 0;
}

static inline uint32_t buf_get_be32(struct buf_reader *r)
{
	const uint8_t *v = buf_get_view(r, 4);

	if (!v)
		return 0;
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

static inline uint64_t buf_get_be64(struct buf_reader *r)
{
	uint64_t hi = buf_get_be32(r);

	return hi << 32 | buf_get_be32(r);
}

/* Copies the next n bytes to dst; on error dst is zero-filled. */
static inline void buf_get_bytes(struct buf_reader *r, void *dst, size_t n)
{
	const uint8_t *v = buf_get_view(r, n);

	if (v)
		memcpy(dst, v, n);
	else
		memset(dst, 0, n);
}

/*
 * Splits the next n bytes off into sub (a reader of its own) and consumes
 * them from r. On error sub is empty and both readers carry -EBADMSG.
 */
static inline void buf_reader_sub(struct buf_reader *r, size_t n, struct buf_reader *sub)
{
	const uint8_t *v = buf_get_view(r, n);

	buf_reader_init(sub, v, v ? n : 0);
	sub->err = r->err;
}

/* Start writing into cap bytes at data; the writer borrows data. */
static inline void buf_writer_init(struct buf_writer *w, void *data, size_t cap)
{
	w->p = data;
	w->cap = cap;
	w->off = 0;
	w->err = 0;
}

/* Reserves n bytes and returns them for the caller to fill, or NULL (error set). */
static inline uint8_t *buf_put_reserve(struct buf_writer *w, size_t n)
{
	uint8_t *v;

	if (w->err || n > w->cap - w->off) {
		w->err = -ENOSPC;
		return NULL;
	}
	v = w->p + w->off;
	w->off += n;
	return v;
}

static inline void buf_put_u8(struct buf_writer *w, uint8_t x)
{
	uint8_t *v = buf_put_reserve(w, 1);

	if (v)
		v[0] = x;
}

static inline void buf_put_be16(struct buf_writer *w, uint16_t x)
{
	uint8_t *v = buf_put_reserve(w, 2);

	if (v) {
		v[0] = (uint8_t)(x >> 8);
		v[1] = (uint8_t)x;
	}
}

static inline void buf_put_be32(struct buf_writer *w, uint32_t x)
{
	uint8_t *v = buf_put_reserve(w, 4);

	if (v) {
		v[0] = (uint8_t)(x >> 24);
		v[1] = (uint8_t)(x >> 16);
		v[2] = (uint8_t)(x >> 8);
		v[3] = (uint8_t)x;
	}
}

static inline void buf_put_be64(struct buf_writer *w, uint64_t x)
{
	buf_put_be32(w, (uint32_t)(x >> 32));
	buf_put_be32(w, (uint32_t)x);
}

static inline void buf_put_bytes(struct buf_writer *w, const void *src, size_t n)
{
	uint8_t *v = buf_put_reserve(w, n);

	if (v && n)
		memcpy(v, src, n);
}

static inline void buf_put_zero(struct buf_writer *w, size_t n)
{
	uint8_t *v = buf_put_reserve(w, n);

	if (v && n)
		memset(v, 0, n);
}

/* Writes a 16-bit value at an absolute offset already written (for lengths). */
static inline void buf_patch_be16(struct buf_writer *w, size_t at, uint16_t x)
{
	if (w->err || at + 2 > w->off)
		return;
	w->p[at] = (uint8_t)(x >> 8);
	w->p[at + 1] = (uint8_t)x;
}

static inline uint16_t buf_load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t buf_load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* LIB_BUF_H */
