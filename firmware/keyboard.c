#include "keyboard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1; /* the one terminal of the process */

enum kbd_key kbd_map(char c)
{
	switch (c) {
	case ' ':
		return KBD_PTT_TOGGLE;
	case 'c':
	case 'C':
		return KBD_CALL;
	case 'a':
	case 'A':
		return KBD_ACCEPT;
	case 'd':
	case 'D':
		return KBD_DENY;
	case 'q':
	case 'Q':
	case 3: /* Ctrl-C, which raw mode delivers as a byte */
		return KBD_QUIT;
	default:
		return KBD_NONE;
	}
}

int kbd_raw(int fd)
{
	struct termios t;

	if (!isatty(fd) || tcgetattr(fd, &t))
		return -ENOTTY;
	saved = t;
	saved_fd = fd;
	t.c_lflag &= (tcflag_t) ~(ICANON | ECHO | ISIG);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return tcsetattr(fd, TCSANOW, &t) ? -errno : 0;
}

void kbd_restore(void)
{
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSANOW, &saved);
		saved_fd = -1;
	}
}

void kbd_draw(int fd, const char *status, const enum led_state leds[LED_COUNT])
{
	static const char *const names[LED_COUNT] = {"PWR", "TX", "RX", "RING"};
	static const char lamp[] = {'.', '*', '~'};
	char line[256];
	int n = snprintf(line, sizeof(line), "\r\033[K[");

	for (int i = 0; i < LED_COUNT; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s%c", i ? " " : "",
			      names[i], lamp[leds[i]]);
	n +=
	    snprintf(line + n, sizeof(line) - (size_t)n,
		     "] %s   (space talk, c call, a accept, d deny/end, q quit)", status);
	if (n > 0)
		(void)!write(fd, line, (size_t)n);
}
