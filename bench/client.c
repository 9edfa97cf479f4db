/* bench_client: the client's costs and its jitter buffer under bad networks.
 *
 *   bench_client cpu [CX]    encode and decode CPU per frame at complexity 0-10, 20 and
 *                            10 ms (or CX alone, at 20 ms); the share of one core for
 *                            talking, and for hearing 1 and 4 talkers (decode + mix)
 *   bench_client jitter      seeded traces (loss, bursts, jitter) replayed through the
 *                            real jitter buffer and Opus decoder: frames played,
 *                            rebuilt by FEC, concealed, late, and how long frames held
 *   bench_client jobs CX     5 s of talking, of hearing one and of hearing four
 *                            talkers, and of sealing and opening those packets
 *                            (encrypted voice), as functions for callgrind to count
 *                            (bench/client_cpu.sh)
 *
 * Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID); for repeatable instruction counts
 * use bench/client_cpu.sh (callgrind). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "jbuf.h"
#include "mixer.h"
#include "rtp.h"
#include "vcrypt.h"

#define SECS 10

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A voice-like signal: a gliding pitch with harmonics under a syllable envelope. */
static void voice(int16_t *pcm, size_t n, size_t start)
{
	for (size_t i = 0; i < n; i++) {
		double t = (double)(start + i) / CODEC_RATE,
		       env = 0.5 + 0.5 * sin(2 * M_PI * 3 * t);
		double f0 = 150 + 50 * sin(2 * M_PI * 0.5 * t);

		pcm[i] =
		    (int16_t)(6000 * env *
			      (sin(2 * M_PI * f0 * t) + 0.5 * sin(2 * M_PI * 2 * f0 * t) +
			       0.25 * sin(2 * M_PI * 3 * f0 * t)));
	}
}

/* cx_only < 0: every complexity; else that one at 20 ms (for callgrind runs). */
static int bench_cpu(int cx_only)
{
	static uint8_t pkts[50 * SECS][CODEC_MAX_PKT];
	static int lens[50 * SECS];
	int16_t pcm[CODEC_MAX_FRAME], out[CODEC_MAX_FRAME];
	unsigned frame_ms[] = {20, 10};

	printf("%-6s %-4s %12s %12s %9s %11s %11s %9s\n", "frame", "cx", "enc us/frm",
	       "dec us/frm", "bytes/frm", "talk %core", "hear1 %core", "hear4 %");
	for (int f = 0; f < (cx_only < 0 ? 2 : 1); f++) {
		for (unsigned cx = 0; cx <= 10; cx++) {
			struct codec_cfg c;
			struct codec_enc *e;
			struct codec_dec *d;
			size_t frame = CODEC_RATE / 1000 * frame_ms[f];
			int nframes = (int)(1000 / frame_ms[f]) * SECS;
			double t0, enc_s, dec_s, mix_s;
			size_t bytes = 0;
			static struct mixer m;

			if (cx_only >= 0 && cx != (unsigned)cx_only)
				continue;
			if (nframes > 50 * SECS)
				nframes =
				    50 * SECS; /* the packet store holds 10 s of 20 ms */
			codec_cfg_default(&c);
			c.frame_ms = frame_ms[f];
			c.complexity = cx;
			if (codec_enc_new(&e, &c) || codec_dec_new(&d))
				return 1;
			t0 = cpu_now();
			for (int i = 0; i < nframes; i++) {
				voice(pcm, frame, (size_t)i * frame);
				lens[i] = codec_encode(e, pcm, pkts[i], CODEC_MAX_PKT);
				bytes += (size_t)lens[i];
			}
			enc_s = cpu_now() - t0;
			/* the signal generation is in there too: measure it alone and
			 * remove it */
			t0 = cpu_now();
			for (int i = 0; i < nframes; i++)
				voice(pcm, frame, (size_t)i * frame);
			enc_s -= cpu_now() - t0;
			t0 = cpu_now();
			for (int i = 0; i < nframes; i++)
				codec_decode(d, pkts[i], (size_t)lens[i], out, frame);
			dec_s = cpu_now() - t0;
			t0 = cpu_now();
			for (int i = 0; i < nframes; i++) {
				mixer_begin(&m, frame);
				for (int k = 0; k < 4; k++)
					mixer_add(&m, out);
				mixer_end(&m, pcm);
			}
			mix_s = cpu_now() - t0;
			printf(
			    "%3u ms %4u %12.1f %12.1f %9.1f %10.2f%% %10.2f%% %8.2f%%\n",
			    frame_ms[f], cx, enc_s * 1e6 / nframes, dec_s * 1e6 / nframes,
			    (double)bytes / nframes,
			    100 * enc_s / (nframes * frame_ms[f] / 1000.0),
			    100 * dec_s / (nframes * frame_ms[f] / 1000.0),
			    100 * (4 * dec_s + mix_s) / (nframes * frame_ms[f] / 1000.0));
			codec_enc_free(e);
			codec_dec_free(d);
		}
	}
	return 0;
}

