#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

struct loop_fd {
	loop_fd_h *h;
	void *arg;
	int events;
};

struct loop {
	struct loop_fd fds[FD_SETSIZE];
	int maxfd;
	struct tmr *timers; /* sorted by due time */
	uint64_t now;
	bool stop;
	loop_hook_h *before_sleep;
	void *before_sleep_arg;
	int hot[LOOP_HOT_MAX];
	int nhot;
	bool hot_streak;   /* the last wake-up was hot fds alone */
	uint64_t cold_due; /* the next wait over every fd is due then at the latest */
};

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int loop_new(struct loop **lp)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->maxfd = -1;
	l->now = clock_ms();
	*lp = l;
	return 0;
}

void loop_free(struct loop *l)
{
	free(l);
}

int loop_fd(struct loop *l, int fd, int events, loop_fd_h *h, void *arg)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return -EBADF;
	if (!events)
		loop_fd_hot(l, fd, false); /* a hot fd no longer watched is not hot */
	l->fds[fd].events = events;
	l->fds[fd].h = events ? h : NULL;
	l->fds[fd].arg = arg;
	if (events && fd > l->maxfd)
		l->maxfd = fd;
	while (l->maxfd >= 0 && !l->fds[l->maxfd].events)
		l->maxfd--;
	return 0;
}

/* Where fd is among the hot fds; l->nhot when it is not one. */
static int hot_index(const struct loop *l, int fd)
{
	int i = 0;

	while (i < l->nhot && l->hot[i] != fd)
		i++;
	return i;
}

int loop_fd_hot(struct loop *l, int fd, bool hot)
{
	int i;

	if (fd < 0 || fd >= FD_SETSIZE)
		return -EBADF;
	i = hot_index(l, fd);
	if (hot && i == l->nhot) {
		if (l->nhot == LOOP_HOT_MAX)
			return -ENOSPC;
		l->hot[l->nhot++] = fd;
	} else if (!hot && i < l->nhot) {
		l->hot[i] = l->hot[--l->nhot];
	}
	return 0;
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void tmr_cancel(struct loop *l, struct tmr *t)
{
	struct tmr **pp;

	if (!t->active)
		return;
	for (pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->active = false;
	t->next = NULL;
}

void tmr_start(struct loop *l, struct tmr *t, uint64_t ms, void (*h)(void *), void *arg)
{
	struct tmr **pp;

	tmr_cancel(l, t);
	t->due_ms = l->now + ms;
	t->h = h;
	t->arg = arg;
	for (pp = &l->timers; *pp && (*pp)->due_ms <= t->due_ms; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->active = true;
}

void loop_set_before_sleep(struct loop *l, loop_hook_h *h, void *arg)
{
	l->before_sleep = h;
	l->before_sleep_arg = arg;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

static void run_timers(struct loop *l)
{
	while (l->timers && l->timers->due_ms <= l->now) {
		struct tmr *t = l->timers;

		l->timers = t->next;
		t->active = false;
		t->next = NULL;
		t->h(t->arg);
	}
}

int loop_run(struct loop *l, volatile sig_atomic_t *quit, const sigset_t *block)
{
	sigset_t waitmask;

	sigemptyset(&waitmask);
	if (block)
		sigprocmask(SIG_BLOCK, block, &waitmask);
	l->stop = false;
	while (!l->stop && !(quit && *quit)) {
		fd_set rd, wr;
		struct timespec ts, *tp = NULL;
		uint64_t now = clock_ms(), wait = UINT64_MAX;
		/* voice flowing: wait on the hot fds alone until the others are due */
		bool fast = l->hot_streak && now < l->cold_due &&
			    l->maxfd >= LOOP_HOT_MIN_FDS,
		     woke_hot = false, woke_cold = false;
		int n;

		if (!fast && l->before_sleep)
			l->before_sleep(l->before_sleep_arg);
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		for (int i = 0, end = fast ? l->nhot : l->maxfd + 1; i < end; i++) {
			int fd = fast ? l->hot[i] : i;

			if (l->fds[fd].events & LOOP_READ)
				FD_SET(fd, &rd);
			if (l->fds[fd].events & LOOP_WRITE)
				FD_SET(fd, &wr);
		}
		if (l->timers)
			wait = l->timers->due_ms > now ? l->timers->due_ms - now : 0;
		if (fast && l->cold_due - now < wait)
			wait = l->cold_due - now;
		if (wait != UINT64_MAX) {
			ts.tv_sec = (time_t)(wait / 1000);
			ts.tv_nsec = (long)(wait % 1000) * 1000000L;
			tp = &ts;
		}
		n = pselect(l->maxfd + 1, &rd, &wr, NULL, tp, &waitmask);
		l->now = clock_ms();
		if (!fast)
			l->cold_due = l->now + LOOP_COLD_MS;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0, end = fast ? l->nhot : l->maxfd + 1; n > 0 && i < end;
		     i++) {
			int fd = fast ? l->hot[i] : i, ev = 0;

			if (FD_ISSET(fd, &rd))
				ev |= LOOP_READ;
			if (FD_ISSET(fd, &wr))
				ev |= LOOP_WRITE;
			if (!ev)
				continue;
			n--;
			if (hot_index(l, fd) < l->nhot)
				woke_hot = true;
			else
				woke_cold = true;
			/* a handler may have stopped watching this fd (or closed it) */
			ev &= l->fds[fd].events;
			if (ev && l->fds[fd].h)
				l->fds[fd].h(fd, ev, l->fds[fd].arg);
		}
		l->hot_streak = woke_hot && !woke_cold;
		run_timers(l);
	}
	if (block)
		sigprocmask(SIG_SETMASK, &waitmask, NULL);
	return 0;
}
