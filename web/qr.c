#include "qr.h"

#include <errno.h>
#include <stdbool.h>

#include <qrencode.h>

#define QUIET 2 /* modules of light border: enough for a phone's camera on a terminal */

static bool dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return q->data[y * q->width + x] & 1;
}

int qr_print(FILE *f, const char *text)
{
	/* upper and lower module of a character cell: light is the block, as terminals
	 * are dark by default and a QR code is read dark on light */
	static const char *const cell[4] = {"\xe2\x96\x88", "\xe2\x96\x84",
					    "\xe2\x96\x80", " "};
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	if (!q)
		return errno == ERANGE ? -EINVAL : -ENOMEM;
	for (int y = -QUIET; y < q->width + QUIET; y += 2) {
		for (int x = -QUIET; x < q->width + QUIET; x++)
			fputs(cell[dark(q, x, y) * 2 + dark(q, x, y + 1)], f);
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}
