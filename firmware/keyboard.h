/* keyboard.h: a desktop stand-in for the buttons and LEDs: keys in a terminal in raw mode
 * (space toggles talk, c call, a accept, d deny/end, q quit) and a one-line status. */
#ifndef IC_KEYBOARD_H
#define IC_KEYBOARD_H

#include <stdbool.h>

#include "app.h"

enum kbd_key { KBD_NONE, KBD_PTT_TOGGLE, KBD_CALL, KBD_ACCEPT, KBD_DENY, KBD_QUIT };

/* Map one key byte to its meaning. */
enum kbd_key kbd_map(char c);

/* Put the terminal on fd into raw mode (no echo, no line buffering). Returns 0, or
 * -ENOTTY when fd is not a terminal. kbd_restore undoes it (safe to call twice). */
int kbd_raw(int fd);
void kbd_restore(void);

/* The status line with LED lamps for a terminal cols wide, into out (size >= 64):
 * "\r\033[K[PWR* TX. RX. RING~] online #Lobby   (space talk, ...)". It never wraps:
 * the key help goes first, then the status is cut (at a character, not inside one) to
 * cols - 1 characters. Returns its length in bytes. */
size_t kbd_line(char *out, size_t size, const char *status,
		const enum led_state leds[LED_COUNT], unsigned cols);

/* Draw it on the terminal fd (its width from TIOCGWINSZ, else 80). */
void kbd_draw(int fd, const char *status, const enum led_state leds[LED_COUNT]);

/* Clear the terminal's current line (before a log line is printed over it). */
void kbd_clear(int fd);

#endif
