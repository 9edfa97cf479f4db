#include "names.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "ic_limits.h"

bool names_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false; /* continuation byte, 0xc0/0xc1 overlong lead, or >
					 0xf4 */
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
			return false; /* overlong */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool names_text_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return names_utf8_valid(s, len);
}

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static bool name_body_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (n >= IC_NICK_MAX || !name_char(s[n]))
			return false;
	}
	return n > 0;
}

bool names_nick_valid(const char *s)
{
	return s && name_body_valid(s);
}

bool names_room_valid(const char *s)
{
	return s && s[0] == '#' && name_body_valid(s + 1);
}

/* A quoted field: up to max bytes of UTF-8 without '"', tabs or other control bytes. */
static bool quoted_valid(const char *s, size_t min, size_t max)
{
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	if (len < min || len > max || memchr(s, '"', len))
		return false;
	return names_text_valid(s, len) && !memchr(s, '\t', len);
}

bool names_realname_valid(const char *s)
{
	return quoted_valid(s, 0, IC_REALNAME_MAX);
}

bool names_password_valid(const char *s)
{
	return quoted_valid(s, 1, IC_PASSWORD_MAX);
}

static const char *parse_part(const char *s, int *out)
{
	int v = 0, n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > IC_VERSION_PART_DIGITS)
			return NULL;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return s;
}

int names_version_parse(const char *s, int *major, int *minor, int *patch)
{
	int a, b, c;

	if (!s)
		return -EINVAL;
	s = parse_part(s, &a);
	if (!s || *s++ != '.')
		return -EINVAL;
	s = parse_part(s, &b);
	if (!s || *s++ != '.')
		return -EINVAL;
	s = parse_part(s, &c);
	if (!s || *s)
		return -EINVAL;
	*major = a;
	*minor = b;
	*patch = c;
	return 0;
}

bool names_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}
