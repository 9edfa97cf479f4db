/* The event loop: fd events, timer order and cancelling, stop. Timers of 0 ms and pipes:
 * nothing sleeps. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

static struct loop *loop;
static char order[16];
static int norder;

static void mark(void *arg)
{
	order[norder++] = *(const char *)arg;
	if (norder == 3)
		loop_stop(loop);
}

static void test_timers_in_order_and_cancel(void **state)
{
	struct tmr a = {0}, b = {0}, c = {0}, d = {0};
	static const char ca = 'a', cb = 'b', cc = 'c', cd = 'd';

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	norder = 0;
	tmr_start(loop, &c, 2, mark, (void *)&cc);
	tmr_start(loop, &a, 0, mark, (void *)&ca);
	tmr_start(loop, &d, 1, mark, (void *)&cd);
	tmr_start(loop, &b, 1, mark, (void *)&cb);
	tmr_cancel(loop, &d);
	tmr_cancel(loop, &d); /* twice is harmless */
	assert_int_equal(loop_run(loop, NULL, NULL), 0);
	assert_int_equal(norder, 3);
	assert_memory_equal(order, "abc", 3);
	assert_false(a.active || b.active || c.active || d.active);
	loop_free(loop);
}

static int got_events;

static void on_read(int fd, int events, void *arg)
{
	char buf[8];

	(void)arg;
	assert_true(events & LOOP_READ);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	got_events++;
	loop_fd(loop, fd, 0, NULL, NULL);
	loop_stop(loop);
}

static void test_fd_event(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(pipe(p), 0);
	got_events = 0;
	assert_int_equal(loop_fd(loop, p[0], LOOP_READ, on_read, NULL), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(loop_run(loop, NULL, NULL), 0);
	assert_int_equal(got_events, 1);
	assert_int_equal(loop_fd(loop, -1, LOOP_READ, on_read, NULL), -EBADF);
	assert_int_equal(loop_fd(loop, 1 << 20, LOOP_READ, on_read, NULL), -EBADF);
	close(p[0]);
	close(p[1]);
	loop_free(loop);
}

static volatile sig_atomic_t quit;

static void set_quit(void *arg)
{
	(void)arg;
	quit = 1; /* as a signal handler would */
}

static void test_quit_flag(void **state)
{
	struct tmr t = {0};

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	quit = 0;
	tmr_start(loop, &t, 0, set_quit, NULL);
	assert_int_equal(loop_run(loop, &quit, NULL), 0);
	assert_int_equal(quit, 1);
	loop_free(loop);
}

/* A hot fd that is always ready (voice flowing) does not starve the others: a cold fd
 * that becomes ready is served (within LOOP_COLD_MS; a starved one would hang this test
 * until ctest's timeout), and the before-sleep hook runs far less often than the hot
 * handler. An idle loop serves a cold fd at its first wake-up. */
static int hot_calls, cold_calls, hooks;

static void hot_h(int fd, int events, void *arg)
{
	(void)fd, (void)events, (void)arg;
	hot_calls++; /* never drained: ready again at once */
}

static void cold_h(int fd, int events, void *arg)
{
	char c;

	(void)events, (void)arg;
	assert_int_equal(read(fd, &c, 1), 1);
	cold_calls++;
	loop_stop(loop);
}

static void count_hook(void *arg)
{
	(void)arg;
	hooks++;
}

static int cold_w;

static void make_cold_ready(void *arg)
{
	(void)arg;
	assert_int_equal(write(cold_w, "c", 1), 1);
}

static void test_hot_fd_does_not_starve_others(void **state)
{
	struct tmr t = {0};
	int hot[2], cold[2];

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(pipe(hot), 0);
	assert_int_equal(pipe(cold), 0);
	/* as many descriptors as a busy server: the cold one far up */
	assert_int_equal(dup2(cold[0], LOOP_HOT_MIN_FDS + 10), LOOP_HOT_MIN_FDS + 10);
	close(cold[0]);
	cold[0] = LOOP_HOT_MIN_FDS + 10;
	assert_int_equal(write(hot[1], "h", 1), 1);
	loop_fd(loop, hot[0], LOOP_READ, hot_h, NULL);
	loop_fd(loop, cold[0], LOOP_READ, cold_h, NULL);
	assert_int_equal(loop_fd_hot(loop, hot[0], true), 0);
	loop_set_before_sleep(loop, count_hook, NULL);
	/* the loop is spinning on the hot fd when the cold one becomes ready (a timer
	 * after the first wake-up) */
	hot_calls = cold_calls = hooks = 0;
	cold_w = cold[1];
	tmr_start(loop, &t, 0, make_cold_ready, NULL);
	assert_int_equal(loop_run(loop, NULL, NULL), 0);
	assert_int_equal(cold_calls, 1);
	/* polling every fd on each wake-up would have served it at the second */
	assert_true(hot_calls > 2);
	assert_true(hooks * 2 < hot_calls);
	/* idle, nothing hot ready: the cold fd is served at the first wake-up */
	loop_fd(loop, hot[0], 0, NULL,
		NULL); /* no longer watched: no longer hot either */
	hot_calls = cold_calls = 0;
	assert_int_equal(write(cold[1], "c", 1), 1);
	assert_int_equal(loop_run(loop, NULL, NULL), 0);
	assert_int_equal(cold_calls, 1);
	assert_int_equal(hot_calls, 0);
	/* the bounds (all LOOP_HOT_MAX free again: unwatching ended hot[0]'s turn) */
	assert_int_equal(loop_fd_hot(loop, -1, true), -EBADF);
	for (int i = 0; i < LOOP_HOT_MAX; i++)
		assert_int_equal(loop_fd_hot(loop, 100 + i, true), 0);
	assert_int_equal(loop_fd_hot(loop, 200, true), -ENOSPC);
	close(hot[0]), close(hot[1]), close(cold[0]), close(cold[1]);
	loop_free(loop);
}

/* With few descriptors the loop does not split them: a hot fd always ready and a cold
 * one ready too are both served at the first wake-up. */
static void test_few_fds_wait_on_all(void **state)
{
	int hot[2], cold[2];

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(pipe(hot), 0);
	assert_int_equal(pipe(cold), 0);
	assert_true(cold[0] < LOOP_HOT_MIN_FDS);
	assert_int_equal(write(hot[1], "h", 1), 1);
	loop_fd(loop, hot[0], LOOP_READ, hot_h, NULL);
	loop_fd(loop, cold[0], LOOP_READ, cold_h, NULL);
	assert_int_equal(loop_fd_hot(loop, hot[0], true), 0);
	hot_calls = cold_calls = 0;
	/* the loop spins hot; the cold fd becomes ready after the first wake-up */
	{
		struct tmr t = {0};

		cold_w = cold[1];
		tmr_start(loop, &t, 0, make_cold_ready, NULL);
		assert_int_equal(loop_run(loop, NULL, NULL), 0);
	}
	assert_int_equal(cold_calls, 1);
	assert_true(hot_calls <= 2); /* served at the wake-up after it was ready */
	close(hot[0]), close(hot[1]), close(cold[0]), close(cold[1]);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers_in_order_and_cancel),
	    cmocka_unit_test(test_fd_event),
	    cmocka_unit_test(test_quit_flag),
	    cmocka_unit_test(test_hot_fd_does_not_starve_others),
	    cmocka_unit_test(test_few_fds_wait_on_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
