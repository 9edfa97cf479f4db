#include "mixer.h"

#include <string.h>

void mixer_begin(struct mixer *m, size_t n)
{
	m->n = n > MIXER_MAX ? MIXER_MAX : n;
	m->srcs = 0;
	memset(m->acc, 0, m->n * sizeof(m->acc[0]));
}

void mixer_add(struct mixer *m, const int16_t *in)
{
	for (size_t i = 0; i < m->n; i++)
		m->acc[i] += in[i];
	m->srcs++;
}

void mixer_end(const struct mixer *m, int16_t *out)
{
	/* Hard clipping: talkers rarely peak together; a limiter would add delay and
	 * pumping for the common single-talker case. */
	for (size_t i = 0; i < m->n; i++)
		out[i] = mixer_clip(m->acc[i]);
}

void mixer_xfade(const int16_t *from, const int16_t *to, int16_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double w = (double)(i + 1) / (double)(n + 1);
		double v = (1 - w) * from[i] + w * to[i];

		out[i] = (int16_t)(v < 0 ? v - 0.5 : v + 0.5);
	}
}
