/* Anti-replay windows over nonces (see replay.h). */
#include "lib/replay.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

void replay_init(struct replay *r, enum replay_mode mode, uint64_t floor)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->floor = mode == REPLAY_INCREASING ? floor : 0;
}

static bool seen(const struct replay *r, uint64_t nonce)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->seen[i] == nonce)
			return true;
	return false;
}

/* Increasing mode, nonce new and above the floor: kept, the lowest dropped when full. */
static void take_increasing(struct replay *r, uint64_t nonce)
{
	size_t low = 0;

	if (r->n < REPLAY_WINDOW) {
		r->seen[r->n++] = nonce;
		return;
	}
	for (size_t i = 1; i < r->n; i++)
		if (r->seen[i] < r->seen[low])
			low = i;
	if (nonce < r->seen[low]) {
		r->floor = nonce; /* older than all we keep: taken once, then below the window */
		return;
	}
	r->floor = r->seen[low];
	r->seen[low] = nonce;
}

int replay_check(struct replay *r, uint64_t nonce)
{
	if (r->mode == REPLAY_INCREASING && nonce <= r->floor)
		return -ESTALE;
	if (seen(r, nonce))
		return -EALREADY;
	if (r->mode == REPLAY_INCREASING) {
		take_increasing(r, nonce);
		return 0;
	}
	r->seen[r->next] = nonce;
	r->next = (r->next + 1) % REPLAY_RECENT;
	if (r->n < REPLAY_RECENT)
		r->n++;
	return 0;
}
