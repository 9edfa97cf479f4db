#include "board.h"

#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSUMER "intercom"

struct button {
	struct gpiod_line *line;
	int fd;
	bool down;	/* the level last reported */
	bool pending;	/* an edge came; waiting for the level to settle */
	uint64_t since; /* when the last edge came */
};

struct led {
	struct gpiod_line *line;
	enum led_state state;
	bool lit;
};

struct board {
	struct gpiod_chip *chip;
	unsigned held; /* buttons down at open */
	struct button btn[BOARD_BUTTONS];
	struct led led[BOARD_LEDS];
	uint64_t blink_at;
	bool blink_on;
	board_btn_h *h;
	void *arg;
};

static const char *const btn_names[BOARD_BUTTONS] = {"PTT", "CALL", "ACCEPT", "DENY"};
static const char *const led_names[BOARD_LEDS] = {"POWER", "TX", "RX", "RING"};

void board_close(struct board *b)
{
	if (!b)
		return;
	for (int i = 0; i < BOARD_LEDS; i++) {
		if (b->led[i].line) {
			gpiod_line_set_value(b->led[i].line, 0);
			gpiod_line_release(b->led[i].line);
		}
	}
	for (int i = 0; i < BOARD_BUTTONS; i++) {
		if (b->btn[i].line)
			gpiod_line_release(b->btn[i].line);
	}
	if (b->chip)
		gpiod_chip_close(b->chip);
	free(b);
}

int board_open(struct board **bp, const char *chip, const int pins[CFG_PINS],
	       bool active_low, board_btn_h *h, void *arg, char *err, size_t errlen)
{
	struct board *b = calloc(1, sizeof(*b));
	int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW |
				     GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
			       : GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
	int e;

	if (!b)
		return -ENOMEM;
	b->h = h;
	b->arg = arg;
	b->chip = gpiod_chip_open_lookup(chip);
	if (!b->chip) {
		e = errno ? -errno : -ENODEV;
		snprintf(err, errlen,
			 "GPIO chip '%s' not found: %s (gpiodetect lists the chips; "
			 "set gpio_chip, or board = none)",
			 chip, strerror(-e));
		goto fail;
	}
	for (int i = 0; i < BOARD_BUTTONS; i++) {
		struct button *bt = &b->btn[i];
		int v;

		bt->fd = -1;
		if (pins[i] < 0)
			continue;
		bt->line = gpiod_chip_get_line(b->chip, (unsigned)pins[i]);
		if (!bt->line || gpiod_line_request_both_edges_events_flags(
				     bt->line, CONSUMER, flags)) {
			e = errno ? -errno : -EINVAL;
			bt->line = NULL;
			snprintf(err, errlen,
				 "%s button on GPIO %d: %s (busy with another program, "
				 "or not on chip '%s'?)",
				 btn_names[i], pins[i], strerror(-e), chip);
			goto fail;
		}
		bt->fd = gpiod_line_event_get_fd(bt->line);
		v = gpiod_line_get_value(bt->line);
		bt->down = v == 1; /* held at start: reported only when it changes */
		if (bt->down)
			b->held |= 1u << i;
	}
	for (int i = 0; i < BOARD_LEDS; i++) {
		struct led *l = &b->led[i];
		int pin = pins[BOARD_BUTTONS + i];

		if (pin < 0)
			continue;
		l->line = gpiod_chip_get_line(b->chip, (unsigned)pin);
		if (!l->line || gpiod_line_request_output(l->line, CONSUMER, 0)) {
			e = errno ? -errno : -EINVAL;
			l->line = NULL;
			snprintf(err, errlen,
				 "%s LED on GPIO %d: %s (busy with another program, or "
				 "not on chip '%s'?)",
				 led_names[i], pin, strerror(-e), chip);
			goto fail;
		}
	}
	*bp = b;
	return 0;
fail:
	board_close(b);
	return e;
}

unsigned board_held(const struct board *b)
{
	return b->held;
}

const char *board_btn_name(enum app_btn btn)
{
	return (unsigned)btn < BOARD_BUTTONS ? btn_names[btn] : "?";
}

int board_fds(const struct board *b, int *fds)
{
	int n = 0;

	for (int i = 0; i < BOARD_BUTTONS; i++) {
		if (b->btn[i].fd >= 0)
			fds[n++] = b->btn[i].fd;
	}
	return n;
}

void board_input(struct board *b, int fd, uint64_t now)
{
	for (int i = 0; i < BOARD_BUTTONS; i++) {
		struct button *bt = &b->btn[i];
		struct gpiod_line_event ev;

		if (bt->fd != fd)
			continue;
		if (gpiod_line_event_read(bt->line, &ev) == 0) {
			/* every edge restarts the wait: a bouncing contact settles first
			 */
			bt->pending = true;
			bt->since = now;
		}
	}
}

static void led_apply(struct led *l, bool blink_on)
{
	bool lit = l->state == LED_ON || (l->state == LED_BLINK && blink_on) ||
		   (l->state == LED_ALT && !blink_on);

	if (l->line && lit != l->lit) {
		gpiod_line_set_value(l->line, lit);
		l->lit = lit;
	}
}

uint64_t board_tick(struct board *b, uint64_t now)
{
	uint64_t next = now + 1000;

	for (int i = 0; i < BOARD_BUTTONS; i++) {
		struct button *bt = &b->btn[i];
		bool down;

		if (!bt->pending)
			continue;
		if (now < bt->since + BOARD_DEBOUNCE_MS) {
			next = bt->since + BOARD_DEBOUNCE_MS < next
				   ? bt->since + BOARD_DEBOUNCE_MS
				   : next;
			continue;
		}
		bt->pending = false;
		down = gpiod_line_get_value(bt->line) == 1;
		if (down != bt->down) {
			bt->down = down;
			b->h(b->arg, (enum app_btn)i, down);
		}
	}
	if (now >= b->blink_at) {
		b->blink_on = !b->blink_on;
		b->blink_at = now + BOARD_BLINK_MS;
		for (int i = 0; i < BOARD_LEDS; i++)
			led_apply(&b->led[i], b->blink_on);
	}
	return b->blink_at < next ? b->blink_at : next;
}

void board_led(struct board *b, enum app_led led, enum led_state s, uint64_t now)
{
	(void)now;
	if (led >= BOARD_LEDS)
		return;
	b->led[led].state = s;
	led_apply(&b->led[led], b->blink_on);
}
