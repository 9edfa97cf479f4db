#include "harness_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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

/* The stand-in's side: one connection, one handshake, then count what arrives. */
static int stand_in_serve(int lfd, int ms)
{
	struct pollfd p = {lfd, POLLIN, 0};
	EVP_PKEY *key = htls_key_new();
	X509 *cert = ident_new_cert(key, "not the server");
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	void *ctx = NULL;
	char err[256], buf[4096];
	int fd, got = 0, r;
	SSL *ssl;

	if (poll(&p, 1, 10000) != 1 || (fd = accept(lfd, NULL, NULL)) < 0 ||
	    tlsctx_new_keys(&ctx, key, cert, true, err, sizeof(err)))
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		return -1;
	while ((r = SSL_read(ssl, buf, sizeof(buf))) > 0)
		got += r;
	return got;
}

pid_t htls_stand_in(unsigned *port, int *result_fd, int ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), pfd[2];
	pid_t pid;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int got = stand_in_serve(lfd, ms);

		(void)!write(pfd[1], &got, sizeof(got));
		_exit(0);
	}
	close(lfd);
	close(pfd[1]);
	*result_fd = pfd[0];
	return pid;
}
