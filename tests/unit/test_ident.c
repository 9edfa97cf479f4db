/* Identities (section 3) through the real OpenSSL, in fresh directories: made on first
 * use (key 0600, directory 0700), the same fingerprint ever after, the certificate
 * remade from the key, the fingerprint as the contract defines it (computed here on its
 * own), a configured key used, and key files that are not ours refused by name and never
 * replaced. Four starting at once end with one key (natively: under the arm64 build's
 * qemu-user that spins forever, whether they are processes or threads). */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "ident.h"

static char dir[96], key[128], cert[128];

static int setup(void **state)
{
	static int n;

	(void)state;
	/* a directory two levels down that does not exist yet */
	snprintf(dir, sizeof(dir), "/tmp/test-ident-%d-%d/state/intercomd", (int)getpid(),
		 n++);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %.*s", (int)(strstr(dir, "/state") - dir),
		 dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct ident *load(bool *made)
{
	struct ident *id = NULL;
	char err[512];

	if (ident_load(&id, dir, NULL, "door", made, err, sizeof(err)))
		fail_msg("ident_load: %s", err);
	return id;
}

/* sha256: + hex of SHA-256(DER SubjectPublicKeyInfo), from the PEM file itself */
static void fingerprint_by_hand(const char *path, char *out)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	unsigned char *der = NULL, md[32];
	unsigned mdlen;
	int n = i2d_PUBKEY(k, &der);

	fclose(f);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL), 1);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void test_made_once_then_kept(void **state)
{
	char fp[IDENT_FP_LEN + 1], hand[IDENT_FP_LEN + 1];
	struct stat st;
	bool made;
	struct ident *id = load(&made);
	X509 *x;

	(void)state;
	assert_true(made);
	strcpy(fp, ident_fingerprint(id));
	assert_int_equal(strlen(fp), IDENT_FP_LEN);
	fingerprint_by_hand(key, hand);
	assert_string_equal(fp, hand);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* a self-signed certificate of this key, CN as given, valid for 100 years */
	x = ident_cert(id);
	assert_int_equal(X509_check_private_key(x, ident_pkey(id)), 1);
	assert_int_equal(X509_verify(x, ident_pkey(id)), 1);
	{
		int days, secs;

		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
						X509_get0_notAfter(x)),
				 1);
		assert_int_equal(days, IDENT_CERT_DAYS);
	}
	ident_free(id);
	/* the next start: the same key, nothing made */
	id = load(&made);
	assert_false(made);
	assert_string_equal(ident_fingerprint(id), fp);
	ident_free(id);
	/* the certificate lost: remade from the key, the same fingerprint */
	assert_int_equal(unlink(cert), 0);
	id = load(&made);
	assert_false(made);
	assert_string_equal(ident_fingerprint(id), fp);
	assert_int_equal(access(cert, R_OK), 0);
	ident_free(id);
}

/* As root in a state directory of the service's user (sudo intercom --fingerprint on a
 * packaged box before its first start): key and certificate are that user's, no
 * temporary file is left, and a certificate remade later is that user's too. */
static void test_owner_as_root(void **state)
{
	struct stat st;
	bool made;
	struct ident *id;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: the owner is not tested\n");
		skip();
	}
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "mkdir -p -m 0700 %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(chown(dir, 65534, 65534), 0);
	id = load(&made);
	assert_true(made);
	ident_free(id);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(unlink(cert), 0);
	id = load(&made);
	ident_free(id);
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	{
		DIR *d = opendir(dir);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d)))
			assert_true(strncmp(e->d_name, ".tmp.", 5));
		closedir(d);
	}
}

static void test_keys_that_are_not_ours(void **state)
{
	struct ident *id = NULL;
	char err[512], before[256];
	bool made;
	FILE *f;
	EVP_PKEY *p256;

	(void)state;
	ident_free(load(&made)); /* the directory exists */
	/* garbage: refused by name, and left as it was */
	f = fopen(key, "w");
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(ident_load(&id, dir, NULL, "door", &made, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, key));
	assert_non_null(strstr(err, "never replaced"));
	f = fopen(key, "r");
	assert_non_null(fgets(before, sizeof(before), f));
	fclose(f);
	assert_string_equal(before, "not a key\n");
	/* a good key of another kind */
	p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f = fopen(key, "w");
	assert_int_equal(PEM_write_PrivateKey(f, p256, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(p256);
	assert_int_equal(ident_load(&id, dir, NULL, "door", &made, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not an Ed25519 key"));
	/* a configured key that is not there is not made */
	assert_int_equal(
	    ident_load(&id, dir, "/nonexistent/tls.key", "door", &made, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/tls.key"));
	assert_false(made);
}

static void test_configured_key(void **state)
{
	char path[160], hand[IDENT_FP_LEN + 1], err[512];
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct ident *id = NULL;
	bool made;
	FILE *f;

	(void)state;
	ident_free(load(&made));
	snprintf(path, sizeof(path), "%s/configured.pem", dir);
	f = fopen(path, "w");
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(k);
	assert_int_equal(ident_load(&id, dir, path, "door", &made, err, sizeof(err)), 0);
	assert_false(made);
	fingerprint_by_hand(path, hand);
	assert_string_equal(ident_fingerprint(id), hand);
	/* the certificate follows the key in use */
	assert_int_equal(X509_check_private_key(ident_cert(id), ident_pkey(id)), 1);
	ident_free(id);
}

static void *one_start(void *arg)
{
	char *fp = arg, err[512];
	struct ident *id = NULL;
	bool made;

	if (ident_load(&id, dir, NULL, "door", &made, err, sizeof(err)) == 0) {
		strcpy(fp, ident_fingerprint(id));
		ident_free(id);
	}
	return NULL;
}

static void test_four_at_once(void **state)
{
	char fps[4][IDENT_FP_LEN + 1] = {{0}};
	pthread_t t[4];

	(void)state;
	if (getenv("IC_NO_RACE"))
		skip(); /* see tests/CMakeLists.txt */
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, one_start, fps[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(strlen(fps[i]), IDENT_FP_LEN); /* each one loaded */
		assert_string_equal(fps[i], fps[0]);		/* and one key for all */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_made_once_then_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_that_are_not_ours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_configured_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_four_at_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_as_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
