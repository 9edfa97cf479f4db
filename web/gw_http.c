/* The gateway's HTTP requests (docs/WEB.md): the page, enrollment, the WebSocket
 * upgrade and the test sink on the https port; the CA's landing page on the http one. */
#include "gw_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "log.h"
#include "page.h"
#include "users.h"

static const char *status_text(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 303:
		return "See Other";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

int gw_respond(struct conn *c, int status, const char *type, const char *extra,
	       const void *body, size_t len)
{
	char head[1024];
	int n =
	    snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
		     "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n%s\r\n",
		     status, status_text(status), type, len, extra);

	if (n < 0 || (size_t)n >= sizeof(head) || gw_send(c, head, (size_t)n))
		return -ENOTCONN;
	return len ? gw_send(c, body, len) : 0;
}

static int page_text(struct conn *c, int status, const char *title, const char *text)
{
	char body[2048];
	int n =
	    snprintf(body, sizeof(body),
		     "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width\">"
		     "<title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>\n",
		     title, title, text);

	return gw_respond(c, status, "text/html; charset=utf-8", "", body, (size_t)n);
}

static const char *type_of(const char *name)
{
	static const char *const types[][2] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".json", "application/json"},
	    {".wav", "audio/wav"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

static int serve_page(struct conn *c, const char *path)
{
	const char *name = strcmp(path, "/") ? path + 1 : "index.html";

	for (size_t i = 0; i < page_nfiles; i++)
		if (!strcmp(page_files[i].name, name))
			return gw_respond(c, 200, type_of(name), "", page_files[i].data,
					  page_files[i].len);
	return page_text(c, 404, "Not found", "Nothing here.");
}

static int enroll(struct conn *c, const struct http_req *r)
{
	char token[USERS_SECRET_HEX + 2], secret[USERS_SECRET_HEX + 1],
	    name[IC_NICK_MAX + 1];
	char err[300], cookie[300];
	int e = -EACCES;

	if (http_query_get(r->query, "t", token, sizeof(token)) == USERS_SECRET_HEX)
		e = users_enroll(c->gw->cfg->state_dir, token, secret, name, err,
				 sizeof(err));
	explicit_bzero(token, sizeof(token));
	if (e) {
		if (e != -EACCES)
			log_err("%s", err);
		log_info("%s: enrollment refused (an unknown, used or forged link)",
			 c->peer);
		return page_text(
		    c, 403, "Enrollment refused",
		    "This enrollment link is unknown, was used already, or was "
		    "changed. Ask for a new one: intercom-web --add-user NAME.");
	}
	log_info("%s: user %s enrolled this browser", c->peer, name);
	snprintf(cookie, sizeof(cookie),
		 "Set-Cookie: icw=%s; HttpOnly; Secure; SameSite=Strict; Path=/; "
		 "Max-Age=315360000\r\nLocation: /\r\n",
		 secret);
	e = gw_respond(c, 303, "text/plain", cookie, "", 0);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(cookie, sizeof(cookie));
	return e;
}

/* The user whose cookie the request carries, or -EACCES. */
static int cookie_user(struct conn *c, const struct http_req *r, char *name)
{
	char secret[USERS_SECRET_HEX + 2], err[300];
	struct users *u;
	int e;

	if (http_cookie_get(r->cookie, "icw", secret, sizeof(secret)) != USERS_SECRET_HEX)
		return -EACCES;
	e = users_load(&u, c->gw->cfg->state_dir, err, sizeof(err));
	if (e)
		log_err("%s", err);
	else
		e = users_check(u, secret, name);
	users_free(u);
	/* kept while the WebSocket lives: a user removed or enrolled again is dropped */
	if (!e)
		memcpy(c->secret, secret, sizeof(c->secret));
	explicit_bzero(secret, sizeof(secret));
	return e ? -EACCES : 0;
}

/* GET /whoami: a page whose WebSocket never opened asks whether its browser is enrolled
 * (200 and the nick) or not (403), so it can tell that from a gateway that is down: a
 * refused upgrade shows a page only a close. The nick is no secret, and another site's
 * page gets no cookie (SameSite=Strict) and cannot read the answer (no CORS header). */
static int whoami(struct conn *c, const struct http_req *r)
{
	char name[IC_NICK_MAX + 1], head[IC_NICK_MAX + 32];
	int e = cookie_user(c, r, name);

	explicit_bzero(c->secret, sizeof(c->secret)); /* kept only for a WebSocket */
	if (e)
		return gw_respond(c, 403, "text/plain; charset=utf-8", "",
				  "not enrolled\n", 13);
	snprintf(head, sizeof(head), "X-Intercom-User: %s\r\n", name);
	return gw_respond(c, 200, "text/plain; charset=utf-8", head, name, strlen(name));
}

static int upgrade(struct conn *c, const struct http_req *r)
{
	char origin[HTTP_FIELD_MAX + 16], name[IC_NICK_MAX + 1];

	if (!r->upgrade_ws || !r->conn_upgrade || r->ws_version != 13)
		return gw_respond(c, 426, "text/plain", "Sec-WebSocket-Version: 13\r\n",
				  "a WebSocket upgrade (version 13) only\n", 38);
	/* a page of another site must not reach in with the browser's cookie */
	snprintf(origin, sizeof(origin), "https://%s", r->host);
	if (!r->host[0] || strcmp(origin, r->origin)) {
		log_info("%s: WebSocket refused: Origin '%s' is not this gateway's",
			 c->peer, r->origin);
		return page_text(c, 403, "Refused", "Not from this gateway's page.");
	}
	if (cookie_user(c, r, name)) {
		log_info("%s: WebSocket refused: no valid enrollment cookie", c->peer);
		return page_text(c, 403, "Not enrolled",
				 "Open your enrollment link first.");
	}
	return gw_ws_open(c, r, name);
}

/* POST /test/result?name=NAME: only with --test-sink DIR (tests; docs/WEB.md). */
static int test_result(struct conn *c, const struct http_req *r)
{
	char name[80];
	int n = http_query_get(r->query, "name", name, sizeof(name));

	if (n < 1 || n > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != (size_t)n ||
	    name[0] == '.')
		return page_text(c, 400, "Bad name", "name: [a-z0-9_.-]{1,64}");
	if (r->content_length < 0 || r->content_length > WEB_BODY_MAX)
		return page_text(c, 413, "Too large",
				 "At most 4 MiB, with Content-Length.");
	snprintf(c->body_path, sizeof(c->body_path), "%s/%s", c->gw->cfg->test_sink,
		 name);
	c->body = fopen(c->body_path, "we");
	if (!c->body)
		return page_text(c, 500, "Cannot write",
				 "The test sink is not writable.");
	c->body_left = r->content_length;
	c->st = C_BODY;
	if (!c->body_left)
		gw_body(c, NULL, 0);
	return 0;
}

void gw_body(struct conn *c, const uint8_t *p, size_t len)
{
	if (len && fwrite(p, 1, len, c->body) != len)
		c->body_left = -1;
	c->body_left -= c->body_left < 0 ? 0 : (long)len;
	if (c->body_left > 0)
		return;
	if (fclose(c->body) || c->body_left < 0) {
		unlink(c->body_path);
		page_text(c, 500, "Cannot write", "The test sink failed.");
	} else {
		gw_respond(c, 200, "text/plain", "", "ok\n", 3);
	}
	c->body = NULL;
	c->body_left = 0;
	c->st = C_HTTP;
}

/* The plain-http port: the CA, how to install it, and the way to the https page. */
static int landing(struct conn *c, const struct http_req *r)
{
	const struct ca *ca = c->gw->ca;
	char body[4096], host[HTTP_FIELD_MAX];
	int n;

	if (!strcmp(r->path, "/ca.crt"))
		return gw_respond(
		    c, 200, "application/x-x509-ca-cert",
		    "Content-Disposition: attachment; filename=\"intercom-ca.crt\"\r\n",
		    ca_pem(ca), strlen(ca_pem(ca)));
	if (strcmp(r->path, "/"))
		return page_text(c, 404, "Not found", "Only / and /ca.crt are here.");
	snprintf(host, sizeof(host), "%s", r->host[0] ? r->host : "localhost");
	if (host[0] != '[' && strchr(host, ':'))
		*strchr(host, ':') = '\0';
	else if (host[0] == '[' && strchr(host, ']'))
		strchr(host, ']')[1] = '\0';
	n = snprintf(
	    body, sizeof(body),
	    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>intercom: install the certificate</title></head><body>"
	    "<h1>intercom</h1><p>The intercom page is at <a href=\"https://%s:%u/\">"
	    "https://%s:%u/</a>. So that your phone trusts it, install this "
	    "gateway's certificate authority once: <a href=\"/ca.crt\">ca.crt</a>."
	    "</p><p>Its SHA-256 fingerprint: <code>%s</code> (compare it with what "
	    "<code>intercom-web --ca-fingerprint</code> prints on the gateway).</p>"
	    "<h2>Android</h2><p>Download ca.crt, then Settings &rarr; Security &rarr; "
	    "Encryption &amp; credentials &rarr; Install a certificate &rarr; CA "
	    "certificate, and pick the file.</p><h2>iPhone and iPad</h2><p>Open "
	    "ca.crt in Safari and allow the profile; install it under Settings "
	    "&rarr; General &rarr; VPN &amp; Device Management; then turn it on "
	    "under General &rarr; About &rarr; Certificate Trust Settings.</p>"
	    "<p>Then open your enrollment link.</p></body></html>\n",
	    host, c->gw->port, host, c->gw->port, ca_fingerprint(ca));
	return gw_respond(c, 200, "text/html; charset=utf-8", "", body, (size_t)n);
}

int gw_request(struct conn *c, const struct http_req *r)
{
	bool get = !strcmp(r->method, "GET");
	int e;

	if (c->landing)
		e = get ? landing(c, r) : page_text(c, 405, "Not allowed", "GET only.");
	else if (!strcmp(r->path, "/test/result") && c->gw->cfg->test_sink[0] &&
		 !strcmp(r->method, "POST"))
		e = test_result(c, r);
	else if (r->content_length > 0)
		e = page_text(c, 413, "Not here", "No request body is taken here.");
	else if (!get)
		e = page_text(c, 405, "Not allowed", "GET only.");
	else if (!strcmp(r->path, "/enroll"))
		e = enroll(c, r);
	else if (!strcmp(r->path, "/ws"))
		e = upgrade(c, r);
	else if (!strcmp(r->path, "/whoami"))
		e = whoami(c, r);
	else
		e = serve_page(c, r->path);
	if (r->content_length > 0 && c->st != C_BODY)
		gw_close_after(
		    c); /* a body we do not read would be taken for a request */
	return c->st == C_CLOSING ? -ECONNRESET : e < 0 ? -ECONNRESET : 0;
}
