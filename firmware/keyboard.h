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

/* Draw the status line with LED lamps: "[PWR* TX. RX. RING~] online #Lobby". */
void kbd_draw(int fd, const char *status, const enum led_state leds[LED_COUNT]);

#endif
