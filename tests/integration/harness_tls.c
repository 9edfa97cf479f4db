#include "harness_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ident.h"
#include "tlsctx.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *htls_key_new(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert_non_null(k);
	return k;
}

void htls_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}

/* Wait on fd for what OpenSSL asked (r: an SSL_get_error); false past until. */
static int wait_for(int fd, int e, uint64_t until)
{
	struct pollfd p = {fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
	uint64_t now = mono_ms();

	return now < until && poll(&p, 1, (int)(until - now)) > 0;
}

void *htls_connect(int fd, void *pkey, char *server_fp, int ms)
{
	uint64_t until = mono_ms() + (uint64_t)ms;
	X509 *cert = pkey ? ident_new_cert(pkey, "test box") : NULL;
	void *ctx = NULL;
	char err[200];
	SSL *ssl;
	int r;

	server_fp[0] = '\0';
	assert_true(!pkey || cert);
	assert_int_equal(tlsctx_new_keys(&ctx, pkey, cert, false, err, sizeof(err)), 0);
	X509_free(cert); /* the context holds its own reference */
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* and the SSL its */
	assert_non_null(ssl);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	assert_int_equal(SSL_set_fd(ssl, fd), 1);
	while ((r = SSL_connect(ssl)) != 1) {
		int e = SSL_get_error(ssl, r);

		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    !wait_for(fd, e, until)) {
			ERR_clear_error();
			SSL_free(ssl);
			return NULL;
		}
	}
	if (tlsctx_peer(ssl, server_fp))
		server_fp[0] = '\0';
	return ssl;
}

ssize_t htls_read(void *ssl, void *buf, size_t len)
{
	int n = SSL_read(ssl, buf, (int)len), e;

	if (n > 0)
		return n;
	e = SSL_get_error(ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	ERR_clear_error();
	return 0;
}

int htls_pending(void *ssl)
{
	return SSL_has_pending(ssl);
}

void htls_write(void *ssl, int fd, const void *buf, size_t len, size_t record)
{
	const char *p = buf;
	uint64_t until = mono_ms() + 20000;

	if (record == 0 || record > 16384)
		record = 16384;
	while (len > 0) {
		size_t k = len > record ? record : len;
		int n = SSL_write(ssl, p, (int)k), e;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		e = SSL_get_error(ssl, n);
		if ((e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) ||
		    !wait_for(fd, e, until))
			fail_msg("TLS write failed (%d): %s", e, tlsctx_error());
	}
}

void htls_key_update(void *ssl, int fd)
{
	uint64_t until = mono_ms() + 5000;
	int n;

	assert_int_equal(SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED), 1);
	while ((n = SSL_do_handshake(ssl)) !=
	       1) /* sends it now, not with the next write */
		assert_true(wait_for(fd, SSL_get_error(ssl, n), until));
	assert_int_equal(SSL_get_key_update_type(ssl), SSL_KEY_UPDATE_NONE);
}

void htls_free(void *ssl)
{
	SSL_free(ssl);
	ERR_clear_error();
}
