/* tlsctx.h: the TLS settings of protocol 1.1 (section 3), one place for both ends:
 * TLS 1.3 only, the suites TLS_AES_128_GCM_SHA256 and TLS_CHACHA20_POLY1305_SHA256, the
 * groups X25519 and P-256, no session tickets and no early data (every connection a full
 * handshake with its certificate), this end's identity as its certificate. Peers are
 * judged by their key alone: any certificate is taken during the handshake, and the
 * caller checks the key afterwards (tlsctx_peer). OpenSSL 3's libssl. */
#ifndef IC_TLSCTX_H
#define IC_TLSCTX_H

#include <stdbool.h>
#include <stddef.h>

#include "ident.h"

/* A context (SSL_CTX *, the caller's to free with tlsctx_free) presenting id.
 * server: it asks for a client certificate without requiring one, and prefers
 * AES-128-GCM unless the client's first choice is ChaCha20. A client offers ChaCha20
 * first when the CPU has no AES instructions (a Raspberry Pi 3 or 4).
 * Returns 0, or -ENOMEM / -EIO with what failed in err. */
int tlsctx_new(void **ctxp, const struct ident *id, bool server, char *err,
	       size_t errlen);
/* The same for a key and certificate of the caller's (EVP_PKEY *, X509 *; referenced,
 * not taken), or none at all (both NULL: a client without an identity). */
int tlsctx_new_keys(void **ctxp, void *pkey, void *cert, bool server, char *err,
		    size_t errlen);
void tlsctx_free(void *ctx);

/* The peer's identity after a handshake (ssl: SSL *): its key's fingerprint into fp
 * (IDENT_FP_LEN + 1 bytes). Returns 0, -ENOENT (no certificate) or -EINVAL (its key
 * is not Ed25519). */
int tlsctx_peer(void *ssl, char *fp);

/* The last OpenSSL error as text for a log line (a static buffer; "" when none), and
 * the queue cleared: one failed connection's errors never reach the next's. */
const char *tlsctx_error(void);

/* True when this CPU has AES instructions (x86 AES-NI, the ARMv8 crypto extension). */
bool tlsctx_cpu_aes(void);

#endif
