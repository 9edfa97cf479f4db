/* seqwin.h: replay windows. Over 16-bit RTP sequence numbers (section 2: the
 * IC_SEQ_WINDOW packets up to the highest), and over the 64-bit counters of encrypted
 * voice (section 3: the IC_CTR_WINDOW counters below the highest). One rule serves both.
 */
#ifndef IC_SEQWIN_H
#define IC_SEQWIN_H

#include <stdbool.h>
#include <stdint.h>

struct seqwin {
	uint16_t top;	/* highest sequence number seen */
	uint64_t below; /* bit i - 1: top - i was seen */
	bool started;
};

struct ctrwin {
	uint64_t top;	/* highest counter accepted */
	uint64_t below; /* bit i - 1: top - i was accepted */
	bool started;
};

enum seqwin_res {
	SEQ_REJECT = -1, /* a repeat, or older than the window */
	SEQ_OLD_OK = 0,	 /* accepted, within the window but not the highest */
	SEQ_ADVANCE = 1, /* accepted and the new highest */
};

void seqwin_init(struct seqwin *w);

/* Check seq and record it when accepted. A forward distance of 1..32767 (mod 2^16)
 * advances; a backward one of up to IC_SEQ_WINDOW - 1 is accepted once. Any first
 * number is accepted. */
enum seqwin_res seqwin_accept(struct seqwin *w, uint16_t seq);

void ctrwin_init(struct ctrwin *w);

/* Would counter c be accepted (any first one; above the highest H; or
 * H - IC_CTR_WINDOW <= c < H and not accepted before)? Records nothing: the caller
 * checks the tag first, then ctrwin_mark. */
enum seqwin_res ctrwin_check(const struct ctrwin *w, uint64_t c);

/* Record c as accepted (after ctrwin_check said it may be and its tag verified). */
void ctrwin_mark(struct ctrwin *w, uint64_t c);

#endif
