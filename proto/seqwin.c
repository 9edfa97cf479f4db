#include "seqwin.h"

#include "ic_limits.h"

/* The rule both windows follow, on a distance from the highest: ahead by dist (1 or
 * more) advances; dist == 0 is the highest again; behind by 1..width is accepted once.
 * When mark, an accepted position is recorded. */
static enum seqwin_res step(uint64_t *below, bool ahead, uint64_t dist, unsigned width,
			    bool mark)
{
	uint64_t bit;

	if (ahead) {
		if (mark) /* the old highest is now dist below */
			*below = dist > width ? 0
					      : (dist >= 64 ? 0 : *below << dist) |
						    1ULL << (dist - 1);
		return SEQ_ADVANCE;
	}
	if (dist == 0 || dist > width)
		return SEQ_REJECT;
	bit = 1ULL << (dist - 1);
	if (*below & bit)
		return SEQ_REJECT;
	if (mark)
		*below |= bit;
	return SEQ_OLD_OK;
}

void seqwin_init(struct seqwin *w)
{
	w->top = 0;
	w->below = 0;
	w->started = false;
}

enum seqwin_res seqwin_accept(struct seqwin *w, uint16_t seq)
{
	int16_t d = (int16_t)(uint16_t)(seq - w->top);
	enum seqwin_res r;

	if (!w->started) {
		w->started = true;
		w->top = seq;
		w->below = 0;
		return SEQ_ADVANCE;
	}
	r = step(&w->below, d > 0, d > 0 ? (uint64_t)d : (uint64_t) - (int32_t)d,
		 IC_SEQ_WINDOW - 1, true);
	if (r == SEQ_ADVANCE)
		w->top = seq;
	return r;
}

void ctrwin_init(struct ctrwin *w)
{
	w->top = 0;
	w->below = 0;
	w->started = false;
}

enum seqwin_res ctrwin_check(const struct ctrwin *w, uint64_t c)
{
	uint64_t below = w->below;

	if (!w->started)
		return SEQ_ADVANCE;
	return step(&below, c > w->top, c > w->top ? c - w->top : w->top - c,
		    IC_CTR_WINDOW, false);
}

void ctrwin_mark(struct ctrwin *w, uint64_t c)
{
	if (!w->started) {
		w->started = true;
		w->top = c;
		w->below = 0;
		return;
	}
	if (step(&w->below, c > w->top, c > w->top ? c - w->top : w->top - c,
		 IC_CTR_WINDOW, true) == SEQ_ADVANCE)
		w->top = c;
}
