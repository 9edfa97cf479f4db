/* The shipped ALSA snippets (board/alsa/): each one, with its sound card replaced by
 * ALSA's file-over-null device, is read by the real ALSA library and gives the client a
 * working "intercom" device in both directions, through the snippet's own plug chain.
 *   test_alsa_conf SNIPPET.conf */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audio.h"

#define FRAME 960 /* 20 ms at 48 kHz */

static const char *snippet;
static char home[64], played[128];

/* Copy the snippet to $HOME/.asoundrc with every "hw:CARD=..." slave replaced by a file
 * device over null; returns how many were replaced. */
static int install_snippet(void)
{
	char rc[128], line[512], *q;
	FILE *in, *out;
	int n = 0;

	snprintf(home, sizeof(home), "/tmp/test-alsa-conf-%d", (int)getpid());
	mkdir(home, 0700);
	snprintf(rc, sizeof(rc), "%s/.asoundrc", home);
	snprintf(played, sizeof(played), "%s/played.raw", home);
	in = fopen(snippet, "r");
	assert_non_null(in);
	out = fopen(rc, "w");
	assert_non_null(out);
	while (fgets(line, sizeof(line), in)) {
		q = strstr(line, "\"hw:CARD=");
		if (q && line[0] != '#') {
			fprintf(out,
				"%.*s{ type file slave.pcm \"null\" file \"%s\" infile "
				"\"/dev/zero\" format \"raw\" }\n",
				(int)(q - line), line, played);
			n++;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	fclose(out);
	setenv("HOME", home, 1); /* ALSA reads $HOME/.asoundrc */
	return n;
}

static void test_snippet_gives_intercom_device(void **state)
{
	struct audio *a = NULL;
	int16_t pcm[FRAME];
	char err[256];
	struct stat st;

	(void)state;
	/* one card for capture, one for playback */
	assert_int_equal(install_snippet(), 2);
	err[0] = '\0';
	assert_int_equal(
	    audio_open_alsa(&a, "intercom", "intercom", FRAME, 240, err, sizeof(err)), 0);
	for (int i = 0; i < FRAME; i++)
		pcm[i] = (int16_t)(i * 7);
	for (int i = 0; i < 3; i++)
		assert_int_equal(audio_write(a, pcm), 0);
	assert_int_equal(audio_close(a), 0);
	/* what the client played went through the snippet's chain, mono 16-bit */
	assert_int_equal(stat(played, &st), 0);
	assert_true(st.st_size >= (off_t)sizeof(pcm));
	assert_int_equal(st.st_size % 2, 0);
}

static void test_without_snippet_no_device(void **state)
{
	struct audio *a = NULL;
	char err[256];

	(void)state;
	/* the name is the snippet's doing: a misspelt device is refused, with a message
	 */
	assert_true(audio_open_alsa(&a, "intercom_nonexistent", "intercom", FRAME, 240,
				    err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "intercom_nonexistent"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snippet_gives_intercom_device),
	    cmocka_unit_test(test_without_snippet_no_device),
	};
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: test_alsa_conf SNIPPET.conf\n");
		return 2;
	}
	snippet = argv[1];
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(played);
	snprintf(played, sizeof(played), "%s/.asoundrc", home);
	unlink(played);
	rmdir(home);
	return r;
}
