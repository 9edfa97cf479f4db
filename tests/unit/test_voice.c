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
#include "vcrypt.h"
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

/* ---- encrypted voice (protocol 1.1, section 3) ---- */

static struct vc_key key_of(uint8_t seed)
{
	struct vc_key k;

	for (size_t i = 0; i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)(seed * 31 + i);
	for (size_t i = 0; i < sizeof(k.salt); i++)
		k.salt[i] = (uint8_t)(seed * 7 + i);
	return k;
}

/* A voiced frame that changes every time. */
static void frame_pcm(int16_t *pcm, size_t n, unsigned k)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(8000 * sin(2 * M_PI * (200 + 37 * (k % 9)) *
					      (double)(k * n + i) / RATE));
}

/* What the server does with a talker's packet: open it under the talker's c2s, seal it
 * for the hearer under the hearer's s2c and counter. */
static int relay(const struct vc_key *c2s, const struct vc_key *s2c, uint64_t ctr,
		 const uint8_t *pkt, size_t len, uint8_t *sealed)
{
	struct vc *o, *s;
	uint8_t plain[IC_RTP_MAX];
	uint64_t c;
	int n;

	assert_int_equal(vc_new(&o, c2s, false), 0);
	assert_int_equal(vc_new(&s, s2c, true), 0);
	n = vc_open(o, pkt, len, IC_RTP_MAX, plain, sizeof(plain), &c);
	if (n > 0)
		n = vc_seal(s, ctr, plain, (size_t)n, sealed, IC_RTP_MAX);
	vc_free(o);
	vc_free(s);
	return n;
}

