#include "speech.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wav.h"

void speech_make(char *path, size_t size, unsigned seconds)
{
	struct wav *w;
	char err[256];
	int16_t buf[480];
	uint32_t rng = 7;
	double env = 0, target = 0;
	int left = 0;

	snprintf(path, size, "/tmp/itest-in-%d.wav", (int)getpid());
	assert_int_equal(wav_open_write(&w, path, err, sizeof(err)), 0);
	for (int f = 0; f < (int)seconds * 100; f++) {
		if (--left <= 0) { /* a new syllable (or pause) every 60-250 ms */
			rng = rng * 1103515245u + 12345u;
			left = 6 + (int)((rng >> 16) % 20);
			target = ((rng >> 8) & 3) ? 0.3 + ((rng >> 4) & 7) / 10.0 : 0;
		}
		for (int i = 0; i < 480; i++) {
			double t = (f * 480 + i) / 48000.0;
			double f0 = 180 + 40 * sin(2 * M_PI * 0.7 * t);

			env += (target - env) * 0.002;
			buf[i] = (int16_t)(7000 * env *
					   (sin(2 * M_PI * f0 * t) +
					    0.6 * sin(2 * M_PI * 2 * f0 * t)));
		}
		assert_int_equal(wav_write(w, buf, 480), 0);
	}
	assert_int_equal(wav_close(w), 0);
}

double speech_compare(const char *in, const char *out, long long offset_ms,
		      const char *from, const char *to, double *delay, double *env)
{
	char t0a[32], cmd[512], line[128];
	FILE *f;
	double c = 0;

	snprintf(t0a, sizeof(t0a), "%lld", offset_ms);
	snprintf(cmd, sizeof(cmd), "%s %s %s --offset-ms %s --from %s --to %s",
		 getenv("WAVDELAY"), in, out, t0a, from, to);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (fgets(line, sizeof(line), f))
		sscanf(line, "delay_ms=%lf correlation=%*f envelope=%lf windowed=%lf",
		       delay, env, &c);
	pclose(f);
	return c;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double speech_stretches(const char *in, const char *out, long long offset_ms, double from,
			double to, double *delay, double *env)
{
	int n = (int)((to - from) / SPEECH_STRETCH_S + 0.5);
	double c[SPEECH_STRETCHES_MAX], e[SPEECH_STRETCHES_MAX];

	n = n < 1 ? 1 : n > SPEECH_STRETCHES_MAX ? SPEECH_STRETCHES_MAX : n;
	*delay = 1e9;
	for (int i = 0; i < n; i++) {
		char a[32], b[32];
		double d = 0;

		snprintf(a, sizeof(a), "%.3f", from + (to - from) * i / n);
		snprintf(b, sizeof(b), "%.3f", from + (to - from) * (i + 1) / n);
		c[i] = speech_compare(in, out, offset_ms, a, b, &d, &e[i]);
		if (getenv("SPEECH_STRETCHES"))
			print_message(
			    "  %s-%s s: waveform %.3f, envelope %.3f, delay %.1f ms\n", a,
			    b, c[i], e[i], d);
		if (d < *delay)
			*delay = d;
	}
	*env = median(e, n);
	return median(c, n);
}

long long speech_offset(const struct proc *talker, const struct proc *ear)
{
	return (long long)log_value(proc_log(ear), "started at ") -
	       (long long)log_value(proc_log(talker), "started at ");
}

double speech_similarity(const char *in, const char *out, const struct proc *talker,
			 const struct proc *ear, const char *from, const char *to,
			 double *delay, double *env)
{
	return speech_compare(in, out, speech_offset(talker, ear), from, to, delay, env);
}
