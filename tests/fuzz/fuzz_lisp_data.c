/* Fuzz target: the data-plane header decoder; what decodes re-encodes to the same header. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/lisp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lisp_data_hdr h, d;
	uint8_t out[LISP_DATA_HDR_LEN];

	if (lisp_data_decode(data, size, &h) < 0) {
		assert(size < LISP_DATA_HDR_LEN);
		return 0;
	}
	assert(lisp_data_encode(&h, out) == 0); /* anything decoded is encodable */
	assert(lisp_data_decode(out, sizeof(out), &d) == 0);
	assert(memcmp(&h, &d, sizeof(h)) == 0);
	return 0;
}
