/* The real libopus through our wrapper: round trip, FEC recovery of a lost frame, PLC. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

#define FRAMES 50
#define N      960

static int16_t in[FRAMES * N], out[FRAMES * N];

/* A voice-like test signal: two harmonics with a slow amplitude swell. */
static void make_signal(void)
{
	for (int i = 0; i < FRAMES * N; i++) {
		double t = (double)i / CODEC_RATE,
		       env = 0.5 + 0.5 * sin(2 * M_PI * 2 * t);

		in[i] =
		    (int16_t)(8000 * env *
			      (sin(2 * M_PI * 300 * t) + 0.5 * sin(2 * M_PI * 600 * t)));
	}
}

/* Best normalised cross-correlation of out against in over lags 0..max_lag. */
static double best_corr(const int16_t *a, const int16_t *b, size_t n, int max_lag)
{
	double best = 0;

	for (int lag = 0; lag <= max_lag; lag += 8) {
		double ab = 0, aa = 0, bb = 0;

		for (size_t i = 0; i + (size_t)lag < n; i++) {
			ab += (double)a[i] * b[i + (size_t)lag];
			aa += (double)a[i] * a[i];
			bb += (double)b[i + (size_t)lag] * b[i + (size_t)lag];
		}
		if (aa > 0 && bb > 0 && ab / sqrt(aa * bb) > best)
			best = ab / sqrt(aa * bb);
	}
	return best;
}

static double energy(const int16_t *p, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)p[i] * p[i];
	return e / (double)n;
}

static void test_round_trip(void **state)
{
	struct codec_cfg c;
	struct codec_enc *e;
	struct codec_dec *d;
	uint8_t pkt[CODEC_MAX_PKT];
	size_t bytes = 0;

	(void)state;
	make_signal();
	codec_cfg_default(&c);
	assert_int_equal(codec_enc_new(&e, &c), 0);
	assert_int_equal(codec_dec_new(&d), 0);
	for (int f = 0; f < FRAMES; f++) {
		int n = codec_encode(e, in + f * N, pkt, sizeof(pkt));

		assert_true(n > 0 && n < 200);
		bytes += (size_t)n;
		assert_int_equal(codec_decode(d, pkt, (size_t)n, out + f * N, N), N);
	}
	/* about 24 kbit/s: 60 bytes a frame on average (the first ones are larger) */
	assert_true(bytes / FRAMES >= 40 && bytes / FRAMES <= 90);
	/* skip the first frames (start-up), allow the codec's look-ahead as lag */
	assert_true(best_corr(in + 5 * N, out + 5 * N, 40 * N, 480) > 0.9);
	codec_enc_free(e);
	codec_dec_free(d);
}

static void test_fec_and_plc(void **state)
{
	struct codec_cfg c;
	struct codec_enc *e;
	struct codec_dec *d1, *d2;
	static uint8_t pkts[FRAMES][CODEC_MAX_PKT];
	int len[FRAMES];
	static int16_t fec[N], plc[N], ref[N];
	const int lost = 30;

	(void)state;
	make_signal();
	codec_cfg_default(&c);
	assert_int_equal(codec_enc_new(&e, &c), 0);
	for (int f = 0; f < FRAMES; f++)
		assert_true(
		    (len[f] = codec_encode(e, in + f * N, pkts[f], CODEC_MAX_PKT)) > 0);
	assert_int_equal(codec_dec_new(&d1), 0);
	assert_int_equal(codec_dec_new(&d2), 0);
	for (int f = 0; f < lost; f++) {
		codec_decode(d1, pkts[f], (size_t)len[f], out, N);
		codec_decode(d2, pkts[f], (size_t)len[f], out, N);
	}
	/* d1 gets the reference frame; d2 loses it: FEC from the next packet */
	assert_int_equal(codec_decode(d1, pkts[lost], (size_t)len[lost], ref, N), N);
	assert_int_equal(
	    codec_decode_fec(d2, pkts[lost + 1], (size_t)len[lost + 1], fec, N), N);
	assert_true(energy(fec, N) > 0.3 * energy(ref, N));
	assert_true(best_corr(ref, fec, N - 64, 32) > 0.7);
	/* plain concealment gives a full frame too */
	assert_int_equal(codec_conceal(d2, plc, N), N);
	assert_true(energy(plc, N) > 0);
	codec_enc_free(e);
	codec_dec_free(d1);
	codec_dec_free(d2);
}

static void test_bad_settings(void **state)
{
	struct codec_cfg c;
	struct codec_enc *e;
	struct codec_dec *d;
	int16_t pcm[N];

	(void)state;
	codec_cfg_default(&c);
	c.frame_ms = 15;
	assert_int_equal(codec_enc_new(&e, &c), -EINVAL);
	codec_cfg_default(&c);
	c.complexity = 11;
	assert_int_equal(codec_enc_new(&e, &c), -EINVAL);
	codec_cfg_default(&c);
	c.bitrate = 1000;
	assert_int_equal(codec_enc_new(&e, &c), -EINVAL);
	/* a hostile packet: an error, never a crash */
	assert_int_equal(codec_dec_new(&d), 0);
	assert_int_equal(codec_decode(d, (const uint8_t *)"\xff\xff\xff", 3, pcm, N),
			 -EIO);
	codec_dec_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_fec_and_plc),
	    cmocka_unit_test(test_bad_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
