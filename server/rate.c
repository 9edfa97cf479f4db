#include "rate.h"

#include "ic_limits.h"

#define MILLI 1000u

void rate_init(struct rate *r, uint64_t now_ms)
{
	r->milli_tokens = IC_RATE_BURST * MILLI;
	r->last_ms = now_ms;
	r->err_sent = false;
	r->err_ms = 0;
	r->win_ms = now_ms;
	r->dropped = 0;
}

enum rate_res rate_take(struct rate *r, uint64_t now_ms)
{
	uint64_t refill = (now_ms - r->last_ms) * IC_RATE_PER_SEC; /* milli-lines */
	uint64_t t = r->milli_tokens + refill;

	r->milli_tokens = t > IC_RATE_BURST * MILLI ? IC_RATE_BURST * MILLI : (uint32_t)t;
	r->last_ms = now_ms;
	if (r->milli_tokens >= MILLI) {
		r->milli_tokens -= MILLI;
		return RATE_OK;
	}
	if (now_ms - r->win_ms >= IC_FLOOD_WINDOW_MS) {
		r->win_ms = now_ms;
		r->dropped = 0;
	}
	if (++r->dropped > IC_FLOOD_DROP_MAX)
		return RATE_KICK;
	if (!r->err_sent || now_ms - r->err_ms >= IC_FLOOD_ERR_MS) {
		r->err_sent = true;
		r->err_ms = now_ms;
		return RATE_DROP_NOTIFY;
	}
	return RATE_DROP;
}
