/* The delay estimator on its own, driven as the canceller drives it: a 10 ms frame of
 * microphone at a time, then a run with the offset the canceller holds, the move it
 * returns taken off that offset. The room is a pure delay (the microphone hears the
 * reference p samples away: mic[c] = ref[c + p]), moved mid-run as an acoustic path or
 * a sound server's queue moves. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dlyest.h"

#define RATE  AEC_RATE
#define FRAME (RATE / 100)
#define SECS  12
#define N     (SECS * RATE)
#define AHEAD (RATE / 20) /* the reference written this far past the anchored place */
#define HOME  (RATE / 50) /* the echo found 20 ms inside the filter */

/* A talker's stand-in: noise through a one-pole low-pass, so that its spectrum leans
 * to the bass as a voice's does (the estimator whitens it). */
static void talk(int16_t *x, size_t n, uint32_t seed, double amp)
{
	double lp = 0;

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		lp = 0.7 * lp + 0.3 * ((double)(seed >> 16) / 32768.0 - 1.0);
		x[i] = (int16_t)lrint(amp * lp);
	}
}

struct world {
	int16_t ref[N], near[N];
	int64_t p_at[2], p_from; /* p before capture index p_from, then after */
	int64_t offset;
	bool deaf; /* the microphone hears none of what is played */
	int64_t moves[8], n_moves, moved_at[8];
};

static int16_t mic_at(const struct world *w, int64_t c)
{
	int64_t p = c < w->p_from ? w->p_at[0] : w->p_at[1];
	int64_t k = c + p;
	int32_t v = w->near[c] + (k >= 0 && k < N && !w->deaf ? w->ref[k] : 0);

	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* Runs the estimator over the whole signal; anchor_at (a capture index, or -1) is where
 * the canceller anchors again. */
static void run(struct world *w, int64_t anchor_at)
{
	struct dlyest *d;
	assert_int_equal(dlyest_new(&d), 0);
	for (int64_t c = 0; c + FRAME <= N; c += FRAME) {
		int16_t mic[FRAME];
		struct dlyest_ref ref = {w->ref, N, c + FRAME + w->offset + AHEAD};
		int64_t move;

		if (c == anchor_at)
			dlyest_anchored(d, c + FRAME);
		for (int i = 0; i < FRAME; i++)
			mic[i] = mic_at(w, c + i);
		dlyest_mic(d, c, mic, FRAME);
		move = dlyest_run(d, c + FRAME, w->offset, &ref);
		if (!move)
			continue;
		assert_true(w->n_moves < 8);
		w->moved_at[w->n_moves] = c + FRAME;
		w->moves[w->n_moves++] = move;
		w->offset -= move;
	}
	dlyest_free(d);
}

static struct world *world_new(double echo, double near)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	talk(w->ref, N, 11, echo);
	if (near > 0)
		talk(w->near, N, 23, near);
	w->p_at[0] = w->p_at[1] =
	    -RATE / 4; /* the echo 250 ms behind the capture index */
	w->p_from = N;
	w->offset = w->p_at[0] + HOME;
	return w;
}

/* An echo that stays where it was found is never moved. */
static void test_still(void **state)
{
	struct world *w = world_new(8000, 0);

	(void)state;
	run(w, -1);
	assert_int_equal(w->n_moves, 0);
	free(w);
}

/* The echo 40 ms later from 5 s on (a sound server's queue grew), echo and near talker
 * at the levels given: the reference moves exactly that much, once, within two
 * estimates' time. */
static void jump(double echo, double near)
{
	struct world *w = world_new(echo, near);

	w->p_from = 5 * RATE;
	w->p_at[1] = w->p_at[0] - RATE / 25;
	run(w, -1);
	assert_int_equal(w->n_moves, 1);
	assert_int_equal(w->moves[0], RATE / 25);
	assert_true(w->moved_at[0] > w->p_from);
	assert_true(w->moved_at[0] <= w->p_from + DLYEST_WIN + 2 * DLYEST_CALM);
	free(w);
}

static void test_jump(void **state)
{
	(void)state;
	jump(8000, 0);
}

/* The same while a near talker as loud as the echo talks all along: found the same,
 * to the sample. */
static void test_jump_double_talk(void **state)
{
	(void)state;
	jump(6000, 6000);
}

/* Right after an anchor the devices' delay can be a few samples off: the first (short)
 * estimate moves it back at once, without waiting for a second. */
static void test_fresh_anchor(void **state)
{
	struct world *w = world_new(8000, 0);
	int64_t at = 4 * RATE;

	(void)state;
	w->p_from = at;
	w->p_at[1] = w->p_at[0] - 10;
	run(w, at);
	assert_int_equal(w->n_moves, 1);
	assert_int_equal(w->moves[0], 10);
	assert_true(w->moved_at[0] <= at + DLYEST_FRESH + 2 * FRAME);
	free(w);
}

/* The far end plays all along, but the microphone hears only a near talker (a headset,
 * a muted speaker): no echo is found, so nothing moves. */
static void test_near_alone(void **state)
{
	struct world *w = world_new(8000, 8000);

	(void)state;
	w->deaf = true;
	w->p_from = 5 * RATE;
	w->p_at[1] = w->p_at[0] - RATE / 25;
	run(w, -1);
	assert_int_equal(w->n_moves, 0);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_still),
	    cmocka_unit_test(test_jump),
	    cmocka_unit_test(test_jump_double_talk),
	    cmocka_unit_test(test_fresh_anchor),
	    cmocka_unit_test(test_near_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
