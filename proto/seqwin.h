/* seqwin.h: the replay window over 16-bit RTP sequence numbers (IC_SEQ_WINDOW packets).
 */
#ifndef IC_SEQWIN_H
#define IC_SEQWIN_H

#include <stdbool.h>
#include <stdint.h>

struct seqwin {
	uint16_t top;  /* highest sequence number seen */
	uint64_t seen; /* bit i: top - i was seen */
	bool started;
};

enum seqwin_res {
	SEQ_REJECT = -1, /* a repeat, or older than the window */
	SEQ_OLD_OK = 0,	 /* accepted, within the window but not the highest */
	SEQ_ADVANCE = 1, /* accepted and the new highest */
};

void seqwin_init(struct seqwin *w);

/* Check seq and record it when accepted. A forward distance of 1..32767 (mod 2^16)
 * advances; a backward one within the window is accepted once. */
enum seqwin_res seqwin_accept(struct seqwin *w, uint16_t seq);

#endif
