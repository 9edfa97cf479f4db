/* The board module against fakes of the libgpiod calls it makes (linked with --wrap):
 * polarity, debouncing, LED writes and blinking, errors. The test owns the clock. */
#include <errno.h>
#include <gpiod.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "board.h"

struct fake_line {
	int physical; /* 0 = low, 1 = high */
	int pipe[2];
	int flags;
	bool input, output, released, busy;
	int writes[256], nwrites;
};

static struct fake_line lines[64];
static int chip_token, chip_closed;

/* libgpiod's v1 calls, faked */
struct gpiod_chip *__wrap_gpiod_chip_open_lookup(const char *descr);
struct gpiod_line *__wrap_gpiod_chip_get_line(struct gpiod_chip *chip,
					      unsigned int offset);
int __wrap_gpiod_line_request_both_edges_events_flags(struct gpiod_line *line,
						      const char *consumer, int flags);
int __wrap_gpiod_line_request_output(struct gpiod_line *line, const char *consumer,
				     int default_val);
int __wrap_gpiod_line_event_get_fd(struct gpiod_line *line);
int __wrap_gpiod_line_event_read(struct gpiod_line *line, struct gpiod_line_event *event);
int __wrap_gpiod_line_get_value(struct gpiod_line *line);
int __wrap_gpiod_line_set_value(struct gpiod_line *line, int value);
void __wrap_gpiod_line_release(struct gpiod_line *line);
void __wrap_gpiod_chip_close(struct gpiod_chip *chip);

struct gpiod_chip *__wrap_gpiod_chip_open_lookup(const char *descr)
{
	if (strcmp(descr, "pinctrl-rp1")) {
		errno = ENOENT;
		return NULL;
	}
	return (struct gpiod_chip *)&chip_token;
}

struct gpiod_line *__wrap_gpiod_chip_get_line(struct gpiod_chip *chip,
					      unsigned int offset)
{
	assert_ptr_equal(chip, &chip_token);
	return offset < 64 ? (struct gpiod_line *)&lines[offset] : NULL;
}

int __wrap_gpiod_line_request_both_edges_events_flags(struct gpiod_line *line,
						      const char *consumer, int flags)
{
	struct fake_line *l = (struct fake_line *)line;

	assert_string_equal(consumer, "intercom");
	if (l->busy) {
		errno = EBUSY;
		return -1;
	}
	l->input = true;
	l->flags = flags;
	assert_int_equal(pipe(l->pipe), 0);
	return 0;
}

int __wrap_gpiod_line_request_output(struct gpiod_line *line, const char *consumer,
				     int default_val)
{
	struct fake_line *l = (struct fake_line *)line;

	(void)consumer;
	l->output = true;
	l->physical = default_val;
	return 0;
}

int __wrap_gpiod_line_event_get_fd(struct gpiod_line *line)
{
	return ((struct fake_line *)line)->pipe[0];
}

int __wrap_gpiod_line_event_read(struct gpiod_line *line, struct gpiod_line_event *event)
{
	struct fake_line *l = (struct fake_line *)line;
	char c;

	if (read(l->pipe[0], &c, 1) != 1)
		return -1;
	memset(event, 0, sizeof(*event));
	event->event_type = c;
	return 0;
}

/* What the kernel reports: the logical level, inverted for an active-low request. */
int __wrap_gpiod_line_get_value(struct gpiod_line *line)
{
	struct fake_line *l = (struct fake_line *)line;

	return (l->flags & GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) ? !l->physical
							       : l->physical;
}

int __wrap_gpiod_line_set_value(struct gpiod_line *line, int value)
{
	struct fake_line *l = (struct fake_line *)line;

	l->physical = value;
	if (l->nwrites < 256)
		l->writes[l->nwrites++] = value;
	return 0;
}

void __wrap_gpiod_line_release(struct gpiod_line *line)
{
	struct fake_line *l = (struct fake_line *)line;

	l->released = true;
	if (l->input) {
		close(l->pipe[0]);
		close(l->pipe[1]);
	}
}

