/* harness_tls.h: the test client's side of TLS 1.3 (protocol 1.1, section 3) over a
 * connected TCP socket, with the same settings as the real programs (tlsctx), and of
 * encrypted voice. Every helper asserts. */
#ifndef IC_HARNESS_TLS_H
#define IC_HARNESS_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* A fresh Ed25519 key (EVP_PKEY *), the caller's to free with htls_key_free. */
void *htls_key_new(void);
void htls_key_free(void *pkey);

/* Handshake on fd (made non-blocking) within ms, presenting pkey in a self-signed
 * certificate (NULL: no certificate). Returns the SSL * and the server's fingerprint in
 * server_fp (IDENT_FP_LEN + 1 bytes), or NULL when the handshake failed (server_fp "").
 */
void *htls_connect(int fd, void *pkey, char *server_fp, int ms);

/* Read what is there: > 0 bytes, 0 at the end (close_notify, a reset, an error), or
 * -EAGAIN (nothing decrypted yet: poll the fd, unless htls_pending). */
ssize_t htls_read(void *ssl, void *buf, size_t len);
/* True when OpenSSL holds decrypted bytes select()/poll() cannot see. */
int htls_pending(void *ssl);
/* Write all of buf as records of at most `record` bytes each (0: as large as TLS
 * allows), waiting on fd as needed. */
void htls_write(void *ssl, int fd, const void *buf, size_t len, size_t record);
/* Ask the server for a KeyUpdate both ways (it must answer with its own). */
void htls_key_update(void *ssl, int fd);
void htls_free(void *ssl);

/* A stand-in for the server (another machine on its address, or a TLS proxy): a child
 * process that takes one connection on 127.0.0.1:*port (a free port, chosen here),
 * makes the TLS handshake with a key and certificate of its own, and counts the bytes
 * of application data that arrive until the peer closes or ms pass; that count (an int;
 * -1 when no handshake completed) is written to *result_fd. Returns the child's pid. */
pid_t htls_stand_in(unsigned *port, int *result_fd, int ms);

#endif
