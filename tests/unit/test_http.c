/* The gateway's HTTP/1.1 request head parser (web/http.c): a browser's WebSocket
 * upgrade, partial heads, the bounds, malformed heads, query and cookie values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static const char upgrade[] = "GET /ws?x=1 HTTP/1.1\r\n"
			      "Host: gw.local:8443\r\n"
			      "Upgrade: websocket\r\n"
			      "Connection: keep-alive, Upgrade\r\n"
			      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			      "Origin: https://gw.local:8443\r\n"
			      "Sec-WebSocket-Version: 13\r\n"
			      "Cookie: theme=dark; icw=abc123\r\n"
			      "User-Agent: test\r\n"
			      "\r\n";

static void test_upgrade(void **state)
{
	struct http_req r;
	char v[64];

	(void)state;
	assert_int_equal(http_parse(upgrade, strlen(upgrade), &r), (int)strlen(upgrade));
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/ws");
	assert_string_equal(r.query, "x=1");
	assert_string_equal(r.host, "gw.local:8443");
	assert_string_equal(r.origin, "https://gw.local:8443");
	assert_string_equal(r.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
	assert_true(r.upgrade_ws);
	assert_true(r.conn_upgrade);
	assert_int_equal(r.ws_version, 13);
	assert_int_equal(r.content_length, -1);
	assert_int_equal(http_cookie_get(r.cookie, "icw", v, sizeof(v)), 6);
	assert_string_equal(v, "abc123");
	assert_int_equal(http_cookie_get(r.cookie, "ic", v, sizeof(v)), -ENOENT);
	assert_int_equal(http_cookie_get(r.cookie, "icw", v, 4), -ENOSPC);
	assert_int_equal(http_query_get(r.query, "x", v, sizeof(v)), 1);
}

static void test_partial_and_pipelined(void **state)
{
	char buf[sizeof(upgrade) + 32];
	struct http_req r;

	(void)state;
	/* every prefix short of the empty line: not complete yet */
	for (size_t n = 0; n < strlen(upgrade); n++)
		assert_int_equal(http_parse(upgrade, n, &r), 0);
	/* bytes after the head (a body, a WebSocket frame) are not the head's */
	snprintf(buf, sizeof(buf), "%sBODY", upgrade);
	assert_int_equal(http_parse(buf, strlen(buf), &r), (int)strlen(upgrade));
	/* bare LF line ends */
	assert_int_equal(http_parse("GET / HTTP/1.0\nHost: a\n\n", 24, &r), 24);
	assert_string_equal(r.host, "a");
	assert_string_equal(r.query, "");
}

static void test_bounds(void **state)
{
	static char big[HTTP_HEAD_MAX + 100];
	struct http_req r;
	int n;

	(void)state;
	/* no end within HTTP_HEAD_MAX */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', sizeof(big) - (size_t)n);
	assert_int_equal(http_parse(big, sizeof(big), &r), -EMSGSIZE);
	assert_int_equal(http_parse(big, HTTP_HEAD_MAX - 1, &r), 0);
	/* a kept field over its bound */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nCookie: ");
	memset(big + n, 'a', HTTP_FIELD_MAX);
	memcpy(big + n + HTTP_FIELD_MAX, "\r\n\r\n", 4);
	assert_int_equal(http_parse(big, (size_t)n + HTTP_FIELD_MAX + 4, &r), -EMSGSIZE);
	/* too many header lines */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_HEADERS_MAX; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X%d: y\r\n", i);
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	assert_int_equal(http_parse(big, (size_t)n, &r), -EMSGSIZE);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
	    "GET\r\n\r\n",
	    "GET  HTTP/1.1\r\n\r\n",
	    "GET x HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
	    "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	    "GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
	    "\r\n\r\n",
	};
	struct http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_parse(bad[i], strlen(bad[i]), &r), -EINVAL);
	assert_int_equal(http_parse("GET / HTTP/2.0\r\n\r\n", 18, &r), -ENOTSUP);
	assert_int_equal(http_parse("GET / SPDY/1.1\r\n\r\n", 18, &r), -ENOTSUP);
}

static void test_body_length(void **state)
{
	const char *h =
	    "POST /test/result?name=a.pcm HTTP/1.1\r\nContent-Length: 42\r\n\r\n";
	struct http_req r;
	char v[16];

	(void)state;
	assert_int_equal(http_parse(h, strlen(h), &r), (int)strlen(h));
	assert_string_equal(r.method, "POST");
	assert_int_equal(r.content_length, 42);
	assert_int_equal(http_query_get(r.query, "name", v, sizeof(v)), 5);
	assert_string_equal(v, "a.pcm");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upgrade),
	    cmocka_unit_test(test_partial_and_pipelined),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_body_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
