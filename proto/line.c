#include "line.h"

#include <string.h>

void line_init(struct linebuf *lb)
{
	lb->len = 0;
	lb->discarding = false;
}

size_t line_feed(struct linebuf *lb, const char *data, size_t len, enum line_ev *ev,
		 const char **line, size_t *line_len)
{
	size_t i = 0;

	*ev = LINE_NONE;
	while (i < len) {
		char c = data[i++];

		if (lb->discarding) {
			if (c == '\n')
				lb->discarding = false;
			continue;
		}
		if (c == '\n') {
			size_t n = lb->len;

			if (n > 0 && lb->buf[n - 1] == '\r')
				n--;
			lb->buf[n] = '\0';
			lb->len = 0;
			*line = lb->buf;
			*line_len = n;
			*ev = LINE_OK;
			return i;
		}
		/* The terminator counts toward the limit: the 512th byte must be the LF.
		 */
		if (lb->len == IC_LINE_MAX - 1) {
			lb->len = 0;
			lb->discarding = true;
			*ev = LINE_TOO_LONG;
			return i;
		}
		lb->buf[lb->len++] = c;
	}
	return i;
}
