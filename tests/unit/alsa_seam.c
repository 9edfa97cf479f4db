/* alsa_seam.c: the ALSA library at the seam, for the tests of the backend and of the
 * engine on it (alsa_seam.h). */
#include "alsa_seam.h"

int __real_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
			int mode);
snd_pcm_sframes_t __real_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t n);
snd_pcm_sframes_t __real_snd_pcm_writei(snd_pcm_t *pcm, const void *buf,
					snd_pcm_uframes_t n);
snd_pcm_sframes_t __real_snd_pcm_avail_update(snd_pcm_t *pcm);
int __real_snd_pcm_delay(snd_pcm_t *pcm, snd_pcm_sframes_t *d);
int __wrap_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
			int mode);
snd_pcm_sframes_t __wrap_snd_pcm_avail_update(snd_pcm_t *pcm);
int __wrap_snd_pcm_delay(snd_pcm_t *pcm, snd_pcm_sframes_t *d);
/* A fault set for the next call: returned once, then cleared. */
static int take_fault(int *fault)
{
	int e = *fault;

	*fault = 0;
	return e;
}

snd_pcm_sframes_t __wrap_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t n);
snd_pcm_sframes_t __wrap_snd_pcm_writei(snd_pcm_t *pcm, const void *buf,
					snd_pcm_uframes_t n);

int fail_opens;	 /* the next opens fail: the card is gone */
int read_fault;	 /* the next read returns this error once */
int write_fault; /* the next write returns this error once */
int opens, reads_ok, writes_ok;
/* A clocked device, when set: capture has cap_avail samples ready (each read takes
 * them), playback play_delay queued, whatever the null device says. */
bool clocked;
snd_pcm_sframes_t cap_avail, play_delay;
snd_pcm_sframes_t cap_held; /* captured, still in the sound server beyond avail */
long written;		    /* samples written to playback */
/* The engine's test: playback plays what is written, in order (play_delay queued),
 * and where the first sound written lands in what the device has played. */
bool queued;
long played, sound_at = -1;
/* and, when set, every sample written, at its place in what the device plays */
int16_t *trace;
long trace_len;

snd_pcm_sframes_t __wrap_snd_pcm_avail_update(snd_pcm_t *pcm)
{
	if (!clocked)
		return __real_snd_pcm_avail_update(pcm);
	return snd_pcm_stream(pcm) == SND_PCM_STREAM_CAPTURE ? cap_avail : 4800;
}

int __wrap_snd_pcm_delay(snd_pcm_t *pcm, snd_pcm_sframes_t *d)
{
	if (!clocked)
		return __real_snd_pcm_delay(pcm, d);
	*d = snd_pcm_stream(pcm) == SND_PCM_STREAM_CAPTURE ? cap_avail + cap_held
							   : play_delay;
	return 0;
}

int __wrap_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
			int mode)
{
	(void)name;
	if (fail_opens > 0) {
		fail_opens--;
		return -ENOENT;
	}
	opens++;
	return __real_snd_pcm_open(pcm, "null", stream, mode);
}

snd_pcm_sframes_t __wrap_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t n)
{
	snd_pcm_sframes_t r;

	if (read_fault)
		return take_fault(&read_fault);
	r = __real_snd_pcm_readi(pcm, buf, n);
	reads_ok += r > 0;
	if (clocked && r > 0 && cap_avail > 0)
		cap_avail -= r;
	else if (clocked && r > 0)
		cap_held -= r; /* what the server held comes next */
	return r;
}

snd_pcm_sframes_t __wrap_snd_pcm_writei(snd_pcm_t *pcm, const void *buf,
					snd_pcm_uframes_t n)
{
	snd_pcm_sframes_t r;

	if (write_fault)
		return take_fault(&write_fault);
	r = __real_snd_pcm_writei(pcm, buf, n);
	writes_ok += r > 0;
	written += r > 0 ? r : 0;
	for (snd_pcm_sframes_t i = 0; queued && sound_at < 0 && i < r; i++)
		if (((const int16_t *)buf)[i])
			sound_at = played + play_delay + i;
	for (snd_pcm_sframes_t i = 0; queued && trace && i < r; i++)
		if (played + play_delay + i < trace_len)
			trace[played + play_delay + i] = ((const int16_t *)buf)[i];
	if (queued && r > 0)
		play_delay += r;
	return r;
}
