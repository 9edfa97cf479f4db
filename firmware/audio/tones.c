#include "tones.h"

#include <math.h>

#include "mixer.h"

#define RATE	  48000
#define AMPLITUDE 6000.0 /* about -15 dBFS per component: clear, not harsh */
#define FADE	  240	 /* 5 ms fade in and out of each segment: no clicks */

/* Cadences: European-style ring and ringback, North-American busy tone pair. */
static const struct tone_seg ring[] = {
    {400, 450, 400}, {0, 0, 200}, {400, 450, 400}, {0, 0, 2000}};
static const struct tone_seg ringback[] = {{425, 0, 1000}, {0, 0, 4000}};
static const struct tone_seg busy[] = {{480, 620, 250}, {0, 0, 250},	 {480, 620, 250},
				       {0, 0, 250},	{480, 620, 250}, {0, 0, 250}};
static const struct tone_seg connected[] = {{660, 0, 90}, {0, 0, 40}, {880, 0, 120}};
static const struct tone_seg disconnected[] = {{880, 0, 90}, {0, 0, 40}, {440, 0, 160}};
static const struct tone_seg ptt[] = {{1200, 0, 40}};

static const struct {
	const char *name;
	const struct tone_seg *segs;
	size_t n;
	bool repeat;
} table[] = {
    [TONE_NONE] = {"none", NULL, 0, false},
    [TONE_RING] = {"ring", ring, 4, true},
    [TONE_RINGBACK] = {"ringback", ringback, 2, true},
    [TONE_BUSY] = {"busy", busy, 6, false},
    [TONE_CONNECTED] = {"connected", connected, 3, false},
    [TONE_DISCONNECTED] = {"disconnected", disconnected, 3, false},
    [TONE_PTT] = {"ptt", ptt, 1, false},
};

void tone_start(struct tone *t, enum tone_kind kind)
{
	t->kind = kind;
	t->segs = table[kind].segs;
	t->nsegs = table[kind].n;
	t->repeat = table[kind].repeat;
	t->seg = 0;
	t->pos = 0;
	t->ph1 = t->ph2 = 0;
}

bool tone_mix(struct tone *t, int16_t *pcm, size_t n)
{
	size_t i = 0;

	while (i < n && t->seg < t->nsegs) {
		const struct tone_seg *s = &t->segs[t->seg];
		uint32_t len = (uint32_t)s->ms * (RATE / 1000);

		for (; i < n && t->pos < len; i++, t->pos++) {
			double g = 1.0, v = 0;

			if (!s->f1)
				continue;
			if (t->pos < FADE)
				g = (double)t->pos / FADE;
			else if (len - t->pos < FADE)
				g = (double)(len - t->pos) / FADE;
			v = sin(t->ph1) + (s->f2 ? sin(t->ph2) : 0);
			t->ph1 += 2 * M_PI * s->f1 / RATE;
			t->ph2 += 2 * M_PI * s->f2 / RATE;
			pcm[i] = mixer_clip(pcm[i] + (int32_t)lrint(AMPLITUDE * g * v));
		}
		if (t->pos >= len) {
			t->pos = 0;
			t->ph1 = fmod(t->ph1, 2 * M_PI);
			t->ph2 = fmod(t->ph2, 2 * M_PI);
			if (++t->seg == t->nsegs && t->repeat)
				t->seg = 0;
		}
	}
	if (t->seg >= t->nsegs)
		t->kind = TONE_NONE;
	return t->kind != TONE_NONE;
}

uint32_t tone_cycle_samples(enum tone_kind kind)
{
	uint32_t total = 0;

	for (size_t i = 0; i < table[kind].n; i++)
		total += (uint32_t)table[kind].segs[i].ms * (RATE / 1000);
	return total;
}

const char *tone_name(enum tone_kind kind)
{
	return table[kind].name;
}
