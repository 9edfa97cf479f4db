/* names.h: the contract's rules for nicknames, rooms, real names, versions and text. */
#ifndef IC_NAMES_H
#define IC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* True if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool names_utf8_valid(const char *s, size_t len);

/* True if s[0..len) is valid UTF-8 with no C0 control byte but TAB and no DEL. */
bool names_text_valid(const char *s, size_t len);

/* Nickname: 1..IC_NICK_MAX bytes of A-Z a-z 0-9 _ - . */
bool names_nick_valid(const char *s);

/* Room: '#' then 1..32 bytes of the nickname set. */
bool names_room_valid(const char *s);

/* Real name: 0..IC_REALNAME_MAX bytes of UTF-8 without '"' or control bytes. */
bool names_realname_valid(const char *s);

/* Server password (1.1): 1..IC_PASSWORD_MAX bytes of UTF-8 without '"' or control bytes.
 */
bool names_password_valid(const char *s);

/* Parse "MAJOR.MINOR.PATCH" (each 1..9 digits). Returns 0, or -EINVAL if malformed. */
int names_version_parse(const char *s, int *major, int *minor, int *patch);

/* Case-insensitive (ASCII) equality, as names are compared. */
bool names_equal(const char *a, const char *b);

#endif