/* --- one second of each job, for instruction counts under callgrind --- */

#define CG_SECS 5 /* seconds of audio each job handles: counts / CG_SECS = per second */

static uint8_t cg_pkts[50 * CG_SECS][CODEC_MAX_PKT];
static int cg_lens[50 * CG_SECS];

/* Talking: capture is encoded, 20 ms frames. */
__attribute__((noinline)) static void job_talk(struct codec_enc *e)
{
	int16_t pcm[CODEC_MAX_FRAME];

	for (int i = 0; i < 50 * CG_SECS; i++) {
		voice(pcm, 960, (size_t)i * 960);
		cg_lens[i] = codec_encode(e, pcm, cg_pkts[i], CODEC_MAX_PKT);
	}
}

/* Listening to n talkers: n decoders, mixed into one frame. */
__attribute__((noinline)) static void job_hear(struct codec_dec **d, int n)
{
	int16_t pcm[CODEC_MAX_FRAME], out[CODEC_MAX_FRAME];
	static struct mixer m;

	for (int i = 0; i < 50 * CG_SECS; i++) {
		mixer_begin(&m, 960);
		for (int k = 0; k < n; k++) {
			codec_decode(d[k], cg_pkts[i], (size_t)cg_lens[i], pcm, 960);
			mixer_add(&m, pcm);
		}
		mixer_end(&m, out);
	}
}

__attribute__((noinline)) static void job_hear1(struct codec_dec **d)
{
	job_hear(d, 1);
}

__attribute__((noinline)) static void job_hear4(struct codec_dec **d)
{
	job_hear(d, 4);
}

/* Encrypted voice (protocol 1.1): what talking adds (each packet sealed) and what hearing
 * one talker adds (each packet opened), on the talk job's packets. */
static uint8_t cg_sealed[50 * CG_SECS][IC_RTP_MAX];
static int cg_slens[50 * CG_SECS];

__attribute__((noinline)) static void job_seal(struct vc *v)
{
	uint8_t rtp[IC_RTP_MAX];

	for (int i = 0; i < 50 * CG_SECS; i++) {
		struct rtp_hdr h = {false, IC_RTP_PT_OPUS, (uint16_t)i,
				    960u * (unsigned)i, 7};
		int n =
		    rtp_pack(rtp, sizeof(rtp), &h, NULL, cg_pkts[i], (size_t)cg_lens[i]);

		cg_slens[i] =
		    vc_seal(v, (uint64_t)i, rtp, (size_t)n, cg_sealed[i], IC_RTP_MAX);
	}
}

__attribute__((noinline)) static int job_open(struct vc *v)
{
	uint8_t rtp[IC_RTP_MAX];
	uint64_t ctr;
	int ok = 0;

	for (int i = 0; i < 50 * CG_SECS; i++)
		ok += vc_open(v, cg_sealed[i], (size_t)cg_slens[i], IC_RTP_MAX, rtp,
			      sizeof(rtp), &ctr) > 0;
	return ok;
}

