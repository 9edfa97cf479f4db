/* hex.h: bytes as lower-case hex digits, as the protocol writes them (the VOICE line's
 * token and keys, fingerprints). */
#ifndef IC_HEX_H
#define IC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* n bytes as 2n digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* 2n lower-case hex digits into n bytes. Returns 0, or -EINVAL for anything else (out
 * is then left as it was). */
int hex_decode(const char *hex, size_t n, uint8_t *out);

#endif
