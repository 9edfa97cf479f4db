/* tlsstep.h: the non-blocking TLS steps both ends take on one connection (protocol 1.1,
 * section 3): a handshake step, a bounded read pass, one record written. The server's
 * transport (server/conn.c) and the box's (firmware/net.c) drive their sockets through
 * these alone, and fuzz_tls drives them over a memory BIO pair in both roles, so one
 * design serves both ends. Each step works on any SSL * (a socket's or a BIO pair's),
 * says which way the socket must turn before the next try, and, when the connection
 * ends, why, in words a log can carry. OpenSSL 3's libssl. */
#ifndef IC_TLSSTEP_H
#define IC_TLSSTEP_H

#include <stdbool.h>
#include <stddef.h>

enum tlsstep_io {
	TLSSTEP_DONE,	    /* complete; for a read pass: its budget is used up */
	TLSSTEP_WANT_READ,  /* waits for the socket to be readable */
	TLSSTEP_WANT_WRITE, /* waits for it to be writable */
	TLSSTEP_FAILED,	    /* the connection ends: the tlsstep_why says how */
};

enum tlsstep_end {
	TLSSTEP_NONE,
	TLSSTEP_CLOSED,		  /* the peer's close_notify */
	TLSSTEP_EOF,		  /* the peer closed without close_notify */
	TLSSTEP_HANDSHAKE_CLOSED, /* closed or reset before the handshake completed */
	TLSSTEP_PLAINTEXT,	  /* the peer's first bytes are not a TLS record */
	TLSSTEP_PROTOCOL,	  /* OpenSSL refused what came (detail: its text) */
	TLSSTEP_SOCKET,		  /* the socket failed (err) */
};

/* Why a step failed: what, and a phrase for a log line that says it ("closed by the
 * peer without close_notify", "TLS protocol error: <OpenSSL's text>", "the peer answered
 * in plaintext (\"ERROR ...\")": its first bytes, made printable). */
struct tlsstep_why {
	enum tlsstep_end end;
	int err; /* the errno, for TLSSTEP_SOCKET and a reset in the handshake */
	char text[200];
};

/* One handshake step on ssl (SSL *, its role already set). Before the peer's first byte
 * is taken, it is looked at without being consumed (a socket's MSG_PEEK, a BIO pair's
 * buffer): a first byte that cannot start a TLS record (handshake or alert) fails with
 * TLSSTEP_PLAINTEXT, so only a peer that really answered in plaintext is told apart
 * from one that closed (TLSSTEP_HANDSHAKE_CLOSED). DONE: the handshake is complete. */
enum tlsstep_io tlsstep_handshake(void *ssl, struct tlsstep_why *why);

/* Where a read pass hands the application data: 0 to go on, nonzero to end the pass at
 * once (the handler closed the connection: ssl is not touched again). */
typedef int (*tlsstep_sink)(void *arg, const char *buf, size_t len);

/* A read pass: at most IC_TLS_READS_PER_PASS SSL_read calls, each counted whether it
 * yields application data or only a record OpenSSL consumed itself (a KeyUpdate, another
 * post-handshake message, empty records, an alert), so a peer's flood of such records
 * costs one pass a bounded amount of work. The data goes to sink. DONE: the budget is
 * used up or the sink stopped the pass; bytes may wait inside OpenSSL (SSL_has_pending,
 * which select() cannot see) or in the socket: the caller comes back on its next loop
 * pass. WANT_READ: everything that had arrived was read. WANT_WRITE: OpenSSL's answer to
 * the peer (a KeyUpdate's) waits for the socket to drain: come back when it is writable.
 * FAILED: the connection ends (why). Needs SSL_MODE_AUTO_RETRY cleared (tlsctx does):
 * with it, one SSL_read consumes such records for as long as they come. */
enum tlsstep_io tlsstep_read(void *ssl, tlsstep_sink sink, void *arg,
			     struct tlsstep_why *why);

/* One record of at most 16 KiB from buf. DONE: *wrote bytes taken (> 0). WANT_*: retry
 * with at least as many bytes when the socket allows (OpenSSL requires it; one record at
 * a time keeps a retry from ever asking for less). FAILED: the connection ends (why). */
enum tlsstep_io tlsstep_write(void *ssl, const void *buf, size_t len, size_t *wrote,
			      struct tlsstep_why *why);

#endif