/* bench_client crypto STEPS: the encrypted-voice jobs alone, on 5 s of 80-byte payloads
 * (Opus at 32 kbit/s in 20 ms frames, the box's CBR default), for a counter that cannot
 * name functions (qemu's, for the arm64 build): steps 0 sets up only, 1 also seals
 * every packet, 2 also opens them; the differences are what sealing and opening cost. */
static int bench_crypto(int steps)
{
	struct vc_key k;
	struct vc *s = NULL, *o = NULL;
	int ret = 1;

	for (int i = 0; i < 50 * CG_SECS; i++) {
		memset(cg_pkts[i], 0x33 + i, 80);
		cg_lens[i] = 80;
	}
	memset(&k, 0x5a, sizeof(k));
	if (vc_new(&s, &k, true) || vc_new(&o, &k, false))
		goto out;
	if (steps >= 1)
		job_seal(s);
	if (steps >= 2 && job_open(o) != 50 * CG_SECS)
		goto out;
	ret = 0;
out:
	vc_free(s);
	vc_free(o);
	return ret;
}

/* bench_client jobs CX: each job once, for bench/client_cpu.sh to count under callgrind
 * (the signal generation, counted in job_talk, is reported apart as voice()). */
static int bench_jobs(unsigned cx)
{
	struct codec_cfg c;
	struct codec_enc *e;
	struct codec_dec *d[4] = {0};
	int ret = 1;

	codec_cfg_default(&c);
	c.complexity = cx;
	if (codec_enc_new(&e, &c))
		return 1;
	for (int k = 0; k < 4; k++) {
		if (codec_dec_new(&d[k]))
			goto out;
	}
	job_talk(e);
	job_hear1(d);
	job_hear4(d);
	{
		struct vc_key k;
		struct vc *s = NULL, *o = NULL;

		memset(&k, 0x5a, sizeof(k));
		if (vc_new(&s, &k, true) || vc_new(&o, &k, false)) {
			vc_free(s);
			goto out;
		}
		job_seal(s);
		if (job_open(o) != 50 * CG_SECS)
			fprintf(stderr, "bench_client: a sealed packet did not open\n");
		vc_free(s);
		vc_free(o);
	}
	printf("%d s of talking, of hearing 1 and of hearing 4 at complexity %u; each "
	       "packet sealed and opened\n",
	       CG_SECS, cx);
	ret = 0;
out:
	for (int k = 0; k < 4; k++)
		codec_dec_free(d[k]);
	codec_enc_free(e);
	return ret;
}

/* --- jitter traces --- */

struct cond {
	const char *name;
	double loss;	 /* independent loss probability */
	double burst;	 /* probability of entering a burst; bursts lose 2-5 packets */
	unsigned jitter; /* uniform extra delay 0..jitter ms */
};

static uint32_t rng = 1;

static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (double)rng / 4294967296.0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* hold: how long each played frame waited in the buffer, arrival to playout (it
 * includes the playback tick's 7 ms phase against the sender's frame clock). */
