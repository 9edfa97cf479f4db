/* Writes the seed corpus of fuzz_voice (records as fuzz_voice.c reads them) from real
 * Opus packets of a tone: in order, reordered with a loss, two talkers, a new spurt.
 *   seed_voice DIR */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"

static unsigned char rec[65536];
static size_t len;

static void put_packet(unsigned talker, unsigned seq, unsigned ts, int marker,
		       const unsigned char *p, size_t n)
{
	unsigned char *r = rec + len;

	r[0] = (unsigned char)(1 | (talker << 1));
	r[1] = (unsigned char)(seq >> 8), r[2] = (unsigned char)seq;
	r[3] = (unsigned char)(ts >> 24), r[4] = (unsigned char)(ts >> 16);
	r[5] = (unsigned char)(ts >> 8), r[6] = (unsigned char)ts;
	r[7] = (unsigned char)(marker ? 1 : 0);
	r[8] = (unsigned char)(n >> 8), r[9] = (unsigned char)n;
	memcpy(r + 10, p, n);
	len += 10 + n;
}

static void put_time(unsigned ms)
{
	rec[len++] = (unsigned char)(ms << 1);
}

static int save(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(rec, 1, len, f) != len) {
		perror(path);
		return -1;
	}
	fclose(f);
	len = 0;
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char pkt[12][1276];
	static int16_t pcm[960];
	size_t n[12];
	struct codec_cfg cc;
	struct codec_enc *e;
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: seed_voice DIR\n");
		return 2;
	}
	codec_cfg_default(&cc);
	if (codec_enc_new(&e, &cc))
		return 1;
	for (int k = 0; k < 12; k++) {
		for (int i = 0; i < 960; i++)
			pcm[i] = (int16_t)(8000 *
					   sin(2 * M_PI * 440 * (k * 960 + i) / 48000.0));
		int m = codec_encode(e, pcm, pkt[k], sizeof(pkt[k]));
		if (m <= 0)
			return 1;
		n[k] = (size_t)m;
	}
	codec_enc_free(e);
	for (int k = 0; k < 12; k++) { /* in order, one frame period apart */
		put_packet(0, 100 + k, 960u * k, k == 0, pkt[k], n[k]);
		put_time(20);
	}
	r |= save(argv[1], "in-order");
	for (int k = 0; k < 12; k++) { /* pairs swapped, frame 5 lost, frame 7 twice */
		int j = k ^ 1;

		if (j != 5)
			put_packet(0, 65530 + j, 4294960000u + 960u * j, j == 0, pkt[j],
				   n[j]);
		if (j == 7)
			put_packet(0, 65530 + j, 4294960000u + 960u * j, 0, pkt[j], n[j]);
		put_time(k % 3 ? 10 : 40);
	}
	r |= save(argv[1], "reorder-loss-wrap");
	for (int k = 0; k < 12; k++) { /* two talkers, then a new spurt */
		put_packet(0, 1 + k, 960u * k, k == 0, pkt[k], n[k]);
		put_packet(1, 500 + k, 77u + 960u * k, k == 0, pkt[11 - k], n[11 - k]);
		put_time(20);
	}
	put_time(127);
	put_packet(0, 40, 96000, 1, pkt[0], n[0]);
	put_time(100);
	r |= save(argv[1], "two-talkers-new-spurt");
	return r ? 1 : 0;
}
