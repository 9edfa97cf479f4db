/* aecpath.c: the direct path while no echo can be heard, the cancelled one otherwise. */
#include "aecpath.h"

#include <string.h>

#include "mixer.h"

/* A block within this of the noise floor (mean square, 6 dB) is near-quiet: the near
 * end's noise, not its voice. */
#define NEAR_OVER_FLOOR 4.0
/* Below this a block is quiet whatever the floor says (-60 dBFS). */
#define NEAR_SILENT (32768.0 * 32768.0 * 1e-6)
/* The floor follows a rising noise at 3 dB a second (10 ms blocks): quick enough for a
 * room that got louder, slow enough that a talker's words do not become its noise. */
#define FLOOR_RISE 1.0069

void aecpath_init(struct aec_path *p)
{
	memset(p, 0, sizeof(*p));
	/* from silence up: a near end that talks from the start is not its noise */
	p->floor = NEAR_SILENT;
}

static bool near_quiet(struct aec_path *p, double mic_ms)
{
	if (mic_ms < p->floor)
		p->floor = mic_ms;
	else
		p->floor *= FLOOR_RISE;
	return mic_ms < NEAR_SILENT || mic_ms < p->floor * NEAR_OVER_FLOOR;
}

int aecpath_step(struct aec_path *p, bool echo_now, bool echo_soon, double mic_ms)
{
	bool quiet = near_quiet(p, mic_ms), want;
	int change = 0;

	p->run = quiet ? p->run + 1 : 0;
	/* an echo due now cannot wait for a pause; one still ahead, or a tail that has
	 * died out, can */
	want = echo_now || echo_soon;
	if (want != p->cancel && (p->run >= AECPATH_QUIET_RUN || (want && echo_now))) {
		p->cancel = want;
		p->shifts++;
		if (p->run < AECPATH_QUIET_RUN)
			p->forced++;
		change = want ? 1 : -1;
	}
	if (!p->cancel)
		p->direct++;
	return change;
}

/* One block into out (the cancelled block's place, or the direct one's). */
static void mix_block(bool cancel, int change, const int16_t *direct,
		      const int16_t *cancelled, int16_t *out, size_t n)
{
	const int16_t *to = cancel ? cancelled : direct;
	const int16_t *from = cancel ? direct : cancelled;
	/* no click where the two paths differ (a change made while the near end talks) */
	size_t fade = change && n > MIXER_SPLICE ? MIXER_SPLICE : 0;

	mixer_xfade(from, to, out, fade);
	if (out != to)
		memmove(out + fade, to + fade, (n - fade) * sizeof(*out));
}

void aecpath_mix(const bool *cancel, const int *change, size_t blocks, size_t n,
		 const int16_t *direct, int16_t *pcm)
{
	for (size_t k = 0; k < blocks; k++)
		mix_block(cancel[k], change[k], direct + k * n, pcm + k * n, pcm + k * n,
			  n);
}
