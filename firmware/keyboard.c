#include "keyboard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

#define KBD_HELP  "   (space talk, c call, a accept, d deny/end, q quit)"
#define KBD_CLEAR "\r\033[K"

/* Characters (not bytes) in s: UTF-8 continuation bytes do not count. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Cut s to at most max characters, never inside one. */
static void cut(char *s, size_t max)
{
	size_t n = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80 && n++ == max) {
			*p = '\0';
			return;
		}
	}
}

size_t kbd_line(char *out, size_t size, const char *status,
		const enum led_state leds[LED_COUNT], unsigned cols)
{
	static const char *const names[LED_COUNT] = {"PWR", "TX", "RX", "RING"};
	static const char lamp[] = {'.', '*', '~', '!'};
	char text[256];
	size_t width = cols > 1 ? cols - 1 : 1, lamps;
	int n = snprintf(text, sizeof(text), "[");

	for (int i = 0; i < LED_COUNT; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s%s%c", i ? " " : "",
			      names[i], lamp[leds[i]]);
	lamps = (size_t)n;
	snprintf(text + n, sizeof(text) - (size_t)n, "] %s", status);
	if (chars(text) + strlen(KBD_HELP) <= width) /* the help goes first */
		strncat(text, KBD_HELP, sizeof(text) - strlen(text) - 1);
	/* the lamps stay whole, however narrow the terminal */
	if (chars(text) > width)
		cut(text, width > lamps + 1 ? width : lamps + 1);
	return (size_t)snprintf(out, size, KBD_CLEAR "%s", text);
}

void kbd_draw(int fd, const char *status, const enum led_state leds[LED_COUNT])
{
	struct winsize ws;
	char line[300];
	unsigned cols = ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
	size_t n = kbd_line(line, sizeof(line), status, leds, cols);

	(void)!write(fd, line, n < sizeof(line) ? n : sizeof(line) - 1);
}

void kbd_clear(int fd)
{
	(void)!write(fd, KBD_CLEAR, sizeof(KBD_CLEAR) - 1);
}
