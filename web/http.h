/* http.h: a bounded HTTP/1.1 request head parser for the gateway: the request line and
 * the few headers the gateway acts on (Host, Origin, Cookie, Upgrade, Connection,
 * Sec-WebSocket-Key/-Version, Content-Length). Pure functions over a buffer. */
#ifndef IC_HTTP_H
#define IC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX	 8192 /* a request head: a browser's is under 2 KiB */
#define HTTP_HEADERS_MAX 64   /* header lines in one head */
#define HTTP_PATH_MAX	 256
#define HTTP_QUERY_MAX	 256
#define HTTP_FIELD_MAX	 512 /* Host, Origin, Cookie values kept (longer: refused) */

struct http_req {
	char method[8];
	char path[HTTP_PATH_MAX];
	char query[HTTP_QUERY_MAX]; /* after '?', "" when none */
	char host[HTTP_FIELD_MAX];
	char origin[HTTP_FIELD_MAX];
	char cookie[HTTP_FIELD_MAX];
	char ws_key[32];
	bool upgrade_ws;     /* Upgrade: websocket */
	bool conn_upgrade;   /* Connection: names upgrade */
	int ws_version;	     /* Sec-WebSocket-Version, 0 when absent */
	long content_length; /* -1 when absent */
};

/* Parse the head at buf[0..len) (ends with an empty line, CRLF or LF). Returns its
 * length (> 0) with r filled, 0 when the head is not complete yet (and len <
 * HTTP_HEAD_MAX), -EMSGSIZE (no end within HTTP_HEAD_MAX, or a kept field too long:
 * answer 431), -EINVAL (malformed: answer 400), -ENOTSUP (not HTTP/1.0 or 1.1: 505). */
int http_parse(const char *buf, size_t len, struct http_req *r);

/* The value of name in a query string ("a=1&b=2") into out (size bytes, NUL-ended).
 * Returns its length, -ENOENT (absent) or -ENOSPC (longer than size - 1). No
 * percent-decoding: the gateway's values are hex and names of a safe set. */
int http_query_get(const char *query, const char *name, char *out, size_t size);

/* The same for a cookie in a Cookie header ("a=1; b=2"). */
int http_cookie_get(const char *cookie, const char *name, char *out, size_t size);

#endif
