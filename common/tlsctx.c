#include "tlsctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#define SUITES_AES    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
#define SUITES_CHACHA "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
#define GROUPS	      "X25519:P-256"

bool tlsctx_cpu_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_cpu_supports("aes");
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
#else
	return false;
#endif
}

/* Every certificate passes here: the key is the identity, checked once the handshake is
 * done (the client against its pin, the server against its registry); dates, names and
 * issuers mean nothing between self-signed boxes. */
static int any_cert(int ok, X509_STORE_CTX *x)
{
	(void)ok, (void)x;
	return 1;
}

int tlsctx_new(void **ctxp, const struct ident *id, bool server, char *err, size_t errlen)
{
	return tlsctx_new_keys(ctxp, ident_pkey(id), ident_cert(id), server, err, errlen);
}

int tlsctx_new_keys(void **ctxp, void *pkey, void *cert, bool server, char *err,
		    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	const char *suites = server || tlsctx_cpu_aes() ? SUITES_AES : SUITES_CHACHA;
	/* a peer that closes without close_notify fails the read with OpenSSL's
	 * "unexpected eof", which tlsstep tells apart from a clean close for the log;
	 * either just ends the connection: lines are whole or not at all, so a
	 * truncation tells an attacker nothing */
	uint64_t opts = SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION;

	*ctxp = NULL;
	if (!ctx) {
		snprintf(err, errlen, "TLS: %s", tlsctx_error());
		return -ENOMEM;
	}
	if (server) /* AES-GCM unless the client put ChaCha20 first (no AES in it) */
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA;
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_max_early_data(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	/* one SSL_read consumes at most one record it handles itself (a KeyUpdate, an
	 * alert, ...) and returns: with auto-retry, it would answer a peer's flood of
	 * KeyUpdates for as long as they come and hold the loop (tlsstep_read counts
	 * each call toward its pass) */
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, any_cert);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, suites) ||
	    !SSL_CTX_set1_groups_list(ctx, GROUPS) ||
	    (cert &&
	     (!SSL_CTX_use_certificate(ctx, cert) || !SSL_CTX_use_PrivateKey(ctx, pkey) ||
	      !SSL_CTX_check_private_key(ctx)))) {
		snprintf(err, errlen, "TLS settings refused: %s", tlsctx_error());
		SSL_CTX_free(ctx);
		return -EIO;
	}
	*ctxp = ctx;
	return 0;
}

void tlsctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

int tlsctx_peer(void *ssl, char *fp)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	EVP_PKEY *k;

	if (!cert)
		return -ENOENT;
	k = X509_get0_pubkey(cert);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519)
		return -EINVAL;
	return ident_fingerprint_of(k, fp);
}

const char *tlsctx_error(void)
{
	static char buf[160];
	unsigned long e = ERR_peek_last_error();

	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}
