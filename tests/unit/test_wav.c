#include <errno.h>
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

static char path[64], err[256];

static void put_file(const void *data, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test-wav-%d.wav", (int)getpid());
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A 44-byte canonical header with the given fields, then `samples` bytes of data. */
static size_t make(uint8_t *b, uint16_t fmt, uint16_t ch, uint32_t rate, uint16_t bits,
		   uint32_t data_len)
{
	memcpy(b, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0", 20);
	b[20] = (uint8_t)fmt, b[21] = (uint8_t)(fmt >> 8);
	b[22] = (uint8_t)ch, b[23] = 0;
	for (int i = 0; i < 4; i++)
		b[24 + i] = (uint8_t)(rate >> (8 * i));
	memset(b + 28, 0, 6);
	b[34] = (uint8_t)bits, b[35] = 0;
	memcpy(b + 36, "data", 4);
	for (int i = 0; i < 4; i++)
		b[40 + i] = (uint8_t)(data_len >> (8 * i));
	return 44;
}

/* A file longer than the loader's first buffer comes back whole; a missing one says so.
 */
static void test_load_whole_file(void **state)
{
	enum { N = WAV_RATE * 3 + 17 };
	static int16_t in[N];
	int16_t *out = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < N; i++)
		in[i] = (int16_t)(i * 7919);
	snprintf(path, sizeof(path), "/tmp/test-wav-%d.wav", (int)getpid());
	assert_int_equal(wav_save(path, in, N, err, sizeof(err)), 0);
	assert_int_equal(wav_load(path, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, N);
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	unlink(path);
	assert_int_equal(wav_load(path, &out, &n, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	/* nowhere to write: the path is named */
	assert_true(wav_save("/nonexistent-dir/x.wav", in, N, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent-dir/x.wav"));
}

static void test_write_then_read(void **state)
{
	static const uint8_t golden[44] = {
	    'R', 'I', 'F', 'F', 42, 0, 0,   0,	 'W', 'A',  'V',  'E', 'f', 'm',  't',
	    ' ', 16,  0,   0,	0,  1, 0,   1,	 0,   0x80, 0xbb, 0,   0,   0x00, 0x77,
	    1,	 0,   2,   0,	16, 0, 'd', 'a', 't', 'a',  6,	  0,   0,   0};
	int16_t in[3] = {1, -2, 32767}, out[8];
	uint8_t file[64];
	struct wav *w;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-wav-%d.wav", (int)getpid());
	assert_int_equal(wav_open_write(&w, path, err, sizeof(err)), 0);
	assert_int_equal(wav_write(w, in, 3), 0);
	assert_int_equal(wav_samples(w), 3);
	assert_int_equal(wav_close(w), 0);
	f = fopen(path, "rb");
	assert_int_equal(fread(file, 1, sizeof(file), f), 50);
	fclose(f);
	assert_memory_equal(file, golden, 44); /* sizes filled in on close */
	assert_memory_equal(file + 44, "\x01\x00\xfe\xff\xff\x7f", 6);
	assert_int_equal(wav_open_read(&w, path, err, sizeof(err)), 0);
	assert_int_equal(wav_samples(w), 3);
	assert_int_equal(wav_read(w, out, 8), 3);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(wav_read(w, out, 8), 0);
	wav_close(w);
	unlink(path);
}

static void expect_error(const char *want)
{
	struct wav *w = NULL;

	assert_int_equal(wav_open_read(&w, path, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
	assert_non_null(strstr(err, path)); /* names the file */
}

static void test_refused_formats(void **state)
{
	uint8_t b[64] = {0};

	(void)state;
	put_file(b, make(b, 1, 1, 44100, 16, 0));
	expect_error("44100 Hz, need 48000 Hz");
	put_file(b, make(b, 1, 2, 48000, 16, 0));
	expect_error("2 channels, need mono");
	put_file(b, make(b, 1, 1, 48000, 8, 0));
	expect_error("8-bit samples, need 16-bit");
	put_file(b, make(b, 3, 1, 48000, 32, 0));
	expect_error("format 3 is not integer PCM");
	put_file("RIFX\0\0\0\0WAVE", 12);
	expect_error("not a WAV file");
	put_file("RIF", 3);
	expect_error("not a WAV file");
	make(b, 1, 1, 48000, 16, 0);
	put_file(b, 36); /* fmt, no data chunk */
	expect_error("no data chunk");
	put_file("RIFF\0\0\0\0WAVEdata\0\0\0\0", 20);
	expect_error("data chunk before the fmt chunk");
	unlink(path);
	assert_true(wav_open_read(&(struct wav *){NULL}, "/nonexistent/x.wav", err,
				  sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_extra_chunks_and_truncation(void **state)
{
	uint8_t b[128] = {0};
	int16_t out[16];
	struct wav *w;
	size_t n = make(b, 1, 1, 48000, 16, 1000); /* declares 500 samples */

	(void)state;
	/* a LIST chunk of odd length (padded) between fmt and data */
	memmove(b + 36 + 10, b + 36, 8);
	memcpy(b + 36, "LIST\x01\0\0\0x\0", 10);
	n += 10;
	memcpy(b + n, "\x05\x00\x06\x00", 4); /* only 2 samples really there */
	put_file(b, n + 4);
	assert_int_equal(wav_open_read(&w, path, err, sizeof(err)), 0);
	assert_int_equal(wav_read(w, out, 16), 2);
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 6);
	assert_int_equal(wav_read(w, out, 16), 0);
	wav_close(w);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_then_read),
	    cmocka_unit_test(test_load_whole_file),
	    cmocka_unit_test(test_refused_formats),
	    cmocka_unit_test(test_extra_chunks_and_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
