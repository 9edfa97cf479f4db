/* What a box was told it has survives a crash and a full disk, against the real
 * intercomd (and intercom): a nick answered REGISTERED is the box's after kill -9 and a
 * restart (a thief's key from another address is refused it), 20 times over; a full
 * state directory (the fulldisk LD_PRELOAD seam) gives no REGISTERED, the login goes on
 * unbound and the log names ENOSPC's text; a stop whose last save fails exits non-zero;
 * intercom run as root on a state directory of the service's user leaves files that
 * user still reads. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_tls.h"
#include "ident.h"

#define ROUNDS	   20	 /* kill -9 right after REGISTERED, then a thief */
#define NOBODY_UID 65534 /* an unprivileged user that owns a state directory */

static char dir[64], flag[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/itest-durable-%d", (int)getpid());
	snprintf(flag, sizeof(flag), "%s.full", dir);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	harness_key = NULL;
	harness_registered = false;
	unlink(flag);
	return 0;
}

static int cleanup(void **state)
{
	(void)state;
	unlink(flag);
	state_dir_remove(dir);
	return 0;
}

/* kill -9 the moment REGISTERED is read: after the restart on the same state directory,
 * another key from another address is refused the nick, and the box's own key gets in
 * (bound already: no REGISTERED). Each round a nick and a box of its own. */
static void test_crash_after_registered(void **state)
{
	struct srv s;

	(void)state;
	srv_start(&s, "--tls", "on", "--state-dir", dir, NULL);
	for (int i = 0; i < ROUNDS; i++) {
		void *box = htls_key_new(), *thief = htls_key_new();
		char nick[24], from[24], want[160], fp[IDENT_FP_LEN + 1];
		struct cli a, t;

		snprintf(nick, sizeof(nick), "Kitchen%d", i);
		snprintf(from, sizeof(from), "127.0.0.%d", 2 + i);
		harness_key = box;
		harness_registered = true;
		cli_connect(&a, &s);
		cli_send(&a, "CONNECT: \"%s\" \"\" 1.1.0", nick);
		cli_expect_prefix(&a, "ACCEPT: ");
		snprintf(want, sizeof(want), "REGISTERED: %s %s", nick,
			 harness_fp_of(box, fp));
		cli_expect(&a, want);
		srv_kill9(&s); /* no PONG, no later save: what is on disk is all */
		cli_close(&a);
		srv_restart(&s);
		harness_registered = false;
		harness_key = thief;
		cli_connect_from(&t, &s, from);
		cli_send(&t, "CONNECT: \"%s\" \"\" 1.1.0", nick);
		cli_expect(&t, "ERROR NICK_REGISTERED: this nick belongs to another box: "
			       "choose another");
		cli_close(&t);
		harness_key = box;
		cli_login(&a, &s, nick);
		assert_string_equal(a.registered, ""); /* its own already */
		cli_close(&a);
		harness_key = NULL;
		htls_key_free(box);
		htls_key_free(thief);
	}
	srv_stop(&s);
}

/* A clean stop before the login's PONG undoes the binding it was answered REGISTERED
 * for (the contract: kept once the PONG arrives): the stop's save drops it, though the
 * binding was on disk (the crash test above). */
static void test_stop_undoes_unfinished(void **state)
{
	char out[4096];
	struct srv s;
	struct cli a;

	(void)state;
	srv_start(&s, "--tls", "on", "--state-dir", dir, NULL);
	harness_registered = true;
	cli_connect_as(&a, &s, "Shed", NULL);
	cli_send(&a, "CONNECT: \"Shed\" \"\" 1.1.0");
	cli_expect_prefix(&a, "ACCEPT: ");
	cli_expect_prefix(&a, "REGISTERED: Shed ");
	srv_stop(&s); /* no PONG came */
	cli_close(&a);
	assert_int_equal(
	    srv_run(out, sizeof(out), "--state-dir", dir, "--registry", "list", NULL), 0);
	assert_null(strstr(out, "Shed "));
}

/* intercomd with the full-disk seam preloaded (the seam first in the library list,
 * which ASan would refuse), the disk full while `flag` exists. False where the seam
 * cannot be used (not built beside the tests, or under valgrind). */
static bool start_with_seam(struct srv *s)
{
	const char *lib = getenv("FULLDISK_LIB"), *asan = getenv("ASAN_OPTIONS");
	char opts[512];

	if (!lib || getenv("INTERCOMD_WRAP"))
		return false;
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "",
		 asan ? ":" : "");
	setenv("LD_PRELOAD", lib, 1);
	setenv("FULL_DISK", flag, 1);
	setenv("ASAN_OPTIONS", opts, 1);
	srv_start(s, "--tls", "on", "--state-dir", dir, NULL);
	unsetenv("LD_PRELOAD");
	if (asan)
		setenv("ASAN_OPTIONS", asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	return true;
}

static void disk_full(bool full)
{
	if (full) {
		FILE *f = fopen(flag, "w");

		assert_non_null(f);
		fclose(f);
	} else {
		assert_int_equal(unlink(flag), 0);
	}
}

/* A login on a full disk: ACCEPT, VOICE and PING without REGISTERED, logged in all the
 * same (unbound), the log saying why with ENOSPC's own text and what to do; once there
 * is room, its next login binds the nick. */
