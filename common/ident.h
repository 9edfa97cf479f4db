/* ident.h: a server's or a box's identity (protocol 1.1, section 3): an Ed25519 key and
 * a self-signed certificate in a state directory, made on first use, named by its
 * fingerprint: "sha256:" and the 64 lower-case hex digits of the SHA-256 of the key's DER
 * SubjectPublicKeyInfo. OpenSSL 3's libcrypto. */
#ifndef IC_IDENT_H
#define IC_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IDENT_FP_LEN	   (7 + 64) /* "sha256:" + 64 hex digits */
#define IDENT_KEY_FILE	   "key.pem"
#define IDENT_CERT_FILE	   "cert.pem"
#define IDENT_CERT_DAYS	   36525 /* 100 years: boxes are not re-issued certificates */
#define IDENT_KEY_FILE_MAX 16384 /* a PEM key file larger than this is not ours */

struct ident;

/* The identity in dir: its key (key_path when one is configured, else dir/key.pem, made
 * when missing: mode 0600, the directory 0700, created when missing) and its certificate
 * (dir/cert.pem, remade from the key when missing; subject CN = cn). A key is written to
 * a temporary file and linked into place (fsave.h: synced, the directory too; as root,
 * owned like the directory), so two processes starting at once end with one key. *made
 * tells whether a key was made. A key file that exists but does not load or is not
 * Ed25519, or a configured key_path that is missing, is an error naming it
 * (-EINVAL), and is never replaced. Returns 0, -EINVAL, or -errno (the directory or a
 * file cannot be made) with "PATH: what (what to do)" in err. */
int ident_load(struct ident **ip, const char *dir, const char *key_path, const char *cn,
	       bool *made, char *err, size_t errlen);
void ident_free(struct ident *id);

/* What intercomd and intercom do at start: ident_load, then with print the fingerprint
 * alone on standard output (--fingerprint), else a log line "identity FP (KEY FILE)",
 * ": made now" added on first start. Returns 0, or the exit status after logging why:
 * 2 for a key file that is not ours or a missing configured one (-EINVAL: a
 * configuration error), 1 for anything else. */
int ident_start(struct ident **ip, const char *dir, const char *key_path, const char *cn,
		bool print);

/* Its fingerprint, IDENT_FP_LEN characters. */
const char *ident_fingerprint(const struct ident *id);

/* The key and certificate, for TLS (EVP_PKEY *, X509 *; owned by id). */
void *ident_pkey(const struct ident *id);
void *ident_cert(const struct ident *id);

/* The state directory to use when none is configured: built_in when not empty (what the
 * packages set: /var/lib/intercomd, /var/lib/intercom), else a per-user one for a source
 * build: $XDG_STATE_HOME/name, or ~/.local/state/name. */
void ident_state_dir(char *out, size_t size, const char *built_in, const char *name);

/* A new self-signed certificate (X509 *, the caller's to free) for key pkey (EVP_PKEY *)
 * with subject CN = cn, valid IDENT_CERT_DAYS; NULL when OpenSSL fails. */
void *ident_new_cert(void *pkey, const char *cn);

/* The fingerprint of any public key (EVP_PKEY *: a peer's, from its certificate) into
 * out (IDENT_FP_LEN + 1 bytes). Returns 0 or -EINVAL. */
int ident_fingerprint_of(void *pkey, char *out);

/* True if fp[0..len) is a fingerprint as written: "sha256:" and 64 lower-case hex. */
bool ident_fp_valid(const char *fp, size_t len);

#endif
