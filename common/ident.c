#include "ident.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsave.h"
#include "hex.h"
#include "log.h"

struct ident {
	EVP_PKEY *key;
	X509 *cert;
	char fp[IDENT_FP_LEN + 1];
};

/* mkdir -p, the last one (the state directory) 0700. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
	char path[512];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		snprintf(err, errlen, "state directory '%s': empty or too long", dir);
		return -EINVAL;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot create the state directory: %s (set state_dir)",
		 path, strerror(errno));
	return -errno;
}

/* -ENOENT when there is no file; any other failure is an error naming it. */
static int load_key(const char *path, EVP_PKEY **kp, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = NULL;

	if (!f) {
		if (errno == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fileno(f), &st) == 0 && st.st_size <= IDENT_KEY_FILE_MAX)
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		snprintf(
		    err, errlen,
		    "%s: not a private key in PEM form (it is never replaced: fix or "
		    "remove it, and boxes that pinned it must forget this server)",
		    path);
		return -EINVAL;
	}
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		snprintf(err, errlen,
			 "%s: not an Ed25519 key (the identity must be Ed25519: "
			 "openssl genpkey -algorithm ed25519)",
			 path);
		return -EINVAL;
	}
	*kp = k;
	return 0;
}

bool ident_fp_valid(const char *fp, size_t len)
{
	if (len != IDENT_FP_LEN || strncmp(fp, "sha256:", 7))
		return false;
	for (size_t i = 7; i < len; i++) {
		if (!strchr("0123456789abcdef", fp[i]))
			return false;
	}
	return true;
}

static int fill_key(FILE *f, void *arg)
{
	return PEM_write_PrivateKey(f, arg, NULL, NULL, 0, NULL, NULL) ? 0 : -ENOMEM;
}

static int fill_cert(FILE *f, void *arg)
{
	return PEM_write_X509(f, arg) ? 0 : -ENOMEM;
}

/* A new key, linked into place: if another process made one first, that one is used. */
static int make_key(const char *path, EVP_PKEY **kp, bool *made, char *err, size_t errlen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int e;

	if (!k) {
		snprintf(err, errlen, "cannot make an Ed25519 key (OpenSSL)");
		return -EIO;
	}
	e = fsave_write(path, 0600, FSAVE_CREATE, fill_key, k);
	if (e == 0) {
		*kp = k;
		k = NULL;
		*made = true;
	} else if (e == -EEXIST) {
		e = load_key(path, kp, err, errlen); /* the other process's */
	} else {
		snprintf(
		    err, errlen,
		    "%s: cannot write a new key: %s (free space, or check state_dir's "
		    "owner)",
		    path, strerror(-e));
	}
	EVP_PKEY_free(k);
	return e;
}

void *ident_new_cert(void *pkey, const char *cn)
{
	EVP_PKEY *k = pkey;
	X509 *x = X509_new();
	X509_NAME *name;
	uint64_t serial;

	if (!x || RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), IDENT_CERT_DAYS, 0, NULL) ||
	    !X509_set_pubkey(x, k) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_sign(x, k, NULL))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* The certificate in path if it is this key's; else a new one, put in place. */
static int load_cert(const char *path, EVP_PKEY *k, const char *cn, X509 **xp, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int e;

	if (f)
		fclose(f);
	if (x && X509_check_private_key(x, k) == 1) {
		*xp = x;
		return 0;
	}
	X509_free(x);
	x = ident_new_cert(k, cn);
	e = x ? fsave_write(path, 0600, FSAVE_REPLACE, fill_cert, x) : -ENOMEM;
	if (e) {
		snprintf(err, errlen,
			 "%s: cannot write the certificate: %s (free space, or check "
			 "state_dir's owner)",
			 path, strerror(-e));
		X509_free(x);
		return e;
	}
	*xp = x;
	return 0;
}

int ident_fingerprint_of(void *pkey, char *out)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int n = i2d_PUBKEY(pkey, &der);

	if (n <= 0)
		return -EINVAL;
	if (!EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		OPENSSL_free(der);
		return -EINVAL;
	}
	OPENSSL_free(der);
	memcpy(out, "sha256:", 7);
	hex_encode(md, 32, out + 7);
	return 0;
}

int ident_load(struct ident **ip, const char *dir, const char *key_path, const char *cn,
	       bool *made, char *err, size_t errlen)
{
	char kpath[512], cpath[512];
	struct ident *id = calloc(1, sizeof(*id));
	int e;

	*made = false;
	if (!id)
		return -ENOMEM;
	if ((e = make_dirs(dir, err, errlen)))
		goto out;
	snprintf(kpath, sizeof(kpath), "%s/%s", dir, IDENT_KEY_FILE);
	snprintf(cpath, sizeof(cpath), "%s/%s", dir, IDENT_CERT_FILE);
	e = load_key(key_path ? key_path : kpath, &id->key, err, errlen);
	if (e == -ENOENT && key_path) {
		snprintf(err, errlen, "%s: no such key file (tls_key)", key_path);
		e = -EINVAL; /* a configuration error, like a bad key */
	} else if (e == -ENOENT)
		e = make_key(kpath, &id->key, made, err, errlen);
	if (!e)
		e = load_cert(cpath, id->key, cn, &id->cert, err, errlen);
	if (!e)
		e = ident_fingerprint_of(id->key, id->fp);
out:
	if (e) {
		ident_free(id);
		return e;
	}
	*ip = id;
	return 0;
}

void ident_free(struct ident *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	free(id);
}

const char *ident_fingerprint(const struct ident *id)
{
	return id->fp;
}

void *ident_pkey(const struct ident *id)
{
	return id->key;
}

void *ident_cert(const struct ident *id)
{
	return id->cert;
}

void ident_state_dir(char *out, size_t size, const char *built_in, const char *name)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (built_in && *built_in)
		snprintf(out, size, "%s", built_in);
	else if (xdg && *xdg == '/')
		snprintf(out, size, "%s/%s", xdg, name);
	else if (home && *home == '/')
		snprintf(out, size, "%s/.local/state/%s", home, name);
	else
		snprintf(out, size, "/var/lib/%s", name);
}

int ident_start(struct ident **ip, const char *dir, const char *key_path, const char *cn,
		bool print)
{
	char err[600];
	bool made = false;
	int e = ident_load(ip, dir, key_path, cn, &made, err, sizeof(err));

	if (e) {
		log_err("%s", err);
		return e == -EINVAL ? 2 : 1;
	}
	if (print)
		printf("%s\n", ident_fingerprint(*ip));
	else
		log_info("identity %s (%s%s%s%s)", ident_fingerprint(*ip),
			 key_path ? key_path : dir, key_path ? "" : "/",
			 key_path ? "" : IDENT_KEY_FILE, made ? ": made now" : "");
	return 0;
}
