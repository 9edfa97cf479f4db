#include "ca.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fsave.h"

#define CA_DAYS	    3650 /* the CA a phone installs: ten years */
#define SERVER_DAYS 397

struct ca {
	EVP_PKEY *ca_key, *srv_key;
	X509 *ca_cert, *srv_cert;
	char *pem;
	char fp[32 * 3];
};

static int write_key(FILE *f, void *arg)
{
	return PEM_write_PrivateKey(f, arg, NULL, NULL, 0, NULL, NULL) ? 0 : -EIO;
}

static int write_cert(FILE *f, void *arg)
{
	return PEM_write_X509(f, arg) ? 0 : -EIO;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EIO;
}

/* A certificate for key, subject CN = cn, signed by ikey (issuer icert; NULL: itself). */
static X509 *issue(EVP_PKEY *key, const char *cn, X509 *icert, EVP_PKEY *ikey, long days)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	X509_NAME *name;
	bool ok;

	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* a positive serial */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_get_subject_name(x);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	     X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) &&
	     X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x, icert ? X509_get_subject_name(icert) : name);
	BN_free(bn);
	if (!ok || add_ext(x, icert ? icert : x, NID_subject_key_identifier, "hash") ||
	    add_ext(x, icert ? icert : x, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (icert ? add_ext(x, icert, NID_basic_constraints, "critical,CA:FALSE") ||
			add_ext(x, icert, NID_key_usage, "critical,digitalSignature") ||
			add_ext(x, icert, NID_ext_key_usage, "serverAuth")
		  : add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
			add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign"))
		goto fail;
	if (!X509_sign(x, ikey, EVP_sha256()))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Whether n is a host name: dot-separated labels of letters, digits and '-' (not at
 * either end of a label), 1 to 63 bytes each, at most 253 in all (RFC 1123). */
static bool host_ok(const char *n)
{
	size_t label = 0, len = strlen(n);

	if (!len || len > 253 || n[len - 1] == '.')
		return false;
	for (const char *p = n; *p; p++) {
		if (*p == '.') {
			if (!label || p[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
			*p) ||
		    (*p == '-' && !label) || ++label > 63)
			return false;
	}
	return n[len - 1] != '-';
}

/* "DNS:a,IP:1.2.3.4,..." for names; -EINVAL for a name that is neither, or more than
 * CA_NAMES_MAX. */
static int san_of(const char *names, char *out, size_t size)
{
	char copy[1024], *save = NULL, *n;
	size_t at = 0;
	unsigned count = 0;
	unsigned char ip[16];

	at += (size_t)snprintf(out, size, "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (strlen(names ? names : "") >= sizeof(copy))
		return -EINVAL;
	snprintf(copy, sizeof(copy), "%s", names ? names : "");
	for (n = strtok_r(copy, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
		bool is_ip =
		    inet_pton(AF_INET, n, ip) == 1 || inet_pton(AF_INET6, n, ip) == 1;

		if (++count > CA_NAMES_MAX || at >= size || (!is_ip && !host_ok(n)))
			return -EINVAL;
		at += (size_t)snprintf(out + at, size - at, ",%s:%s",
				       is_ip ? "IP" : "DNS", n);
	}
	return at < size ? 0 : -EINVAL;
}

bool ca_names_valid(const char *names)
{
	char san[2048];

	return names[strspn(names, ", ")] && san_of(names, san, sizeof(san)) == 0;
}

static int load_or_make_ca(struct ca *c, const char *dir, char *err, size_t errlen)
{
	char kpath[4096], cpath[4096];
	FILE *f;
	int e;

	snprintf(kpath, sizeof(kpath), "%s/" CA_KEY_FILE, dir);
	snprintf(cpath, sizeof(cpath), "%s/" CA_CERT_FILE, dir);
	f = fopen(kpath, "re");
	if (f) {
		c->ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (!c->ca_key) {
			snprintf(
			    err, errlen,
			    "%s: not a private key in PEM form (it is never replaced: "
			    "move it away to make a new CA, then install the new "
			    "ca.crt on every phone)",
			    kpath);
			return -EINVAL;
		}
	} else {
		c->ca_key = EVP_EC_gen("P-256");
		if (!c->ca_key)
			return -EIO;
		e = fsave_write(kpath, 0600, FSAVE_CREATE, write_key, c->ca_key);
		if (e) {
			snprintf(err, errlen, "%s: cannot write: %s", kpath,
				 strerror(-e));
			return e;
		}
	}
	f = fopen(cpath, "re");
	if (f) {
		c->ca_cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		if (c->ca_cert && X509_check_private_key(c->ca_cert, c->ca_key) != 1) {
			X509_free(c->ca_cert);
			c->ca_cert = NULL;
		}
	}
	if (c->ca_cert)
		return 0;
	c->ca_cert = issue(c->ca_key, "intercom-web local CA", NULL, c->ca_key, CA_DAYS);
	if (!c->ca_cert)
		return -EIO;
	e = fsave_write(cpath, 0644, FSAVE_REPLACE, write_cert, c->ca_cert);
	if (e)
		snprintf(err, errlen, "%s: cannot write: %s", cpath, strerror(-e));
	return e;
}

static int finish(struct ca *c, const char *names, char *err, size_t errlen)
{
	unsigned char md[32];
	unsigned int n = 0;
	char san[2048];
	BIO *b;
	long len;
	char *data;

	if (san_of(names, san, sizeof(san))) {
		snprintf(err, errlen, "name: '%s' is not %s", names, CA_NAMES_WHAT);
		return -EINVAL;
	}
	c->srv_key = EVP_EC_gen("P-256");
	c->srv_cert = c->srv_key ? issue(c->srv_key, "intercom-web", c->ca_cert,
					 c->ca_key, SERVER_DAYS)
				 : NULL;
	if (!c->srv_cert || add_ext(c->srv_cert, c->ca_cert, NID_subject_alt_name, san) ||
	    !X509_sign(c->srv_cert, c->ca_key, EVP_sha256()) ||
	    !X509_digest(c->ca_cert, EVP_sha256(), md, &n))
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		snprintf(c->fp + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
	b = BIO_new(BIO_s_mem());
	if (!b || !PEM_write_bio_X509(b, c->ca_cert)) {
		BIO_free(b);
		return -EIO;
	}
	len = BIO_get_mem_data(b, &data);
	c->pem = malloc((size_t)len + 1);
	if (c->pem) {
		memcpy(c->pem, data, (size_t)len);
		c->pem[len] = '\0';
	}
	BIO_free(b);
	return c->pem ? 0 : -ENOMEM;
}

int ca_load(struct ca **cp, const char *dir, const char *names, char *err, size_t errlen)
{
	struct ca *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		return -ENOMEM;
	snprintf(err, errlen, "cannot make the gateway's certificates (OpenSSL failed)");
	e = load_or_make_ca(c, dir, err, errlen);
	if (!e)
		e = finish(c, names, err, errlen);
	if (e) {
		ca_free(c);
		return e;
	}
	*cp = c;
	return 0;
}

void ca_free(struct ca *c)
{
	if (!c)
		return;
	EVP_PKEY_free(c->ca_key);
	EVP_PKEY_free(c->srv_key);
	X509_free(c->ca_cert);
	X509_free(c->srv_cert);
	free(c->pem);
	free(c);
}

void *ca_server_key(const struct ca *c)
{
	return c->srv_key;
}

void *ca_server_cert(const struct ca *c)
{
	return c->srv_cert;
}

void *ca_cert(const struct ca *c)
{
	return c->ca_cert;
}

const char *ca_pem(const struct ca *c)
{
	return c->pem;
}

const char *ca_fingerprint(const struct ca *c)
{
	return c->fp;
}