void __wrap_gpiod_chip_close(struct gpiod_chip *chip)
{
	(void)chip;
	chip_closed++;
}

/* the test side */
enum {
	P_PTT = 17,
	P_CALL = 27,
	P_ACCEPT = 22,
	P_DENY = 23,
	L_POWER = 5,
	L_TX = 6,
	L_RX = 13,
	L_RING = 19
};
static const int pins[CFG_PINS] = {P_PTT,   P_CALL, P_ACCEPT, P_DENY,
				   L_POWER, L_TX,   L_RX,     L_RING};
static char got[256];

static void on_button(void *arg, enum app_btn b, bool down)
{
	static const char *const n[] = {"ptt", "call", "accept", "deny"};

	(void)arg;
	strcat(got, n[b]);
	strcat(got, down ? "+ " : "- ");
}

static struct board *open_board(bool active_low)
{
	struct board *b = NULL;
	char err[256];

	memset(lines, 0, sizeof(lines));
	for (int i = 0; i < 4; i++)
		lines[pins[i]].physical =
		    active_low ? 1 : 0; /* released: pulled to idle */
	got[0] = '\0';
	assert_int_equal(board_open(&b, "pinctrl-rp1", pins, active_low, on_button, NULL,
				    err, sizeof(err)),
			 0);
	return b;
}

/* The physical level of a button pin changes: an edge event is queued. */
static void edge(struct board *b, int pin, int level, uint64_t now)
{
	char c = level ? GPIOD_LINE_EVENT_RISING_EDGE : GPIOD_LINE_EVENT_FALLING_EDGE;

	lines[pin].physical = level;
	assert_int_equal(write(lines[pin].pipe[1], &c, 1), 1);
	board_input(b, lines[pin].pipe[0], now);
}

static void test_active_low_press_release(void **state)
{
	struct board *b = open_board(true);
	int fds[4];

	(void)state;
	assert_int_equal(board_fds(b, fds), 4);
	assert_int_equal(lines[P_PTT].flags, GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW |
						 GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP);
	assert_true(lines[L_TX].output);
	assert_int_equal(board_held(b), 0); /* wired as configured: all up */
	edge(b, P_PTT, 0, 1000);	    /* pressed: pulled to ground */
	board_tick(b, 1019);
	assert_string_equal(got, ""); /* not yet stable for 20 ms */
	board_tick(b, 1020);
	assert_string_equal(got, "ptt+ ");
	edge(b, P_PTT, 1, 3000);
	board_tick(b, 3025);
	assert_string_equal(got, "ptt+ ptt- ");
	edge(b, P_DENY, 0, 4000);
	board_tick(b, 4030);
	assert_string_equal(got, "ptt+ ptt- deny+ ");
	board_close(b);
	assert_true(lines[P_PTT].released && lines[L_RING].released);
	assert_int_equal(chip_closed, 1);
	chip_closed = 0;
}

static void test_debounce(void **state)
{
	struct board *b = open_board(true);

	(void)state;
	/* a bouncing press: low, high, low within a few ms: one press, 20 ms after the
	 * last edge */
	edge(b, P_CALL, 0, 100);
	edge(b, P_CALL, 1, 103);
	edge(b, P_CALL, 0, 107);
	board_tick(b, 126);
	assert_string_equal(got, "");
	board_tick(b, 127);
	assert_string_equal(got, "call+ ");
	board_tick(b, 500);
	assert_string_equal(got, "call+ "); /* once */
	/* a glitch that comes back before it settles is no press at all */
	edge(b, P_ACCEPT, 0, 600);
	edge(b, P_ACCEPT, 1, 604);
	board_tick(b, 700);
	assert_string_equal(got, "call+ ");
	board_close(b);
	chip_closed = 0;
}

static void test_active_high(void **state)
{
	struct board *b = open_board(false);

	(void)state;
	assert_int_equal(lines[P_PTT].flags, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN);
	edge(b, P_PTT, 1, 10); /* pressed: pulled high */
	board_tick(b, 40);
	assert_string_equal(got, "ptt+ ");
	board_close(b);
	chip_closed = 0;
}

