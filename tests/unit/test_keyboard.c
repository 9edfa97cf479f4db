/* The desktop's status line: never wider than the terminal (the key help goes first, a
 * long status is cut at a character, not inside a UTF-8 one), and log lines clear it
 * and draw it again instead of running on from its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keyboard.h"
#include "log.h"

static const enum led_state leds[LED_COUNT] = {LED_ON, LED_OFF, LED_OFF, LED_BLINK};

/* Visible characters after the clear-line prefix. */
static size_t visible(const char *line)
{
	size_t n = 0;

	assert_memory_equal(line, "\r\033[K", 4);
	for (const char *p = line + 4; *p; p++)
		n += ((unsigned char)*p & 0xC0) != 0x80;
	return n;
}

static void test_wide_terminal(void **state)
{
	char out[300];

	(void)state;
	kbd_line(out, sizeof(out), "online #Lobby", leds, 120);
	assert_string_equal(out,
			    "\r\033[K[PWR* TX. RX. RING~] online #Lobby   (space talk, "
			    "c call, a accept, d deny/end, q quit)");
}

static void test_narrow_terminals(void **state)
{
	const char *st = "ringing: Kitchen calls (a accept, d deny)";
	char out[300];

	(void)state;
	for (unsigned cols = 2; cols <= 100; cols++) {
		kbd_line(out, sizeof(out), st, leds, cols);
		/* never wraps, and keeps the lamps */
		if (visible(out) > (cols > 21 ? cols - 1 : 20))
			fail_msg("%u columns: %zu characters", cols, visible(out));
		assert_non_null(strstr(out, "[PWR* TX. RX. RING~]"));
		if (cols < 100)
			assert_null(strstr(out, "space talk")); /* the help went first */
	}
	kbd_line(out, sizeof(out), st, leds, 80); /* the whole status still fits */
	assert_non_null(strstr(out, st));
}

static void test_cut_at_a_character(void **state)
{
	char out[300];

	(void)state;
	/* "Küche" has a two-byte ü: a cut must not leave half of it */
	for (unsigned cols = 26; cols < 40; cols++) {
		kbd_line(out, sizeof(out), "calling Küchenküchenküchen", leds, cols);
		assert_int_equal(visible(out), cols - 1);
		for (const char *p = out; *p; p++) {
			if ((unsigned char)*p == 0xC3)
				assert_int_equal((unsigned char)p[1], 0xBC);
		}
	}
}

static int before, after;

static void on_before(void *arg)
{
	assert_int_equal(after, before); /* in pairs, in order */
	before += *(int *)arg;
}

static void on_after(void *arg)
{
	after += *(int *)arg;
	assert_int_equal(after, before);
}

static void test_log_hooks(void **state)
{
	int one = 1;

	(void)state;
	log_set_hooks(on_before, on_after, &one);
	log_info("a log line between clearing and drawing the status line");
	log_debug("not printed at this level: no hooks");
	assert_int_equal(before, 1);
	assert_int_equal(after, 1);
	log_set_hooks(NULL, NULL, NULL);
	log_info("no hooks any more");
	assert_int_equal(before, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wide_terminal),
	    cmocka_unit_test(test_narrow_terminals),
	    cmocka_unit_test(test_cut_at_a_character),
	    cmocka_unit_test(test_log_hooks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
