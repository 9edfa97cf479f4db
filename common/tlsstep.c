/* tlsstep.c: the TLS steps of one connection; see tlsstep.h. */
#include "tlsstep.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ic_limits.h"
#include "tlsctx.h"

#define RECORD_ALERT	 0x15
#define RECORD_HANDSHAKE 0x16
#define RECORD_MAX	 16384 /* plaintext bytes in one record */
#define READ_CHUNK	 4096  /* bytes asked of one SSL_read */
#define PEEK_MAX	 24    /* of a plaintext answer, shown in the log */

/* Up to len of the peer's first bytes, not consumed: only before OpenSSL has read any
 * (later bytes are records or garbage inside a TLS stream, never an answer in the
 * clear). Returns how many; 0 when none has arrived yet or the BIO cannot be looked
 * into. */
static size_t peek_first(SSL *ssl, unsigned char *buf, size_t len)
{
	BIO *b = SSL_get_rbio(ssl);
	ssize_t n = 0;

	if (!b || BIO_number_read(b) > 0)
		return 0;
	if (BIO_method_type(b) == BIO_TYPE_SOCKET) {
		n = recv((int)BIO_get_fd(b, NULL), buf, len, MSG_PEEK | MSG_DONTWAIT);
	} else if (BIO_method_type(b) == BIO_TYPE_BIO) {
		char *p = NULL;

		n = BIO_nread0(b, &p);
		if (n > 0 && (size_t)n > len)
			n = (ssize_t)len;
		if (n > 0)
			memcpy(buf, p, (size_t)n);
	}
	return n > 0 ? (size_t)n : 0;
}

/* A first byte that cannot start the peer's first record: an answer in the clear. */
static bool plaintext(SSL *ssl, struct tlsstep_why *why)
{
	unsigned char b[PEEK_MAX];
	char shown[PEEK_MAX + 1];
	size_t n = peek_first(ssl, b, sizeof(b)), k = 0;

	if (!n || b[0] == RECORD_HANDSHAKE || b[0] == RECORD_ALERT)
		return false;
	for (size_t i = 0; i < n && b[i] != '\n' && b[i] != '\r'; i++)
		shown[k++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
	shown[k] = '\0';
	why->end = TLSSTEP_PLAINTEXT;
	snprintf(why->text, sizeof(why->text),
		 "the peer answered in plaintext, not TLS (\"%s\")", shown);
	return true;
}

/* What a failed call (r, with err the errno right after it) means: the socket to wait
 * for, or the end of the connection, classified in why. */
static enum tlsstep_io outcome(SSL *ssl, int r, int err, bool handshake,
			       struct tlsstep_why *why)
{
	int e = SSL_get_error(ssl, r);
	unsigned long code = ERR_peek_last_error();

	if (e == SSL_ERROR_WANT_READ)
		return TLSSTEP_WANT_READ;
	if (e == SSL_ERROR_WANT_WRITE)
		return TLSSTEP_WANT_WRITE;
	why->err = 0;
	if (e == SSL_ERROR_ZERO_RETURN) {
		why->end = TLSSTEP_CLOSED;
	} else if (e == SSL_ERROR_SYSCALL && !code && err) {
		why->end = TLSSTEP_SOCKET;
		why->err = err;
	} else if (e == SSL_ERROR_SYSCALL ||
		   ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		why->end = TLSSTEP_EOF;
	} else {
		why->end = TLSSTEP_PROTOCOL;
	}
	/* a server at its handshake limit, or one that blocked this address, closes
	 * before reading the hello: the kernel then resets the connection */
	if (handshake && (why->end == TLSSTEP_CLOSED || why->end == TLSSTEP_EOF ||
			  (why->end == TLSSTEP_SOCKET &&
			   (why->err == ECONNRESET || why->err == EPIPE))))
		why->end = TLSSTEP_HANDSHAKE_CLOSED;
	switch (why->end) {
	case TLSSTEP_CLOSED:
		snprintf(why->text, sizeof(why->text), "closed by the peer");
		break;
	case TLSSTEP_EOF:
		snprintf(why->text, sizeof(why->text),
			 "closed by the peer without close_notify");
		break;
	case TLSSTEP_HANDSHAKE_CLOSED:
		snprintf(why->text, sizeof(why->text),
			 "closed by the peer during the TLS handshake");
		break;
	case TLSSTEP_SOCKET:
		snprintf(why->text, sizeof(why->text), "%s", strerror(err));
		break;
	default:
		snprintf(why->text, sizeof(why->text), "TLS protocol error: %s",
			 tlsctx_error());
		break;
	}
	ERR_clear_error();
	return TLSSTEP_FAILED;
}

enum tlsstep_io tlsstep_handshake(void *ssl, struct tlsstep_why *why)
{
	int r;

	if (plaintext(ssl, why))
		return TLSSTEP_FAILED;
	errno = 0;
	r = SSL_do_handshake(ssl);
	if (r == 1)
		return TLSSTEP_DONE;
	return outcome(ssl, r, errno, true, why);
}

enum tlsstep_io tlsstep_read(void *ssl, tlsstep_sink sink, void *arg,
			     struct tlsstep_why *why)
{
	BIO *rb = SSL_get_rbio(ssl);

	for (int i = 0; i < IC_TLS_READS_PER_PASS; i++) {
		char buf[READ_CHUNK];
		uint64_t before = BIO_number_read(rb);
		enum tlsstep_io io;
		int n;

		errno = 0;
		n = SSL_read(ssl, buf, sizeof(buf));
		if (n > 0) {
			if (sink(arg, buf, (size_t)n))
				return TLSSTEP_DONE;
			continue;
		}
		io = outcome(ssl, n, errno, false, why);
		/* without auto-retry, a record OpenSSL consumed itself (a KeyUpdate, an
		 * empty record, an alert) ends the call as if the socket were empty:
		 * bytes taken from it mean more may follow, and the call counted */
		if (io == TLSSTEP_WANT_READ && BIO_number_read(rb) != before)
			continue;
		return io;
	}
	return TLSSTEP_DONE;
}

enum tlsstep_io tlsstep_write(void *ssl, const void *buf, size_t len, size_t *wrote,
			      struct tlsstep_why *why)
{
	int n;

	errno = 0;
	n = SSL_write(ssl, buf, (int)(len > RECORD_MAX ? RECORD_MAX : len));
	if (n > 0) {
		*wrote = (size_t)n;
		return TLSSTEP_DONE;
	}
	*wrote = 0;
	return outcome(ssl, n, errno, false, why);
}
