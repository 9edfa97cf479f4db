/* loop.h: a small single-threaded select() event loop: watch fds, fire timers.
 * The loop owns time: handlers read it with loop_now(). */
#ifndef IC_LOOP_H
#define IC_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct loop;

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

/* While only hot fds wake the loop (voice flowing), the other fds and the before-sleep
 * hook are looked at this often at least: a select() over every client's socket on each
 * of thousands of voice wake-ups a second would cost more than the voice itself, and a
 * line or a write waiting 10 ms is nothing to a person. */
#define LOOP_COLD_MS 10
#define LOOP_HOT_MAX 4 /* hot fds: the voice socket(s) */
/* Below this many descriptors a select() over all of them costs about what one over
 * the hot fds does, and waking every LOOP_COLD_MS for the others would cost more: the
 * loop then always waits on everything. */
#define LOOP_HOT_MIN_FDS 64

typedef void(loop_fd_h)(int fd, int events, void *arg);
typedef void(loop_hook_h)(void *arg);

/* A timer lives inside its owner: no allocation. Zero it before first use. */
struct tmr {
	uint64_t due_ms;
	void (*h)(void *arg);
	void *arg;
	struct tmr *next;
	bool active;
};

/* Create a loop for fds below FD_SETSIZE. Returns 0 or -ENOMEM. */
int loop_new(struct loop **lp);
void loop_free(struct loop *l);

/* Watch fd for events (LOOP_READ|LOOP_WRITE); 0 events stops watching (and ends its
 * being hot).
 * Returns 0, or -EBADF for an fd out of select()'s range. */
int loop_fd(struct loop *l, int fd, int events, loop_fd_h *h, void *arg);

/* Mark a watched fd hot (or not again): see LOOP_COLD_MS. Returns 0, -EBADF, or -ENOSPC
 * past LOOP_HOT_MAX. */
int loop_fd_hot(struct loop *l, int fd, bool hot);

/* Monotonic milliseconds, read once per wake-up so one event sees one time. */
uint64_t loop_now(const struct loop *l);

/* (Re)start t to fire once after ms milliseconds; tmr_cancel stops it. */
void tmr_start(struct loop *l, struct tmr *t, uint64_t ms, void (*h)(void *), void *arg);
void tmr_cancel(struct loop *l, struct tmr *t);

/* Called before each wait over every fd (e.g. to update write interest): before each
 * sleep, except while only hot fds wake the loop, then at least every LOOP_COLD_MS. */
void loop_set_before_sleep(struct loop *l, loop_hook_h *h, void *arg);

/* Run until loop_stop() or until *quit becomes non-zero (set from a signal handler;
 * the signals in `block` are only delivered while the loop sleeps, so none is missed).
 * Returns 0 or a negative errno from select(). */
int loop_run(struct loop *l, volatile sig_atomic_t *quit, const sigset_t *block);
void loop_stop(struct loop *l);

#endif
