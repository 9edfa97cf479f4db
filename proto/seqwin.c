#include "seqwin.h"

#include "limits.h"

void seqwin_init(struct seqwin *w)
{
	w->top = 0;
	w->seen = 0;
	w->started = false;
}

enum seqwin_res seqwin_accept(struct seqwin *w, uint16_t seq)
{
	int16_t d;

	if (!w->started) {
		w->started = true;
		w->top = seq;
		w->seen = 1;
		return SEQ_ADVANCE;
	}
	d = (int16_t)(uint16_t)(seq - w->top);
	if (d > 0) {
		w->seen = d >= IC_SEQ_WINDOW ? 1 : (w->seen << d) | 1;
		w->top = seq;
		return SEQ_ADVANCE;
	}
	if (d == 0 || -d >= IC_SEQ_WINDOW)
		return SEQ_REJECT;
	if (w->seen & (1ULL << -d))
		return SEQ_REJECT;
	w->seen |= 1ULL << -d;
	return SEQ_OLD_OK;
}