static void test_full_disk(void **state)
{
	struct srv s;
	struct cli a;
	char want[160], fp[IDENT_FP_LEN + 1];
	void *box = htls_key_new();

	(void)state;
	if (!start_with_seam(&s))
		skip();
	disk_full(true);
	harness_key = box;
	harness_registered = true;
	cli_connect(&a, &s);
	cli_send(&a, "CONNECT: \"Pantry\" \"\" 1.1.0");
	cli_expect_prefix(&a, "ACCEPT: ");
	cli_expect_prefix(&a, "VOICE: "); /* no REGISTERED */
	cli_send(&a, "PONG: %s", cli_expect_prefix(&a, "PING: ") + 6);
	cli_expect(&a, "JOINED: #Lobby");
	assert_non_null(strstr(srv_log(&s), "No space left on device"));
	assert_null(strstr(srv_log(&s), "Input/output error"));
	assert_non_null(strstr(srv_log(&s),
			       "nick registry: cannot save it (No space left "
			       "on device): 1 new nick(s) (Pantry)"));
	assert_non_null(strstr(srv_log(&s), "free space in the state directory"));
	cli_close(&a);
	disk_full(false);
	cli_connect(&a, &s);
	cli_send(&a, "CONNECT: \"Pantry\" \"\" 1.1.0");
	cli_expect_prefix(&a, "ACCEPT: ");
	snprintf(want, sizeof(want), "REGISTERED: Pantry %s", harness_fp_of(box, fp));
	cli_expect(&a, want);
	cli_close(&a);
	harness_key = NULL;
	harness_registered = false;
	htls_key_free(box);
	srv_stop(&s);
}

/* SIGTERM with changes the disk cannot take: exit status 1, and the log says so. */
static void test_stop_save_fails(void **state)
{
	struct srv s;
	struct cli a;
	int status = -1;

	(void)state;
	if (!start_with_seam(&s))
		skip();
	cli_login(&a, &s, "Larder"); /* bound and saved */
	assert_string_not_equal(a.registered, "");
	disk_full(true);
	cli_close(&a); /* its last seen time: a change to save */
	cli_login(&a, &s, "Larder");
	cli_close(&a);
	kill(s.pid, SIGTERM);
	for (int i = 0; i < 2000 && waitpid(s.pid, &status, WNOHANG) != s.pid; i++)
		usleep(10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(srv_log(&s), "stopping with the nick registry not saved"));
	assert_non_null(strstr(srv_log(&s), "No space left on device"));
	disk_full(false);
}

/* Run $INTERCOM with args (NULL-terminated) as uid (0: as we are; else through
 * setpriv, as the service's user), its output into out; returns its exit status. */
static int box_run(uid_t uid, char *out, size_t size, ...)
{
	char ids[32], *argv[20];
	struct proc p;
	int n = 0, st;
	va_list ap;

	snprintf(ids, sizeof(ids), "%u", (unsigned)uid);
	if (uid) {
		static char *const su[] = {"setpriv", "--reuid", NULL,
					   "--regid", NULL,	 "--clear-groups"};

		memcpy(argv, su, sizeof(su));
		argv[2] = argv[4] = ids;
		n = 6;
	}
	argv[n++] = getenv("INTERCOM");
	va_start(ap, size);
	while (n < 19 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	proc_start(&p, argv);
	st = proc_wait(&p, WAIT_MS);
	snprintf(out, size, "%s", proc_log(&p));
	unlink(p.log);
	return st;
}

static void assert_owner(const char *d, const char *name, uid_t uid)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, uid);
}

/* sudo intercom --fingerprint and --forget-server on a packaged layout (a state
 * directory of the service's user, 0700): the files stay that user's, and the box run
 * as that user reads its key and known_servers and can change them. */
static void test_root_keeps_owner(void **state)
{
	char d[80], path[120], out[4096], fp[128];
	const char *other =
	    "sha256:"
	    "00000000000000000000000000000000000000000000000000000000000000"
	    "00";
	FILE *f;

	(void)state;
	if (geteuid() != 0 || !getenv("INTERCOM")) {
		print_message("needs root and $INTERCOM: the owner is not tested\n");
		skip();
	}
	snprintf(d, sizeof(d), "%s-box", dir);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chown(d, NOBODY_UID, NOBODY_UID), 0);
	snprintf(path, sizeof(path), "%s/known_servers", d);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "kitchen.local:6060 %s\nhall.local:6060 %s\n", other, other);
	fclose(f);
	assert_int_equal(chown(path, NOBODY_UID, NOBODY_UID), 0);
	/* as root: made, and forgotten */
	assert_int_equal(
	    box_run(0, fp, sizeof(fp), "--state-dir", d, "--fingerprint", NULL), 0);
	assert_int_equal(strncmp(fp, "sha256:", 7), 0);
	assert_owner(d, "key.pem", NOBODY_UID);
	assert_owner(d, "cert.pem", NOBODY_UID);
	assert_int_equal(box_run(0, out, sizeof(out), "--state-dir", d, "--forget-server",
				 "kitchen.local", NULL),
			 0);
	assert_non_null(strstr(out, "forgot 1 key(s)"));
	assert_owner(d, "known_servers", NOBODY_UID);
	/* as the service's user: the same key read, known_servers read and written */
	assert_int_equal(box_run(NOBODY_UID, out, sizeof(out), "--state-dir", d,
				 "--fingerprint", NULL),
			 0);
	assert_string_equal(out, fp);
	assert_int_equal(box_run(NOBODY_UID, out, sizeof(out), "--state-dir", d,
				 "--forget-server", "hall.local", NULL),
			 0);
	assert_non_null(strstr(out, "forgot 1 key(s)"));
	state_dir_remove(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_crash_after_registered, reset, cleanup),
	    cmocka_unit_test_setup_teardown(test_stop_undoes_unfinished, reset, cleanup),
	    cmocka_unit_test_setup_teardown(test_full_disk, reset, cleanup),
	    cmocka_unit_test_setup_teardown(test_stop_save_fails, reset, cleanup),
	    cmocka_unit_test_setup(test_root_keeps_owner, reset),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
