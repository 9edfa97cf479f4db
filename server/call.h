/* call.h: one private call between two sessions: ringing, then active, then gone. */
#ifndef IC_CALL_H
#define IC_CALL_H

#include <stdbool.h>
#include <stdint.h>

struct sess;

enum call_state { CALL_RINGING, CALL_ACTIVE };

struct call {
	struct sess *caller, *callee;
	enum call_state state;
	uint64_t ring_due_ms; /* an unanswered request ends then */
};

/* A ringing call. Returns 0 or -ENOMEM. The caller of call_new frees with call_free. */
int call_new(struct call **cp, struct sess *caller, struct sess *callee, uint64_t now_ms,
	     uint64_t ring_ms);
void call_free(struct call *c);

/* The other party, or NULL if `me` is not in c. */
struct sess *call_peer(const struct call *c, const struct sess *me);

/* `who` answers (Accept or Deny): 0 if it is the callee of a ringing call with `from`,
 * else -EPERM. Accept also makes the call active. */
int call_answer(struct call *c, const struct sess *who, const struct sess *from,
		bool accept);

/* 0 if `who` may end c naming `other` (either side, ringing or active), else -EPERM. */
int call_check_end(const struct call *c, const struct sess *who,
		   const struct sess *other);

bool call_active(const struct call *c);
bool call_ring_expired(const struct call *c, uint64_t now_ms);

#endif
