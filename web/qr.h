/* qr.h: a QR code of a text in the terminal (libqrencode), for --add-user's link. */
#ifndef IC_QR_H
#define IC_QR_H

#include <stdio.h>

/* Print text as a QR code (error correction M) with Unicode half blocks, two modules a
 * character row, dark on a light quiet zone. Returns 0 or -ENOMEM / -EINVAL (too long:
 * the link is still printed by the caller). */
int qr_print(FILE *f, const char *text);

#endif
