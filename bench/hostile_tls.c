/* hostile_tls.c: the login churner over TLS (hostile.h); apart from hostile.c because
 * it needs OpenSSL (ic_benchtls). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile.h"
#include "tlsctx.h"
#include "vclient.h"

/* Read what ssl has into in (from *len on) within ms; false at the end or on silence. */
static bool tls_read_some(SSL *ssl, int fd, char *in, size_t *len, size_t size, int ms)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int n = SSL_read(ssl, in + *len, (int)(size - 1 - *len)), e;

		if (n > 0) {
			*len += (size_t)n;
			in[*len] = '\0';
			return true;
		}
		e = SSL_get_error(ssl, n);
		if (e != SSL_ERROR_WANT_READ || poll(&p, 1, ms) <= 0)
			return false;
	}
}

/* One handshake, login and out on a fresh connection from `from` with the churner's
 * one identity. Returns true when complete. */
static bool churn_once(void *ctx, void *key, void *cert, unsigned port, const char *from)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)},
			   b = {.sin_family = AF_INET};
	static const char login[] = "CONNECT: \"Churn\" \"\" 1.1.0\n";
	char in[8192], line[128], *ping, *nl;
	size_t len = 0;
	bool done = false;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	SSL *ssl = NULL;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, from, &b.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&b, sizeof(b)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	/* each line its own segment at once, as a box sends it (no 40 ms Nagle wait for
	 * the ACK of the handshake's last flight) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	ssl = vcli_tls_handshake(ctx, fd, key, cert);
	if (!ssl || vcli_tls_write(ssl, fd, login, sizeof(login) - 1))
		goto out;
	while (!(ping = strstr(in, "PING: ")) || !(nl = strchr(ping, '\n'))) {
		if (!tls_read_some(ssl, fd, in, &len, sizeof(in), 2000))
			goto out;
		if (len > sizeof(in) / 2 && !strstr(in, "PING: "))
			len = 0; /* lists only: nothing to keep */
	}
	*nl = '\0';
	snprintf(line, sizeof(line), "PONG: %s\nDISCONNECT\n", ping + 6);
	done = !vcli_tls_write(ssl, fd, line, strlen(line));
	len = 0;
	while (done && tls_read_some(ssl, fd, in, &len, sizeof(in), 2000)) /* the close */
		len = 0;
out:
	SSL_free(ssl);
	ERR_clear_error();
	if (fd >= 0)
		close(fd);
	return done;
}

unsigned hostile_churn_tls(unsigned port, const char *from, uint64_t ms)
{
	uint64_t until = hostile_ms() + ms;
	void *ctx = vcli_tls_ctx(), *key = NULL, *cert = NULL;
	unsigned cycles = 0;

	if (!ctx || vcli_identity(&key, &cert, "churn"))
		return 0;
	while (hostile_ms() < until && churn_once(ctx, key, cert, port, from))
		cycles++;
	vcli_identity_free(key, cert);
	tlsctx_free(ctx);
	return cycles;
}
