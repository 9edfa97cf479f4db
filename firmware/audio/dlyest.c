/* dlyest.c: where the echo is, found in the signals (dlyest.h). */
#include "dlyest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define EST_DEC	  8 /* 16 kHz to 2 kHz */
#define EST_N2	  (DLYEST_WIN / EST_DEC)
#define EST_R2	  ((DLYEST_WIN + DLYEST_LMAX - DLYEST_LMIN) / EST_DEC)
#define EST_RHO	  0.3 /* normalised correlation below this: no echo found */
#define EST_AGREE 4   /* samples two estimates may differ by and agree */
/* A move this small the filter follows itself; anything larger (a sample at 16 kHz is
 * a phase turn at 8 kHz) it would have to learn again. */
#define EST_TOL 2
/* the match at home below this share of the best one: the echo has left it */
#define EST_GONE 0.5
#define EST_NEAR (AEC_RATE / 400) /* 2.5 ms: under a voice's pitch period */

struct dlyest {
	int16_t mring[DLYEST_WIN]; /* the microphone at 16 kHz, before cancelling */
	int16_t est_m[DLYEST_WIN];
	int16_t est_r[DLYEST_WIN + DLYEST_LMAX - DLYEST_LMIN]; /* fill */
	int64_t home;	  /* the lag the filter learnt the echo at */
	int64_t last_d;	  /* the last estimate, capture index - reference index */
	int64_t next_est; /* capture index of the next estimate */
	bool homed;
	bool fresh; /* no estimate since the last anchor */
	unsigned agree;
};

int dlyest_new(struct dlyest **dp)
{
	struct dlyest *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->next_est = DLYEST_WIN;
	*dp = d;
	return 0;
}

void dlyest_free(struct dlyest *d)
{
	free(d);
}

void dlyest_mic(struct dlyest *d, int64_t at, const int16_t *mic, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d->mring[(at + (int64_t)i) % DLYEST_WIN] = mic[i];
}

void dlyest_gap(struct dlyest *d, int64_t at, int64_t n)
{
	for (int64_t i = 0; i < n && i < DLYEST_WIN; i++)
		d->mring[(at + i) % DLYEST_WIN] = 0;
}

void dlyest_anchored(struct dlyest *d, int64_t next)
{
	d->agree = 0; /* a window across the change measures neither */
	d->fresh = true;
	d->next_est = next + DLYEST_FRESH;
}

/* n samples of a ring of len from index from on: out of [lo, hi) silence. */
static void ring_span(const int16_t *ring, int64_t len, int64_t lo, int64_t hi,
		      int64_t from, int n, int16_t *out)
{
	int64_t at = ((from % len) + len) % len;

	for (int i = 0; i < n; i++) {
		int64_t k = from + i;

		out[i] = k >= lo && k < hi ? ring[at] : 0;
		if (++at == len)
			at = 0;
	}
}

/* The window (the w microphone samples from c0, captured the next) and the reference
 * it is searched in (DLYEST_LMAX before the anchored place to -DLYEST_LMIN after),
 * copied out of the rings once. */
static void fill(struct dlyest *d, int64_t c0, int64_t captured, int w, int64_t offset,
		 const struct dlyest_ref *ref)
{
	ring_span(d->mring, DLYEST_WIN, c0, captured, c0, w, d->est_m);
	ring_span(ref->ring, ref->len, ref->written - ref->len, ref->written,
		  c0 + offset - DLYEST_LMAX, w + DLYEST_LMAX - DLYEST_LMIN, d->est_r);
}

/* x at 2 kHz (sums of EST_DEC samples), whitened (differenced, so that a voice's
 * low-frequency bulk does not blur the peak): n - 1 outputs from n blocks. */
static void decimate(const int16_t *x, int n, float *out)
{
	float prev = 0;

	for (int i = 0; i < n; i++) {
		float m = 0;

		for (int j = 0; j < EST_DEC; j++)
			m += x[i * EST_DEC + j];
		if (i)
			out[i - 1] = m - prev;
		prev = m;
	}
}

/* The lag (in the filter: reference samples before the anchored one) at which the
 * window best matches the reference at 2 kHz: its step s (lag DLYEST_LMAX - s *
 * EST_DEC), or -1 when nothing matches (nobody played, or only the near talker);
 * *at_home the match at the home lag, *peak at the best. */
