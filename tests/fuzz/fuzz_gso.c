/*
 * Fuzz target: the segmentation offload between the TUN and the pipeline
 * (xtr-gateway/dataplane/gso.c). The input is a virtio-net header (10 bytes) and
 * a packet as the TUN hands them over: gso_split() refuses it or cuts it
 * into segments that fit their buffers; those are gathered again by
 * gro_build() (TCP, and UDP as with USO), which must consume at least one
 * and stay inside its buffer; what it builds is cut once more.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xtr-gateway/xtr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEGS 64
#define CAP  2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t o[SEGS][CAP], o2[SEGS][CAP], back[65536];
	uint8_t *bufs[SEGS], *bufs2[SEGS];
	size_t lens[SEGS], lens2[SEGS];
	const uint8_t *pp[SEGS];
	struct virtio_net_hdr vh;
	struct gso_out go = { .bufs = bufs, .lens = lens, .cap = CAP, .max = SEGS };
	struct gso_out go2 = { .bufs = bufs2, .lens = lens2, .cap = CAP, .max = SEGS };
	int n;

	if (size < sizeof(vh))
		return 0;
	memcpy(&vh, data, sizeof(vh));
	for (int i = 0; i < SEGS; i++) {
		bufs[i] = o[i];
		bufs2[i] = o2[i];
	}
	n = gso_split(&vh, data + sizeof(vh), size - sizeof(vh), &go);
	if (n <= 0)
		return 0;
	assert((size_t)n == go.n && n <= SEGS);
	for (int i = 0; i < n; i++) {
		assert(lens[i] <= CAP);
		pp[i] = o[i];
	}
	for (int udp = 0; udp < 2; udp++) {
		for (size_t i = 0; i < (size_t)n;) {
			struct gro_unit u;
			size_t k = gro_build(pp + i, lens + i, (size_t)n - i, &u, back,
					     sizeof(back), udp);

			assert(k >= 1 && k <= (size_t)n - i);
			if (u.buf) {
				assert(u.buf == back && u.len <= sizeof(back) && k >= 2);
				assert(gso_split(&u.vh, u.buf, u.len, &go2) >= 1);
			} else {
				assert(k == 1 && u.len == lens[i]);
			}
			i += k;
		}
	}
	return 0;
}
