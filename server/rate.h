/* rate.h: per-client line rate limit: a token bucket (IC_RATE_BURST lines, refilled at
 * IC_RATE_PER_SEC) and the flood rule (more than IC_FLOOD_DROP_MAX drops within
 * IC_FLOOD_WINDOW_MS disconnects). Driven by the caller's clock. */
#ifndef IC_RATE_H
#define IC_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct rate {
	uint32_t milli_tokens;
	uint64_t last_ms;
	uint64_t err_ms; /* when the last ERROR FLOOD was due */
	bool err_sent;
	uint64_t win_ms;  /* start of the current drop window */
	unsigned dropped; /* lines dropped in it */
};

enum rate_res {
	RATE_OK,   /* take the line */
	RATE_DROP, /* drop it silently (an ERROR FLOOD went out less than 1 s ago) */
	RATE_DROP_NOTIFY, /* drop it and answer ERROR FLOOD */
	RATE_KICK,	  /* drop it and disconnect: the flood goes on */
};

void rate_init(struct rate *r, uint64_t now_ms);
enum rate_res rate_take(struct rate *r, uint64_t now_ms);

#endif