static void test_sealed_both_ways(void **state)
{
	const struct vc_key t_c2s = key_of(1), t_s2c = key_of(2), l_c2s = key_of(3),
			    l_s2c = key_of(4), x_s2c = key_of(5);
	struct codec_cfg cfg;
	struct voice *t, *l;
	struct voice_stats st, before;
	int16_t pcm[960];
	uint8_t pkt[IC_RTP_MAX], fwd[IC_RTP_MAX], bad[IC_RTP_MAX];
	int n, m, flipped, starts = 0;

	(void)state;
	codec_cfg_default(&cfg);
	cfg.cbr = true;
	assert_int_equal(voice_new(&t, &cfg), 0);
	assert_int_equal(voice_new(&l, &cfg), 0);
	assert_int_equal(voice_set_keys(t, 100, &t_c2s, &t_s2c), 0);
	assert_int_equal(voice_set_keys(l, 200, &l_c2s, &l_s2c), 0);
	/* the keepalive is sealed too, and numbers the first counter */
	n = voice_keepalive(t, pkt);
	assert_int_equal(n, VC_MIN_LEN);
	assert_int_equal(vc_packet_ctr(pkt), 0);
	for (unsigned k = 0; k < 10; k++) {
		int last = n;

		frame_pcm(pcm, 960, k);
		n = voice_capture(t, pcm, true, pkt);
		assert_true(n > VC_MIN_LEN);
		assert_int_equal(pkt[0], 0x80);		     /* no extension, no token */
		assert_int_equal(vc_packet_ctr(pkt), k + 1); /* one counter per packet */
		if (k > 1)
			assert_int_equal(n, last); /* constant bitrate: one size */
		/* the server opens and reseals it; the listener takes it */
		m = relay(&t_c2s, &l_s2c, 50 + k, pkt, (size_t)n, fwd);
		assert_int_equal(m, n);
		assert_memory_not_equal(fwd + 20, pkt + 20, (size_t)n - 20);
		starts += voice_receive(l, fwd, (size_t)m, 20 * k) == VOICE_RX_START;
	}
	voice_get_stats(l, &st);
	assert_int_equal(st.received, 10);
	assert_int_equal(starts, 1);
	assert_int_equal(st.forged, 0);
	/* the same copy again: a replay */
	assert_int_equal(voice_receive(l, fwd, (size_t)m, 300), VOICE_RX_DROP);
	/* every single-bit flip of a fresh copy: header, counter, ciphertext and tag;
	 * none marks the window, so the copy itself is taken after them */
	frame_pcm(pcm, 960, 10);
	n = voice_capture(t, pcm, true, pkt);
	m = relay(&t_c2s, &l_s2c, 60, pkt, (size_t)n, fwd);
	voice_get_stats(l, &st);
	before = st;
	flipped = m;
	for (int i = 0; i < m * 8; i++) {
		memcpy(bad, fwd, (size_t)m);
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (voice_receive(l, bad, (size_t)m, 300) != VOICE_RX_DROP)
			fail_msg("bit %d flipped was taken", i);
	}
	voice_get_stats(l, &st);
	/* each dropped as malformed or for a counter already seen (some counter bits),
	 * or for its tag (all the rest) */
	assert_int_equal(st.forged + st.bad + st.replayed - before.forged - before.bad -
			     before.replayed,
			 (uint64_t)flipped * 8);
	assert_true(st.forged - before.forged >= (uint64_t)flipped * 8 - 8);
	assert_int_equal(voice_receive(l, fwd, (size_t)m, 310), VOICE_RX_OK);
	/* sealed under another member's key, or the talker's own c2s: nothing */
	frame_pcm(pcm, 960, 11);
	n = voice_capture(t, pcm, true, pkt);
	assert_true(relay(&t_c2s, &x_s2c, 90, pkt, (size_t)n, bad) > 0);
	assert_int_equal(voice_receive(l, bad, (size_t)n, 320), VOICE_RX_DROP);
	assert_int_equal(voice_receive(l, pkt, (size_t)n, 320), VOICE_RX_DROP);
	/* a 1.0 token packet to a keyed box: not in the clear, ever */
	{
		const uint8_t token[IC_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
		struct rtp_hdr h = {false, IC_RTP_PT_OPUS, 9, 9, 300};

		m = rtp_pack(bad, sizeof(bad), &h, token, (const uint8_t *)"\x08\x01", 2);
		assert_int_equal(voice_receive(l, bad, (size_t)m, 330), VOICE_RX_DROP);
	}
	voice_get_stats(l, &st);
	assert_int_equal(st.received, 11); /* nothing of the above was heard */
	/* an older copy inside the window is taken once (the window's edges:
	 * test_seqwin) */
	m = relay(&t_c2s, &l_s2c, 40, pkt, (size_t)n, fwd);
	assert_int_equal(voice_receive(l, fwd, (size_t)m, 340), VOICE_RX_OK);
	assert_int_equal(voice_receive(l, fwd, (size_t)m, 341), VOICE_RX_DROP);
	/* new keys (a reconnect): counters start again, under the new key only */
	{
		const struct vc_key t2 = key_of(9), t2s = key_of(10);

		assert_int_equal(voice_set_keys(t, 101, &t2, &t2s), 0);
		n = voice_keepalive(t, pkt);
		assert_int_equal(vc_packet_ctr(pkt), 0);
		assert_true(relay(&t_c2s, &l_s2c, 70, pkt, (size_t)n, fwd) < 0);
		assert_true(relay(&t2, &l_s2c, 70, pkt, (size_t)n, fwd) > 0);
	}
	voice_free(t);
	voice_free(l);
}

/* The server's answer to the box's own keepalive (its SSRC, no payload) shows the voice
 * path is open; forged, it shows nothing. */
static void test_keepalive_answer(void **state)
{
	const struct vc_key c2s = key_of(1), s2c = key_of(2);
	struct codec_cfg cfg;
	struct voice *v;
	uint8_t pkt[IC_RTP_MAX], ans[IC_RTP_MAX];
	int n;

	(void)state;
	codec_cfg_default(&cfg);
	assert_int_equal(voice_new(&v, &cfg), 0);
	assert_int_equal(voice_set_keys(v, 77, &c2s, &s2c), 0);
	n = voice_keepalive(v, pkt);
	assert_int_equal(relay(&c2s, &s2c, 0, pkt, (size_t)n, ans), n);
	assert_int_equal(voice_receive(v, ans, (size_t)n, 10), VOICE_RX_OK);
	ans[n - 1] ^= 1;
	assert_int_equal(voice_receive(v, ans, (size_t)n, 11), VOICE_RX_DROP);
	voice_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mixed_durations),
	    cmocka_unit_test(test_bad_durations),
	    cmocka_unit_test(test_sealed_both_ways),
	    cmocka_unit_test(test_keepalive_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
