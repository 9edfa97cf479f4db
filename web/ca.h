/* ca.h: the gateway's certificates (docs/WEB.md, docs/SECURITY.md). A local CA made on
 * first start (P-256: every browser takes it, which Ed25519 is not) kept in the state
 * directory (ca-key.pem mode 0600, ca.crt), and a server certificate for the gateway's
 * names and addresses, signed by it afresh at each start (its key lives in memory only),
 * valid 397 days: what Apple and Chrome accept for a TLS server certificate. A phone
 * that installed the CA once trusts every later one. OpenSSL 3's libcrypto. */
#ifndef IC_CA_H
#define IC_CA_H

#include <stdbool.h>
#include <stddef.h>

#define CA_KEY_FILE  "ca-key.pem"
#define CA_CERT_FILE "ca.crt"
#define CA_NAMES_MAX 16 /* names and addresses in the server certificate */
#define CA_STR_(x)   #x
#define CA_STR(x)    CA_STR_(x)

/* What `name` must be, for the errors naming it. */
#define CA_NAMES_WHAT                                                                    \
	"a list of at most " CA_STR(                                                     \
	    CA_NAMES_MAX) " host names (letters, digits, '-' and dots) and IP "          \
			  "addresses, comma-separated, as phones reach this host (e.g. " \
			  "name = door.lan,192.168.1.10)"

struct ca;

/* Whether names is what ca_load takes: CA_NAMES_WHAT (the config's check, the same
 * rule as the certificate's). */
bool ca_names_valid(const char *names); /* and at least one */

/* Load or make the CA in dir (it must exist, mode 0700), then issue a server
 * certificate for names (comma-separated host names and IP addresses; "localhost" and
 * 127.0.0.1 are always added). Returns 0, -EINVAL (a CA key file that does not load:
 * it is never replaced; a bad name) or -errno with "PATH: what" in err. */
int ca_load(struct ca **cp, const char *dir, const char *names, char *err, size_t errlen);
void ca_free(struct ca *c);

/* The server's key and certificate (EVP_PKEY *, X509 *; owned by c) and the CA's
 * certificate (X509 *), for the TLS context toward browsers. */
void *ca_server_key(const struct ca *c);
void *ca_server_cert(const struct ca *c);
void *ca_cert(const struct ca *c);

/* The CA certificate in PEM (a NUL-ended string owned by c) and its SHA-256 fingerprint
 * as browsers and phones show it ("AB:CD:..."). */
const char *ca_pem(const struct ca *c);
const char *ca_fingerprint(const struct ca *c);

#endif