static int bench_jitter(void)
{
	static const struct cond conds[] = {
	    {"clean", 0, 0, 0},		{"5% loss", 0.05, 0, 0},
	    {"20% loss", 0.20, 0, 0},	{"20% loss in bursts", 0, 0.07, 0},
	    {"40 ms jitter", 0, 0, 40}, {"5% loss + 40 ms jitter", 0.05, 0, 40},
	};
	enum { N = 50 * 60 }; /* one minute of 20 ms frames, in 10 s talk spurts */
	static uint8_t pkts[N][CODEC_MAX_PKT];
	static int lens[N];
	static uint64_t arrive[N];
	static bool lost[N];
	int16_t pcm[CODEC_MAX_FRAME];
	struct codec_cfg c;
	struct codec_enc *e;

	codec_cfg_default(&c);
	if (codec_enc_new(&e, &c))
		return 1;
	for (int i = 0; i < N; i++) {
		voice(pcm, 960, (size_t)i * 960);
		lens[i] = codec_encode(e, pcm, pkts[i], CODEC_MAX_PKT);
	}
	codec_enc_free(e);
	static unsigned hold[N];

	printf("%-24s %6s %7s %6s %6s %6s %7s %7s %7s %7s %7s\n", "condition", "sent",
	       "lost", "played", "fec", "plc", "late", "target", "hold50", "hold95",
	       "max");
	for (size_t k = 0; k < sizeof(conds) / sizeof(conds[0]); k++) {
		const struct cond *cd = &conds[k];
		struct jbuf *jb;
		struct codec_dec *d;
		struct jbuf_stats st;
		unsigned nlost = 0, burst = 0;
		uint64_t t_end;
		unsigned played = 0;

		rng = 12345 + (uint32_t)k;
		for (int i = 0; i < N; i++) {
			if (burst) {
				burst--;
				lost[i] = true;
			} else if (cd->burst > 0 && urand() < cd->burst) {
				burst =
				    1 + (unsigned)(urand() * 4); /* this and 1-4 more */
				lost[i] = true;
			} else {
				lost[i] = urand() < cd->loss;
			}
			nlost += lost[i];
			arrive[i] =
			    (uint64_t)i * 20 +
			    (cd->jitter ? (uint64_t)(urand() * (cd->jitter + 1)) : 0);
		}
		if (jbuf_new(&jb) || codec_dec_new(&d))
			return 1;
		t_end = (uint64_t)N * 20 + 500;
		/* millisecond by millisecond: arrivals, then a playback tick every 20 ms
		 */
		for (uint64_t t = 0; t < t_end; t++) {
			for (int i = (int)(t / 20) - 5; i <= (int)(t / 20); i++) {
				if (i < 0 || i >= N || lost[i] || arrive[i] != t)
					continue;
				struct jbuf_pkt jp = {1,
						      (uint16_t)i,
						      (uint32_t)i * 960u,
						      960,
						      i % 500 == 0,
						      pkts[i],
						      (size_t)lens[i]};

				jbuf_put(jb, &jp, t);
			}
			if (t % 20 == 7) {
				struct jbuf_out_frame f;
				struct jbuf_stats s1;

				switch (jbuf_get(jb, t, &f)) {
				case JBUF_FRAME:
					codec_decode(d, f.data, f.len, pcm, 960);
					jbuf_get_stats(jb, &s1);
					hold[played++] = s1.delay_ms;
					break;
				case JBUF_FEC:
					codec_decode_fec(d, f.data, f.len, pcm, 960);
					break;
				case JBUF_PLC:
					codec_conceal(d, pcm, 960);
					break;
				case JBUF_IDLE:
					break;
				}
			}
		}
		jbuf_get_stats(jb, &st);
		qsort(hold, played, sizeof(hold[0]), cmp_uint);
		printf("%-24s %6d %6.1f%% %6llu %6llu %6llu %6.2f%% %4u ms %4u ms %4u ms "
		       "%4u ms\n",
		       cd->name, N, 100.0 * nlost / N, (unsigned long long)st.frames,
		       (unsigned long long)st.fec, (unsigned long long)st.plc,
		       100.0 * (double)st.late / N, st.target_ms,
		       played ? hold[played / 2] : 0,
		       played ? hold[played * 95 / 100] : 0, st.max_delay_ms);
		jbuf_free(jb);
		codec_dec_free(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "cpu"))
		return bench_cpu(argc == 3 ? atoi(argv[2]) : -1);
	if (argc == 2 && !strcmp(argv[1], "jitter"))
		return bench_jitter();
	if (argc == 3 && !strcmp(argv[1], "jobs"))
		return bench_jobs((unsigned)atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "crypto"))
		return bench_crypto(atoi(argv[2]));
	fprintf(
	    stderr,
	    "usage: bench_client cpu [COMPLEXITY] | jitter | jobs COMPLEXITY | crypto "
	    "0|1|2\n");
	return 2;
}
