#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The end of the head: the index just past its empty line, or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int copy_field(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return -EMSGSIZE;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i + tl <= n; i++) {
		bool start = i == 0 || v[i - 1] == ',' || v[i - 1] == ' ';
		bool end = i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ';

		if (start && end && !strncasecmp(v + i, tok, tl))
			return true;
	}
	return false;
}

static int parse_number(const char *v, size_t n, long *out)
{
	long x = 0;

	if (n == 0 || n > 9)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -EINVAL;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return 0;
}

/* One header line name[0..nl) value[0..vl) (value trimmed). */
static int header(struct http_req *r, const char *name, size_t nl, const char *v,
		  size_t vl)
{
	long x;

#define IS(s) (nl == sizeof(s) - 1 && !strncasecmp(name, s, nl))
	if (IS("Host"))
		return copy_field(r->host, sizeof(r->host), v, vl);
	if (IS("Origin"))
		return copy_field(r->origin, sizeof(r->origin), v, vl);
	if (IS("Cookie"))
		return copy_field(r->cookie, sizeof(r->cookie), v, vl);
	if (IS("Sec-WebSocket-Key"))
		return copy_field(r->ws_key, sizeof(r->ws_key), v, vl);
	if (IS("Upgrade"))
		r->upgrade_ws = has_token(v, vl, "websocket");
	else if (IS("Connection"))
		r->conn_upgrade = has_token(v, vl, "upgrade");
	else if (IS("Sec-WebSocket-Version")) {
		if (parse_number(v, vl, &x) || x > 255)
			return -EINVAL;
		r->ws_version = (int)x;
	} else if (IS("Content-Length"))
		return parse_number(v, vl, &r->content_length);
	else if (IS("Transfer-Encoding"))
		return -EINVAL; /* a chunked body is never expected: refused, not guessed
				 */
#undef IS
	return 0;
}

static int request_line(struct http_req *r, const char *s, size_t n)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *q;
	size_t ul;

	if (!sp1 || sp1 == s || (size_t)(sp1 - s) >= sizeof(r->method))
		return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
	if (!sp2 || sp1[1] != '/')
		return -EINVAL;
	if ((size_t)(s + n - (sp2 + 1)) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return -ENOTSUP;
	memcpy(r->method, s, (size_t)(sp1 - s));
	r->method[sp1 - s] = '\0';
	ul = (size_t)(sp2 - sp1 - 1);
	q = memchr(sp1 + 1, '?', ul);
	if (q) {
		int e =
		    copy_field(r->query, sizeof(r->query), q + 1, (size_t)(sp2 - q - 1));

		if (e)
			return e;
		ul = (size_t)(q - sp1 - 1);
	}
	return copy_field(r->path, sizeof(r->path), sp1 + 1, ul);
}

static size_t trim_end(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return n;
}

int http_parse(const char *buf, size_t len, struct http_req *r)
{
	size_t end = head_end(buf, len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX), at, n;
	unsigned lines = 0;
	int e;

	if (!end)
		return len >= HTTP_HEAD_MAX ? -EMSGSIZE : 0;
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	for (at = 0; at < end; at += n + 1) {
		const char *s = buf + at, *nl = memchr(s, '\n', end - at), *colon;
		size_t ln, vs;

		n = (size_t)(nl - s);
		ln = trim_end(s, n);
		if (ln == 0)
			break; /* the empty line */
		for (size_t i = 0; i < ln; i++)
			if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
				return -EINVAL;
		if (lines++ == 0) {
			e = request_line(r, s, ln);
		} else if (lines > HTTP_HEADERS_MAX + 1) {
			return -EMSGSIZE;
		} else {
			colon = memchr(s, ':', ln);
			if (!colon || colon == s || s[0] == ' ' || s[0] == '\t')
				return -EINVAL; /* no name, or an obsolete folded line */
			vs = (size_t)(colon + 1 - s);
			while (vs < ln && (s[vs] == ' ' || s[vs] == '\t'))
				vs++;
			e = header(r, s, (size_t)(colon - s), s + vs, ln - vs);
		}
		if (e)
			return e;
	}
	return lines ? (int)end : -EINVAL;
}

static int kv_get(const char *s, const char *name, char sep, char *out, size_t size)
{
	size_t nl = strlen(name);

	while (*s) {
		const char *end = strchr(s, sep), *v;
		size_t n;

		while (*s == ' ')
			s++;
		n = end ? (size_t)(end - s) : strlen(s);
		if (n > nl && !strncmp(s, name, nl) && s[nl] == '=') {
			v = s + nl + 1;
			n -= nl + 1;
			if (n >= size)
				return -ENOSPC;
			memcpy(out, v, n);
			out[n] = '\0';
			return (int)n;
		}
		if (!end)
			break;
		s = end + 1;
	}
	return -ENOENT;
}

int http_query_get(const char *query, const char *name, char *out, size_t size)
{
	return kv_get(query, name, '&', out, size);
}

int http_cookie_get(const char *cookie, const char *name, char *out, size_t size)
{
	return kv_get(cookie, name, ';', out, size);
}