static int coarse(const struct dlyest *d, int w, double *at_home, double *peak)
{
	float m[EST_N2], r[EST_R2];
	int n2 = w / EST_DEC - 1, r2 = (w + DLYEST_LMAX - DLYEST_LMIN) / EST_DEC - 1;
	double em = 0, er = 0, best = EST_RHO;
	int at = -1, home = (int)((DLYEST_LMAX - d->home) / EST_DEC);

	decimate(d->est_m, n2 + 1, m);
	decimate(d->est_r, r2 + 1, r);
	for (int i = 0; i < n2; i++) {
		em += (double)m[i] * m[i];
		er += (double)r[i] * r[i];
	}
	for (int s = 0; s + n2 <= r2; s++) {
		float c = 0;
		double rho;

		for (int i = 0; i < n2; i++)
			c += m[i] * r[i + s];
		rho = er > 0 && em > 0 ? fabs(c) / sqrt(em * er) : 0;
		if (s == home)
			*at_home = rho;
		if (rho > best) {
			best = rho;
			at = s;
		}
		if (s + n2 < r2) /* slide the reference's energy on */
			er += (double)r[s + n2] * r[s + n2] - (double)r[s] * r[s];
	}
	*peak = best;
	return at;
}

/* The coarse lag refined to the 16 kHz sample (both whitened). */
static int64_t refine(const struct dlyest *d, int w, int64_t lag)
{
	double best = -1;
	int64_t at = lag;
	int64_t lo = lag - EST_DEC > DLYEST_LMIN ? lag - EST_DEC : DLYEST_LMIN;
	int64_t hi = lag + EST_DEC < DLYEST_LMAX ? lag + EST_DEC : DLYEST_LMAX;

	for (int64_t l = lo; l <= hi; l++) {
		const int16_t *r = d->est_r + (DLYEST_LMAX - l);
		float c = 0, er = 1;

		for (int i = 1; i < w; i++) {
			float dm = (float)(d->est_m[i] - d->est_m[i - 1]);
			float dr = (float)(r[i] - r[i - 1]);

			c += dm * dr;
			er += dr * dr;
		}
		if ((double)c * c / er > best) {
			best = (double)c * c / er;
			at = l;
		}
	}
	return at;
}

/* Every DLYEST_EVERY (DLYEST_CALM while the echo stays home): the reference moves when
 * two estimates in a row put it away from where the filter learnt it. */
int64_t dlyest_run(struct dlyest *d, int64_t captured, int64_t offset,
		   const struct dlyest_ref *ref)
{
	int w = d->fresh ? DLYEST_FRESH : DLYEST_WIN;
	int64_t lag, place;
	double at_home = 0, peak = 0;
	bool fresh, near;
	int s;

	if (captured < d->next_est)
		return 0;
	/* after a fresh one, the next window holds nothing from before the anchor */
	d->next_est = captured + (d->fresh ? DLYEST_WIN - DLYEST_FRESH : DLYEST_EVERY);
	fill(d, captured - w, captured, w, offset, ref);
	s = coarse(d, w, &at_home, &peak);
	if (s < 0) {
		d->agree = 0;
		return 0;
	}
	lag = refine(d, w, DLYEST_LMAX - (int64_t)s * EST_DEC);
	place = lag - offset; /* the echo's place, whatever the anchor */
	d->agree = d->agree && llabs(place - d->last_d) <= EST_AGREE ? d->agree + 1 : 1;
	d->last_d = place;
	/* right after an anchor (a device restarted, its queue changed) the devices'
	 * delays can be a millisecond or two off on a sound server, and every sample
	 * off is a filter learnt again: one estimate moves it back that little (a
	 * short window can match a voice's pitch periods away: larger moves wait for
	 * two) */
	near = d->homed && llabs(lag - d->home) <= EST_NEAR;
	fresh = d->fresh && near;
	d->fresh = false;
	if (near && llabs(lag - d->home) <= EST_TOL)
		d->next_est = captured + DLYEST_CALM;
	if (d->agree < 2 && !fresh)
		return 0;
	if (!d->homed) { /* outside the filter: placed just inside it */
		d->homed = true;
		d->home = lag >= 0 && lag < AEC_RATE / 1000 * (AEC_TAIL_MS - 100)
			      ? lag
			      : AEC_RATE / 1000 * AEC_LEAD_MS;
	}
	/* a voice's pitch or a strong reflection can match elsewhere too: moved far
	 * only when the echo is no longer where the filter learnt it (a move under a
	 * pitch period is not one of those, and the peak is broader than it) */
	if (llabs(lag - d->home) <= EST_TOL || (at_home > EST_GONE * peak && !near))
		return 0;
	d->agree = 0;
	return lag - d->home;
}
