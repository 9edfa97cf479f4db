/* The receive path with real Opus and no sockets: talkers with 10, 20, 40 and 60 ms
 * packets heard by boxes with 10 and 20 ms frames, with loss and jitter (tables). Each
 * packet must play for its own duration: the speech comes out whole, at the right speed,
 * with no silent holes, and every packet that arrived in time is decoded exactly once. */
#include <math.h>
#include <opus/opus.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtp.h"
#include "voice.h"

#define RATE	  48000
#define TALK_MS	  2000 /* the talker speaks for this long */
#define LISTEN_MS 2600 /* the listener plays this long */
#define IN_N	  (RATE / 1000 * TALK_MS)
#define OUT_N	  (RATE / 1000 * LISTEN_MS)

struct mix_case {
	const char *name;
	unsigned send_ms, recv_ms;
	unsigned lose_every; /* every Nth packet lost (0: none) */
	unsigned jitter_ms;  /* each packet 0..jitter ms late (a fixed trace) */
};

static const struct mix_case cases[] = {
    {"20 ms into 20 ms", 20, 20, 0, 0},
    {"10 ms into 20 ms", 10, 20, 0, 0},
    {"20 ms into 10 ms", 20, 10, 0, 0},
    {"60 ms into 10 ms", 60, 10, 0, 0},
    {"40 ms into 20 ms", 40, 20, 0, 0},
    {"10 ms into 10 ms", 10, 10, 0, 0},
    {"10 ms into 20 ms, loss, jitter", 10, 20, 13, 30},
    {"20 ms into 10 ms, loss, jitter", 20, 10, 11, 30},
    {"60 ms into 10 ms, loss, jitter", 60, 10, 7, 40},
};

/* What was said, what a plain decoder makes of every packet (each for its own
 * duration, none lost), and what the listener played. */
static int16_t in[IN_N], ref[IN_N], out[OUT_N];

/* A gliding pitch with a harmonic under a syllable-like swell: one true alignment. */
static void make_speech(void)
{
	double ph = 0;

	for (int i = 0; i < IN_N; i++) {
		double t = (double)i / RATE, f = 180 + 120 * sin(2 * M_PI * 0.7 * t),
		       env = 0.35 + 0.65 * fabs(sin(2 * M_PI * 1.5 * t));

		ph += 2 * M_PI * f / RATE;
		in[i] = (int16_t)(9000 * env * (sin(ph) + 0.4 * sin(3 * ph)));
	}
}

/* The talker's packets, as RTP. */
struct talker {
	OpusEncoder *enc;
	unsigned n; /* packets */
	uint8_t pkt[TALK_MS / 10][IC_RTP_MAX];
	int len[TALK_MS / 10];
	uint64_t arrive[TALK_MS / 10];
	bool lost[TALK_MS / 10];
};

static struct talker tk;

