/* tlsforge.c: sealing TLS 1.3 records by hand (RFC 8446 sections 5.2, 5.3, 7.1, 7.3);
 * see tlsforge.h. */
#include "tlsforge.h"

#include <errno.h>
#include <stdbool.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "tlsctx.h"

#define SECRET_LEN 32 /* SHA-256 */
#define KEY_LEN	   16 /* AES-128 */
#define IV_LEN	   12
#define TAG_LEN	   16

struct tlsforge {
	uint8_t secret[SECRET_LEN], key[KEY_LEN], iv[IV_LEN];
	uint64_t seq;
	EVP_CIPHER_CTX *c;
};

/* The traffic secret of one connection, kept in its ex_data. */
struct secret {
	uint8_t b[SECRET_LEN];
	bool set;
};

static int ex_index = -1;

static void secret_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* NSS key log lines: "LABEL <client random> <secret>"; the first application traffic
 * secret of the direction this end writes. */
static void keylog(const SSL *ssl, const char *line)
{
	const char *want =
	    SSL_is_server(ssl) ? "SERVER_TRAFFIC_SECRET_0 " : "CLIENT_TRAFFIC_SECRET_0 ";
	const char *hex;
	struct secret *s;

	if (strncmp(line, want, strlen(want)) ||
	    !(hex = strchr(line + strlen(want), ' ')))
		return;
	hex++;
	if (strlen(hex) != 2 * SECRET_LEN || !(s = calloc(1, sizeof(*s))))
		return;
	for (int i = 0; i < SECRET_LEN; i++)
		s->b[i] = (uint8_t)(unhex(hex[2 * i]) << 4 | unhex(hex[2 * i + 1]));
	s->set = true;
	free(SSL_get_ex_data(ssl, ex_index));
	SSL_set_ex_data((SSL *)ssl, ex_index, s);
}

int tlsforge_ctx(void *ctx)
{
	if (ex_index < 0)
		ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, secret_free);
	if (ex_index < 0 || !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"))
		return -ENOMEM;
	SSL_CTX_set_keylog_callback(ctx, keylog);
	return 0;
}

/* HKDF-Expand-Label(secret, label, "", len) (RFC 8446 section 7.1). */
static int expand_label(const uint8_t *secret, const char *label, uint8_t *out,
			size_t len)
{
	uint8_t info[64];
	size_t ll = strlen("tls13 ") + strlen(label), n = 0;
	static EVP_KDF *kdf; /* fetched once: a flood derives keys for every record */
	EVP_KDF_CTX *k;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, r = -ENOMEM;
	OSSL_PARAM p[5];

	if (!kdf)
		kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;

	info[n++] = (uint8_t)(len >> 8);
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, strlen(label));
	n += ll;
	info[n++] = 0; /* no context */
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
						 SECRET_LEN);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	p[3] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[4] = OSSL_PARAM_construct_end();
	if (k && EVP_KDF_derive(k, out, len, p) == 1)
		r = 0;
	EVP_KDF_CTX_free(k);
	return r;
}

/* The key and IV of f's secret (RFC 8446 section 7.3), from sequence 0. */
static int traffic_keys(struct tlsforge *f)
{
	f->seq = 0;
	return expand_label(f->secret, "key", f->key, KEY_LEN) ||
		       expand_label(f->secret, "iv", f->iv, IV_LEN)
		   ? -ENOMEM
		   : 0;
}

int tlsforge_new(struct tlsforge **fp, void *ssl)
{
	struct secret *s = ex_index < 0 ? NULL : SSL_get_ex_data(ssl, ex_index);
	struct tlsforge *f;

	*fp = NULL;
	if (!s || !s->set)
		return -ENOENT;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->c = EVP_CIPHER_CTX_new())) {
		tlsforge_free(f);
		return -ENOMEM;
	}
	memcpy(f->secret, s->b, SECRET_LEN);
	if (traffic_keys(f)) {
		tlsforge_free(f);
		return -ENOMEM;
	}
	*fp = f;
	return 0;
}

void *tlsforge_new_ctx(bool server, bool forge)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = k ? ident_new_cert(k, server ? "server" : "box") : NULL;
	char err[256];
	void *ctx = NULL;

	if (x && tlsctx_new_keys(&ctx, k, x, server, err, sizeof(err)))
		ctx = NULL;
	if (ctx && forge && tlsforge_ctx(ctx)) {
		tlsctx_free(ctx);
		ctx = NULL;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	return ctx;
}

void tlsforge_free(struct tlsforge *f)
{
	if (!f)
		return;
	EVP_CIPHER_CTX_free(f->c);
	free(f);
}

size_t tlsforge_record(struct tlsforge *f, uint8_t type, const void *content, size_t len,
		       uint8_t *out)
{
	size_t inner = len + 1, total = inner + TAG_LEN;
	uint8_t nonce[IV_LEN], *body = out + 5;
	int n = 0;

	memcpy(nonce, f->iv, IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(f->seq >> (8 * i));
	out[0] = 0x17; /* every protected record says application data outside */
	out[1] = 0x03;
	out[2] = 0x03;
	out[3] = (uint8_t)(total >> 8);
	out[4] = (uint8_t)total;
	if (len)
		memcpy(body, content, len);
	body[len] = type;
	if (EVP_EncryptInit_ex(f->c, EVP_aes_128_gcm(), NULL, f->key, nonce) != 1 ||
	    EVP_EncryptUpdate(f->c, NULL, &n, out, 5) != 1 ||
	    EVP_EncryptUpdate(f->c, body, &n, body, (int)inner) != 1 ||
	    EVP_EncryptFinal_ex(f->c, body + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(f->c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, body + inner) != 1)
		return 0;
	f->seq++;
	return 5 + total;
}

size_t tlsforge_key_update(struct tlsforge *f, bool requested, uint8_t *out)
{
	const uint8_t msg[5] = {24, 0, 0, 1, requested ? 1 : 0}; /* key_update(24) */
	uint8_t next[SECRET_LEN];
	size_t n = tlsforge_record(f, 0x16, msg, sizeof(msg), out);

	if (!n || expand_label(f->secret, "traffic upd", next, SECRET_LEN))
		return 0;
	memcpy(f->secret, next, SECRET_LEN);
	return traffic_keys(f) ? 0 : n;
}
