/* The gateway's certificates (web/ca.c): the CA made once (key 0600) and the same on the
 * next start, a server certificate for the given names signed by it, a key file that is
 * not ours refused and never replaced, names that are not host names or addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "conftab.h"
#include "gw.h"
#include "wconf.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-ca-%d", (int)getpid());
	return mkdir(dir, 0700);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_made_once(void **state)
{
	char err[300], path[128], fp[200];
	struct ca *a, *b;
	struct stat st;

	(void)state;
	assert_int_equal(ca_load(&a, dir, "gw.local,192.168.1.10", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/" CA_KEY_FILE, dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(strstr(ca_pem(a), "-----BEGIN CERTIFICATE-----"));
	assert_int_equal(strlen(ca_fingerprint(a)), 32 * 3 - 1);
	snprintf(fp, sizeof(fp), "%s", ca_fingerprint(a));
	/* the server certificate: signed by the CA, for the names given and localhost */
	X509 *srv = ca_server_cert(a);
	assert_int_equal(X509_verify(srv, X509_get0_pubkey(ca_cert(a))), 1);
	assert_int_equal(X509_check_host(srv, "gw.local", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(srv, "192.168.1.10", 0), 1);
	assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
	assert_int_not_equal(X509_check_host(srv, "other.local", 0, 0, NULL), 1);
	assert_int_equal(X509_check_private_key(srv, ca_server_key(a)), 1);
	assert_int_equal(X509_check_ca(ca_cert(a)), 1);
	assert_int_equal(X509_check_ca(srv), 0);
	/* the next start: the same CA (phones keep trusting it), a new server key */
	assert_int_equal(ca_load(&b, dir, "gw.local", err, sizeof(err)), 0);
	assert_string_equal(ca_fingerprint(b), fp);
	assert_int_equal(X509_verify(ca_server_cert(b), X509_get0_pubkey(ca_cert(a))), 1);
	assert_int_not_equal(X509_cmp(ca_server_cert(a), ca_server_cert(b)), 0);
	ca_free(a);
	ca_free(b);
}

static void test_bad_names(void **state)
{
	char err[300];
	struct ca *c;

	(void)state;
	assert_int_equal(ca_load(&c, dir, "has space!", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "name: 'has space!' is not a list"));
	assert_int_equal(
	    ca_load(&c, dir, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", err, sizeof(err)),
	    -EINVAL);
}

/* The rule `name` is checked by, in the config layer (--check-config) and at start
 * alike: host names by RFC 1123's labels, IP addresses, at most CA_NAMES_MAX. And the
 * server password's, the box's (a '"' would break the CONNECT line). */
static void test_names_rule(void **state)
{
	static const char *good[] = {"door.lan,192.168.1.10", "gw", "a-b.c", "fe80::1",
				     "x1.example.org, 10.0.0.2"};
	static const char *bad[] = {"-a",	   "a-",  "a..b",	"a.",
				    ".a",	   "x_y", "has space!", "caf\xc3\xa9.lan",
				    "gw.lan:8443", ""};
	char label[80], err[400];
	struct gw_cfg cfg = {0};
	const struct conftab_key *k = NULL;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(ca_names_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ca_names_valid(bad[i]));
	memset(label, 'a', 64);
	label[64] = 0;
	assert_false(ca_names_valid(label)); /* a label of 64 */
	label[63] = 0;
	assert_true(ca_names_valid(label));
	/* the config layer names the key, what it must be and an example */
	k = wconf_keys(&n);
	assert_int_equal(
	    conftab_set(k, n, &cfg, "name", "door_bell.lan", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "name: "));
	assert_non_null(strstr(err, "e.g. name = "));
	assert_string_equal(cfg.names, "");
	assert_int_equal(conftab_set(k, n, &cfg, "name", "door.lan", err, sizeof(err)),
			 0);
	assert_string_equal(cfg.names, "door.lan");
	/* the server password goes into CONNECT's quoted field: the box's rule */
	assert_int_equal(conftab_set(k, n, &cfg, "password", "a\"b", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "password: "));
	assert_int_equal(
	    conftab_set(k, n, &cfg, "password", "s3cret pass", err, sizeof(err)), 0);
}

static void test_foreign_key_kept(void **state)
{
	char err[300], path[128], buf[64] = "";
	struct ca *c;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/" CA_KEY_FILE, dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(ca_load(&c, dir, "gw.local", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, CA_KEY_FILE));
	assert_non_null(strstr(err, "never replaced"));
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "not a key\n");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_made_once),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_names_rule),
	    cmocka_unit_test(test_foreign_key_kept),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
