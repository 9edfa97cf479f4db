/* wsclient.h: a small blocking WebSocket client for the gateway's tests and benches:
 * TLS (any certificate: the tests check the gateway, not their own trust), HTTP/1.1
 * requests, and frames through web/ws.c (masked, as a browser sends them). Every wait
 * is bounded by the caller's milliseconds. */
#ifndef IC_WSCLIENT_H
#define IC_WSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long wsc_get and wsc_open wait for a response (5000; more under valgrind). */
extern int wsc_timeout_ms;

struct wsc {
	int fd;
	void *ssl, *ctx;
	uint8_t in[1 << 17];
	size_t in_len;
	uint8_t msg[1 << 16]; /* the last frame's payload, NUL-ended */
	size_t msg_len;
	uint16_t close_code; /* of a close frame received */
};

/* A TCP connection to 127.0.0.1:port from the address from (NULL: the kernel's
 * choice; 127.0.0.2 and up are other hosts as the gateway sees them). Its fd, or -1. */
int wsc_tcp_from(unsigned port, const char *from);
/* Connect to 127.0.0.1:port over TLS. Returns 0 or -1. */
int wsc_connect(struct wsc *w, unsigned port);
/* The same, offering TLS versions up to max_version (TLS1_2_VERSION: an older Safari's
 * choice; 0: any). */
int wsc_connect_max(struct wsc *w, unsigned port, int max_version);
/* Connect in the clear (the landing port). */
int wsc_connect_plain(struct wsc *w, unsigned port);
void wsc_close(struct wsc *w);
/* Close the TCP connection at once, without a close frame or close_notify: a phone
 * that left the Wi-Fi. */
void wsc_vanish(struct wsc *w);

/* Send req (a whole request head, and a body) and read the response head into out
 * (size bytes); returns its status code, or -1. Any body that follows stays in w->in. */
int wsc_request(struct wsc *w, const char *req, char *out, size_t size, int ms);
/* A GET of path on a fresh connection; returns the status; head into out. */
int wsc_get(unsigned port, bool tls, const char *path, const char *cookie, char *out,
	    size_t size);

/* Connect and upgrade /ws with cookie ("" for none) and origin (NULL: the gateway's
 * own, https://127.0.0.1:port). Returns the status (101 on success, the socket then
 * open for frames), or -1. */
int wsc_open(struct wsc *w, unsigned port, const char *cookie, const char *origin);

int wsc_send(struct wsc *w, uint8_t op, const void *p, size_t len);
int wsc_text(struct wsc *w, const char *line);
/* Next frame within ms: its opcode (payload in w->msg), or -1 (none; or closed: -2).
 * Pings are answered and skipped unless keep_pings. */
int wsc_recv(struct wsc *w, int ms);
/* Skip frames until a text frame starting with prefix; returns w->msg or NULL. */
const char *wsc_expect_prefix(struct wsc *w, const char *prefix, int ms);
/* True when the connection is closed (a close frame or EOF) within ms. */
bool wsc_closed(struct wsc *w, int ms);

#endif
