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
	l->fds[fd].events = events;
	l->fds[fd].h = events ? h : NULL;
	l->fds[fd].arg = arg;
	if (events && fd > l->maxfd)
		l->maxfd = fd;
	while (l->maxfd >= 0 && !l->fds[l->maxfd].events)
		l->maxfd--;
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
		int n;

		if (l->before_sleep)
			l->before_sleep(l->before_sleep_arg);
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		for (int fd = 0; fd <= l->maxfd; fd++) {
			if (l->fds[fd].events & LOOP_READ)
				FD_SET(fd, &rd);
			if (l->fds[fd].events & LOOP_WRITE)
				FD_SET(fd, &wr);
		}
		if (l->timers) {
			uint64_t now = clock_ms();
			uint64_t wait =
			    l->timers->due_ms > now ? l->timers->due_ms - now : 0;

			ts.tv_sec = (time_t)(wait / 1000);
			ts.tv_nsec = (long)(wait % 1000) * 1000000L;
			tp = &ts;
		}
		n = pselect(l->maxfd + 1, &rd, &wr, NULL, tp, &waitmask);
		l->now = clock_ms();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int fd = 0; n > 0 && fd <= l->maxfd; fd++) {
			int ev = 0;

			if (FD_ISSET(fd, &rd))
				ev |= LOOP_READ;
			if (FD_ISSET(fd, &wr))
				ev |= LOOP_WRITE;
			if (!ev)
				continue;
			n--;
			/* a handler may have stopped watching this fd (or closed it) */
			ev &= l->fds[fd].events;
			if (ev && l->fds[fd].h)
				l->fds[fd].h(fd, ev, l->fds[fd].arg);
		}
		run_timers(l);
	}
	if (block)
		sigprocmask(SIG_SETMASK, &waitmask, NULL);
	return 0;
}