/* Buttons wired to 3.3 V (idle low) on a board configured active-low all read pressed
 * at start: the client warns, naming active_low. One held down alone reads as itself. */
static void test_held_at_start(void **state)
{
	struct board *b = NULL;
	char err[256];

	(void)state;
	memset(lines, 0, sizeof(lines)); /* every button idles low */
	assert_int_equal(
	    board_open(&b, "pinctrl-rp1", pins, true, on_button, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(board_held(b), 0xf);
	assert_string_equal(board_btn_name(BTN_PTT), "PTT");
	assert_string_equal(board_btn_name(BTN_DENY), "DENY");
	board_close(b);
	memset(lines, 0, sizeof(lines));
	for (int i = 0; i < 4; i++)
		lines[pins[i]].physical = 1;
	lines[P_CALL].physical = 0; /* CALL held down while starting */
	assert_int_equal(
	    board_open(&b, "pinctrl-rp1", pins, true, on_button, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(board_held(b), 1u << BTN_CALL);
	board_close(b);
	chip_closed = 0;
}

static void test_leds(void **state)
{
	struct board *b = open_board(true);
	int toggles;

	(void)state;
	board_tick(b, 0); /* blink phase: on */
	board_led(b, LED_TX, LED_ON, 1);
	assert_int_equal(lines[L_TX].physical, 1);
	board_led(b, LED_TX, LED_ON, 2); /* no second write for the same level */
	assert_int_equal(lines[L_TX].nwrites, 1);
	board_led(b, LED_TX, LED_OFF, 3);
	assert_int_equal(lines[L_TX].physical, 0);
	board_led(b, LED_RING, LED_BLINK, 4);
	toggles = lines[L_RING].nwrites;
	for (uint64_t t = 5; t < 2005; t += 10)
		board_tick(b, t);
	/* 2 s at 2 Hz: 8 changes, give or take the phase */
	assert_true(lines[L_RING].nwrites - toggles >= 7 &&
		    lines[L_RING].nwrites - toggles <= 9);
	assert_int_equal(lines[L_POWER].nwrites, 0); /* untouched LEDs stay untouched */
	board_close(b);
	assert_int_equal(lines[L_RING].physical, 0); /* off when closed */
	chip_closed = 0;
}

static void test_errors(void **state)
{
	struct board *b = NULL;
	char err[256];
	int unwired[CFG_PINS] = {P_PTT, -1, -1, -1, -1, -1, -1, -1};

	(void)state;
	memset(lines, 0, sizeof(lines));
	assert_true(board_open(&b, "gpiochip9", pins, true, on_button, NULL, err,
			       sizeof(err)) < 0);
	assert_non_null(strstr(err, "GPIO chip 'gpiochip9' not found"));
	assert_non_null(strstr(err, "gpiodetect"));
	lines[P_ACCEPT].busy = true;
	assert_int_equal(
	    board_open(&b, "pinctrl-rp1", pins, true, on_button, NULL, err, sizeof(err)),
	    -EBUSY);
	assert_non_null(strstr(err, "ACCEPT button on GPIO 22"));
	assert_true(lines[P_PTT].released); /* what it had taken is given back */
	assert_int_equal(chip_closed, 1);
	chip_closed = 0;
	/* unwired pins are simply not used */
	memset(lines, 0, sizeof(lines));
	assert_int_equal(board_open(&b, "pinctrl-rp1", unwired, true, on_button, NULL,
				    err, sizeof(err)),
			 0);
	{
		int fds[4];

		assert_int_equal(board_fds(b, fds), 1);
	}
	board_led(b, LED_TX, LED_ON, 0); /* not wired: nothing happens */
	board_close(b);
	chip_closed = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_active_low_press_release),
	    cmocka_unit_test(test_debounce),
	    cmocka_unit_test(test_active_high),
	    cmocka_unit_test(test_held_at_start),
	    cmocka_unit_test(test_leds),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
