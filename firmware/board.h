/* board.h: buttons and LEDs on GPIO lines through libgpiod 1.6 (the v1 API); the only
 * file that calls libgpiod. Driven by the loop: event fds in, the time passed in. */
#ifndef IC_BOARD_H
#define IC_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "cfg.h"

#define BOARD_DEBOUNCE_MS 20  /* a button must hold its new level this long */
#define BOARD_BLINK_MS	  250 /* LED_BLINK: 2 Hz */
#define BOARD_BUTTONS	  4   /* PTT, CALL, ACCEPT, DENY: cfg pins 0..3 */
#define BOARD_LEDS	  4   /* POWER, TX, RX, RING: cfg pins 4..7 */

struct board;

typedef void(board_btn_h)(void *arg, enum app_btn btn, bool down);

/* Open chip (a name, path, number or label: "pinctrl-rp1" finds a Pi 5's header GPIO
 * whichever number the kernel gave it) and request the wired lines (pins < 0 are not
 * wired). Returns 0, or -errno with what to do in err. */
int board_open(struct board **bp, const char *chip, const int pins[CFG_PINS],
	       bool active_low, board_btn_h *h, void *arg, char *err, size_t errlen);
void board_close(struct board *b);

/* The buttons that read pressed when the board was opened, bit i for button i (PTT,
 * CALL, ACCEPT, DENY): held down, or wired for the other polarity (active_low). */
unsigned board_held(const struct board *b);
/* "PTT", "CALL", "ACCEPT" or "DENY". */
const char *board_btn_name(enum app_btn btn);

/* The event fds to watch for reading (up to BOARD_BUTTONS); returns how many. */
int board_fds(const struct board *b, int *fds);
/* fd is readable: take its edge event; the level is reported once it is stable. */
void board_input(struct board *b, int fd, uint64_t now);
/* Debounce and blink. Returns when it next needs calling. */
uint64_t board_tick(struct board *b, uint64_t now);
void board_led(struct board *b, enum app_led led, enum led_state s, uint64_t now);

#endif
