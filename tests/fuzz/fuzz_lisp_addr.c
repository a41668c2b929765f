/*
 * Fuzz target: address and prefix text parsing (format then parse must
 * give the same value back) and the wire forms of EIDs and locators
 * (decode, encode, decode gives the same value).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/lisp_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text(const uint8_t *data, size_t size)
{
	char s[128], out[LISP_PREFIX_STRLEN];
	struct lisp_addr a, b;
	struct lisp_prefix p, q;

	if (size >= sizeof(s))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (lisp_addr_parse(s, &a) == 0) {
		lisp_addr_format(&a, out, sizeof(out));
		assert(lisp_addr_parse(out, &b) == 0 && lisp_addr_equal(&a, &b));
	}
	if (lisp_prefix_parse(s, 0, &p) == 0) {
		lisp_prefix_format(&p, out, sizeof(out));
		assert(lisp_prefix_parse(out, 0, &q) == 0 && lisp_prefix_equal(&p, &q));
		assert(lisp_prefix_contains(&p, &q));
	}
}

static void wire(const uint8_t *data, size_t size)
{
	struct lisp_addr addrs[LISP_AFI_LIST_MAX], again[LISP_AFI_LIST_MAX];
	struct lisp_prefix p, q;
	uint8_t n, m, buf[256];
	bool list, list2;
	struct buf_reader r;
	struct buf_writer w;

	if (size < 1)
		return;
	buf_reader_init(&r, data + 1, size - 1);
	if (lisp_eid_decode(&r, data[0], &p) == 0) {
		buf_writer_init(&w, buf, sizeof(buf));
		lisp_eid_encode(&w, &p);
		buf_reader_init(&r, buf, w.off);
		assert(w.err == 0 && lisp_eid_decode(&r, data[0], &q) == 0);
		assert(lisp_prefix_equal(&p, &q));
	}
	buf_reader_init(&r, data + 1, size - 1);
	if (lisp_rloc_decode(&r, addrs, &n, &list) == 0) {
		buf_writer_init(&w, buf, sizeof(buf));
		lisp_rloc_encode(&w, addrs, n, list);
		buf_reader_init(&r, buf, w.off);
		assert(w.err == 0 && lisp_rloc_decode(&r, again, &m, &list2) == 0);
		assert(m == n && list2 == list);
		for (uint8_t i = 0; i < n; i++)
			assert(lisp_addr_equal(&addrs[i], &again[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	text(data, size);
	wire(data, size);
	return 0;
}
