/* line.h: splits a client's TCP byte stream into lines of at most IC_LINE_MAX bytes. */
#ifndef IC_LINE_H
#define IC_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "ic_limits.h"

/* One connection's partial input. Embed it; line_init() before use. */
struct linebuf {
	char buf[IC_LINE_MAX + 1];
	size_t len;
	bool discarding; /* after LINE_TOO_LONG, until the next LF */
};

enum line_ev {
	LINE_NONE, /* all input consumed, no complete line yet */
	LINE_OK,   /* a line: NUL-terminated, without LF and without one CR before it */
	LINE_TOO_LONG, /* IC_LINE_MAX bytes arrived without LF; the rest up to LF is
			  dropped */
};

void line_init(struct linebuf *lb);

/* Consume bytes from data[0..len) up to and including the first event; returns how many
 * were consumed and sets *ev. On LINE_OK, *line and *line_len point into lb, valid until
 * the next call. Call again with the rest until it returns LINE_NONE. */
size_t line_feed(struct linebuf *lb, const char *data, size_t len, enum line_ev *ev,
		 const char **line, size_t *line_len);

#endif
