/*
 * Anti-replay state for the nonces of one authenticated sender (the
 * unsolicited Map-Notifies of one Map-Server). Fixed size, no allocation.
 *
 * Increasing mode, for senders whose nonces grow (ours: nanoseconds of
 * the realtime clock, strictly increasing): the REPLAY_WINDOW highest
 * nonces taken are remembered, and a floor below them. A nonce above the
 * floor and not remembered is new; a remembered one is a repeat (a
 * retransmission, or a replay of one we took); one at or below the floor
 * is too old to tell and refused. The nonces are sparse (time, not a
 * sequence), so the window is the last REPLAY_WINDOW nonces taken, not the
 * REPLAY_WINDOW integers below the highest as in IPsec.
 *
 * Random mode, for senders whose nonces are random: the last
 * REPLAY_RECENT nonces taken are remembered; a replay of an older one
 * cannot be told from a new message.
 */
#ifndef LIB_REPLAY_H
#define LIB_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_WINDOW 64
#define REPLAY_RECENT 256

enum replay_mode {
	REPLAY_INCREASING,
	REPLAY_RANDOM,
};

struct replay {
	enum replay_mode mode;
	uint64_t floor; /* increasing: nonces at or below it are refused */
	uint64_t seen[REPLAY_RECENT];
	size_t n;    /* remembered */
	size_t next; /* random: the slot the next nonce takes */
};

/* Empty state; increasing mode refuses nonces at or below floor from the start. */
void replay_init(struct replay *r, enum replay_mode mode, uint64_t floor);

/*
 * Checks nonce and remembers it. 0: new (remembered now); -EALREADY: taken
 * before (nothing changes); -ESTALE: increasing mode, at or below the
 * floor (nothing changes).
 */
int replay_check(struct replay *r, uint64_t nonce);

#endif /* LIB_REPLAY_H */