static void make_packets(const struct mix_case *c)
{
	const uint8_t token[IC_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
	unsigned spp = RATE / 1000 * c->send_ms;
	uint32_t rng = 4242;
	int err;

	OpusDecoder *dec = opus_decoder_create(RATE, 1, &err);

	assert_int_equal(err, OPUS_OK);
	tk.enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
	assert_int_equal(err, OPUS_OK);
	opus_encoder_ctl(tk.enc, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(tk.enc, OPUS_SET_INBAND_FEC(1));
	opus_encoder_ctl(tk.enc, OPUS_SET_PACKET_LOSS_PERC(15));
	tk.n = TALK_MS / c->send_ms;
	for (unsigned k = 0; k < tk.n; k++) {
		uint8_t opus[1276];
		int n = opus_encode(tk.enc, in + k * spp, (int)spp, opus, sizeof(opus));
		struct rtp_hdr h = {k == 0, IC_RTP_PT_OPUS, (uint16_t)(60000 + k),
				    0xfffff000u + k * spp, 77};

		assert_true(n > 0);
		assert_int_equal(opus_decode(dec, opus, n, ref + k * spp, (int)spp, 0),
				 (int)spp);
		tk.len[k] = rtp_pack(tk.pkt[k], IC_RTP_MAX, &h, token, opus, (size_t)n);
		assert_true(tk.len[k] > 0);
		rng = rng * 1103515245u + 12345u;
		tk.arrive[k] = 1000 + (uint64_t)k * c->send_ms +
			       (c->jitter_ms && k ? (rng >> 16) % (c->jitter_ms + 1) : 0);
		tk.lost[k] = c->lose_every && k % c->lose_every == c->lose_every / 2;
	}
	opus_encoder_destroy(tk.enc);
	opus_decoder_destroy(dec);
}

/* Millisecond by millisecond: arrivals, and the listener's frame clock every recv_ms. */
static void listen(const struct mix_case *c, struct voice *v, struct voice_stats *st)
{
	size_t frame = voice_frame_samples(v), at = 0;

	for (uint64_t t = 1000; t < 1000 + LISTEN_MS; t++) {
		for (unsigned k = 0; k < tk.n; k++) {
			if (!tk.lost[k] && tk.arrive[k] == t)
				voice_receive(v, tk.pkt[k], (size_t)tk.len[k], t);
		}
		if ((t - 1000) % c->recv_ms == c->recv_ms - 1 && at + frame <= OUT_N) {
			voice_play(v, t, out + at);
			at += frame;
		}
	}
	voice_get_stats(v, st);
}

static double corr_at(const int16_t *said, size_t d, size_t from, size_t n, unsigned step)
{
	double xy = 0, xx = 0, yy = 0;

	for (size_t i = from; i < from + n; i += step) {
		double x = said[i], y = out[i + d];

		xy += x * y;
		xx += x * x;
		yy += y * y;
	}
	return xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
}

/* The delay (in samples) at which what was heard best matches said, over the middle
 * second of the talk, and the correlation there. */
static double best_match(const int16_t *said, size_t *delay)
{
	size_t from = RATE / 2, n = RATE, best = 0;
	double bc = -1;

	for (size_t d = 0; d + from + n <= OUT_N && d < RATE / 2; d += 4) {
		double c = corr_at(said, d, from, n, 4);

		if (c > bc) {
			bc = c;
			best = d;
		}
	}
	*delay = best;
	bc = corr_at(said, best, from, n, 1);
	for (size_t d = best > 4 ? best - 4 : 0; d <= best + 4; d++) {
		double c = corr_at(said, d, from, n, 1);

		if (c > bc) {
			bc = c;
			*delay = d;
		}
	}
	return bc;
}

/* Listener frames that are exactly zero inside the talk (after the first sound and
 * before the talk's end at the found delay): a packet played short, or not at all. */
static unsigned silent_holes(size_t frame, size_t delay)
{
	unsigned holes = 0;
	size_t first = 0;

	while (first < OUT_N && out[first] == 0)
		first++;
	for (size_t b = first / frame * frame + frame; b + frame <= delay + IN_N;
	     b += frame) {
		size_t z = 0;

		while (z < frame && out[b + z] == 0)
			z++;
		holes += z == frame;
	}
	return holes;
}

static void test_mixed_durations(void **state)
{
	double clean[7] = {0}; /* by send_ms / 10: what was said vs heard, no loss */

	(void)state;
	make_speech();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mix_case *c = &cases[i];
		struct codec_cfg cfg;
		struct voice *v;
		struct voice_stats st;
		size_t delay = 0, rdelay = 0;
		unsigned lost = 0, holes;
		double corr, rcorr;

		memset(out, 0, sizeof(out));
		make_packets(c);
		for (unsigned k = 0; k < tk.n; k++)
			lost += tk.lost[k];
		codec_cfg_default(&cfg);
		cfg.frame_ms = c->recv_ms;
		assert_int_equal(voice_new(&v, &cfg), 0);
		voice_set_ids(v, 5, (const uint8_t[IC_TOKEN_LEN]){0});
		listen(c, v, &st);
		corr = best_match(in, &delay);
		rcorr = best_match(ref, &rdelay);
		holes = silent_holes(voice_frame_samples(v), delay);
		print_message(
		    "%-32s correlation %.3f at %5.1f ms (%.4f with a plain decoder), "
		    "%llu decoded of %u sent "
		    "(%u lost, %llu late), fec %llu, plc %llu, %u silent frames\n",
		    c->name, corr, delay / 48.0, rcorr, (unsigned long long)st.frames,
		    tk.n, lost, (unsigned long long)st.late, (unsigned long long)st.fec,
		    (unsigned long long)st.plc, holes);
		if (!lost) {
			/* sample for sample what one decoder makes of the packets */
			assert_true(rcorr > 0.999);
			clean[c->send_ms / 10] = corr;
		} else {
			/* loss and jitter cost a little of the clean case's fidelity */
			assert_true(clean[c->send_ms / 10] > 0);
			assert_true(rcorr > 0.85);
			assert_true(corr >= 0.8 * clean[c->send_ms / 10]);
		}
		assert_int_equal(holes, 0);
		/* every packet that came in time decoded once, the rest rebuilt */
		assert_int_equal(st.frames + st.late, tk.n - lost);
		assert_int_equal(st.received, tk.n - lost);
		assert_true(st.fec + st.plc >= lost + st.late);
		assert_true(st.late * 20 <= tk.n); /* at most 5 % late */
		assert_int_equal(st.bad, 0);
		/* the delay is the jitter it waited out plus a packet and a frame, no
		 * more */
		assert_true(delay / 48 <= c->jitter_ms + c->send_ms + c->recv_ms + 10);
		voice_free(v);
	}
}

/* A payload that is not Opus, or one longer than 60 ms (120 ms: six 20 ms frames in a
 * code-3 packet), is counted as bad and never reaches a decoder. */
static void test_bad_durations(void **state)
{
	const uint8_t token[IC_TOKEN_LEN] = {0};
	/* TOC config 3 (SILK 60 ms), code 0; config 1 (SILK 20 ms) code 3 with 6 frames
	 */
	const uint8_t p60[] = {3 << 3, 0xAA, 0xBB}, p120[] = {(1 << 3) | 3, 6, 0, 0, 0};
	const uint8_t bad[] = {(1 << 3) | 3, 0}; /* code 3 with zero frames */
	const uint8_t *pl[] = {p60, p120, bad};
	const size_t pn[] = {sizeof(p60), sizeof(p120), sizeof(bad)};
	struct codec_cfg cfg;
	struct voice *v;
	struct voice_stats st;

	(void)state;
	codec_cfg_default(&cfg);
	assert_int_equal(voice_new(&v, &cfg), 0);
	for (int i = 0; i < 3; i++) {
		uint8_t pkt[IC_RTP_MAX];
		struct rtp_hdr h = {true, IC_RTP_PT_OPUS, (uint16_t)i, 960u * (unsigned)i,
				    9};
		int n = rtp_pack(pkt, sizeof(pkt), &h, token, pl[i], pn[i]);

		assert_true(n > 0);
		voice_receive(v, pkt, (size_t)n, 10);
	}
	voice_get_stats(v, &st);
	assert_int_equal(st.received, 1); /* the 60 ms one */
	assert_int_equal(st.bad, 2);
	voice_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mixed_durations),
	    cmocka_unit_test(test_bad_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
