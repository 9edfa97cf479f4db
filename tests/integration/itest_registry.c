/* Nick registration (protocol 1.1, section 3) against the real intercomd: REGISTERED on
 * a nick's first login, NICK_REGISTERED for another key, a binding kept only once its
 * PONG came, four nicks a box, registration = closed, guests, --tls off, and the registry
 * managed offline with intercomd --registry, its file surviving restarts. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_tls.h"
#include "ident.h"

static char dir[64];
static struct srv srv;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/itest-reg-%d", (int)getpid());
	srv_start(&srv, "--tls", "on", "--state-dir", dir, "--name", "Reg", NULL);
	return 0;
}

/* Each test starts as the harness does (a failed one may leave a setting behind). */
static int reset(void **state)
{
	(void)state;
	harness_key = NULL;
	harness_anon = harness_registered = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	state_dir_remove(dir);
	return 0;
}

/* CONNECT as nick over c, up to ACCEPT and the line after it. */
static const char *connect_line(struct cli *c, const char *nick)
{
	cli_send(c, "CONNECT: \"%s\" \"\" 1.1.0", nick);
	return cli_expect_prefix(c, "");
}

/* intercomd --registry ... on d: its exit status, what it printed into out. */
static int registry(char *out, size_t size, const char *d, const char *a, const char *b,
		    const char *c)
{
	return srv_run(out, size, "--state-dir", d, "--registry", a, b, c, NULL);
}

/* The first login binds the nick (REGISTERED after ACCEPT, naming the key); the same key
 * logs in again without it, in any case; another key is refused in any case. */
static void test_first_login_binds(void **state)
{
	struct cli a, b;
	char fp[IDENT_FP_LEN + 1], want[160];

	(void)state;
	cli_login(&a, &srv, "Gate");
	snprintf(want, sizeof(want), "REGISTERED: Gate %s",
		 harness_fp_of(harness_nick_key("Gate"), fp));
	assert_string_equal(a.registered, want);
	cli_close(&a);
	cli_login(&a, &srv, "gate");
	assert_string_equal(a.registered, ""); /* bound already: nothing new */
	cli_connect(&b, &srv);		       /* another box */
	snprintf(b.nick, sizeof(b.nick), "GATE");
	assert_string_equal(connect_line(&b, "GATE"),
			    "ERROR NICK_REGISTERED: this nick belongs to another box: "
			    "choose another");
	cli_close(&a);
	cli_close(&b);
}

/* A login that never sends its PONG binds nothing: another box may take the nick; a cut
 * off first login of the same box is completed by its next. */
static void test_binding_needs_pong(void **state)
{
	struct cli a, b;
	void *k1 = htls_key_new(), *k2 = htls_key_new();
	char fp[IDENT_FP_LEN + 1], want[160];

	(void)state;
	harness_key = k1;
	harness_registered = true;
	cli_connect(&a, &srv);
	snprintf(a.nick, sizeof(a.nick), "Porch");
	assert_string_equal(connect_line(&a, "Porch"), "ACCEPT: Reg");
	snprintf(want, sizeof(want), "REGISTERED: Porch %s", harness_fp_of(k1, fp));
	cli_expect(&a, want);
	cli_close(&a); /* no PONG */
	harness_key = k2;
	harness_registered = false;
	cli_login(&b, &srv, "Porch");
	snprintf(want, sizeof(want), "REGISTERED: Porch %s", harness_fp_of(k2, fp));
	assert_string_equal(b.registered, want);
	cli_close(&b);
	/* the same box cut off and back before its first session went: completed */
	harness_key = k1;
	cli_connect(&a, &srv);
	snprintf(a.nick, sizeof(a.nick), "Shed");
	assert_string_equal(connect_line(&a, "Shed"), "ACCEPT: Reg");
	cli_login(&b, &srv, "Shed");
	snprintf(want, sizeof(want), "REGISTERED: Shed %s", harness_fp_of(k1, fp));
	assert_string_equal(b.registered, want);
	cli_expect_prefix(&a, "VOICE: ");
	cli_expect_prefix(&a, "PING: ");
	cli_expect(&a, "ERROR REPLACED: logged in again from the same box");
	harness_key = k2;
	cli_close(&a);
	cli_connect(&a, &srv);
	snprintf(a.nick, sizeof(a.nick), "Shed");
	assert_string_equal(connect_line(&a, "Shed"),
			    "ERROR NICK_REGISTERED: this nick belongs to another box: "
			    "choose another");
	harness_key = NULL;
	cli_close(&a);
	cli_close(&b);
	htls_key_free(k1);
	htls_key_free(k2);
}

/* Four nicks a box; the fifth is refused and, asked for again and again, never blocks
 * the box's address (not a failed login). */
static void test_four_nicks(void **state)
{
	struct cli c[4], d;
	void *k = htls_key_new();
	char nick[24];

	(void)state;
	harness_key = k;
	for (int i = 0; i < 4; i++) {
		snprintf(nick, sizeof(nick), "Persona%d", i);
		cli_login_from(&c[i], &srv, nick, "127.0.0.9");
		assert_non_null(strstr(c[i].registered, nick));
	}
	cli_connect_from(&d, &srv, "127.0.0.9");
	snprintf(d.nick, sizeof(d.nick), "Persona4");
	for (int i = 0; i < 12; i++)
		assert_string_equal(
		    connect_line(&d, "Persona4"),
		    "ERROR NICK_REGISTERED: this box has 4 nicks already");
	cli_close(&c[0]);
	cli_login_from(&c[0], &srv, "Persona0", "127.0.0.9"); /* not blocked */
	harness_key = NULL;
	for (int i = 0; i < 4; i++)
		cli_close(&c[i]);
	cli_close(&d);
	htls_key_free(k);
}

/* A guest may use a nick nobody owns and binds none; a registered one is refused. */
static void test_guests(void **state)
{
	struct srv g;
	struct cli c, d;
	char gdir[80];

	(void)state;
	snprintf(gdir, sizeof(gdir), "%s-guests", dir);
	srv_start(&g, "--guests", "yes", "--state-dir", gdir, NULL);
	cli_login(&d, &g, "Owner");
	harness_anon = true;
	cli_login(&c, &g, "Visitor");
	assert_string_equal(c.registered, "");
	cli_close(&c);
	cli_connect(&c, &g);
	snprintf(c.nick, sizeof(c.nick), "Owner");
	assert_string_equal(connect_line(&c, "owner"),
			    "ERROR NICK_REGISTERED: this nick belongs to another box: "
			    "choose another");
	harness_anon = false;
	cli_close(&c);
	cli_login(&c, &g, "Visitor"); /* a box may take what the guest used */
	assert_non_null(strstr(c.registered, "REGISTERED: Visitor sha256:"));
	cli_close(&c);
	cli_close(&d);
	srv_stop(&g);
	state_dir_remove(gdir);
}

/* The offline commands: add, list, remove, their refusals, and none while a server
 * holds the directory. */
static void test_registry_commands(void **state)
{
	char odir[80], out[2048], fp[IDENT_FP_LEN + 1], line[200];
	void *k = htls_key_new();
	struct srv p;

	(void)state;
	harness_fp_of(k, fp);
	snprintf(odir, sizeof(odir), "%s-offline", dir);
	assert_int_equal(registry(out, sizeof(out), odir, "list", NULL, NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(registry(out, sizeof(out), odir, "add", "Kitchen", fp), 0);
	snprintf(line, sizeof(line), "registered Kitchen (%s)\n", fp);
	assert_string_equal(out, line);
	assert_int_equal(registry(out, sizeof(out), odir, "list", NULL, NULL), 0);
	snprintf(line, sizeof(line), "Kitchen %s - -\n", fp);
	assert_string_equal(out, line);
	/* refusals: exit 2, the file untouched */
	assert_int_equal(registry(out, sizeof(out), odir, "add", "kitchen", fp), 2);
	assert_non_null(strstr(out, "is registered already"));
	assert_int_equal(registry(out, sizeof(out), odir, "add", "bad nick", fp), 2);
	assert_int_equal(registry(out, sizeof(out), odir, "add", "Hall", "sha256:12"), 2);
	assert_non_null(strstr(out, "is not a fingerprint"));
	assert_int_equal(registry(out, sizeof(out), odir, "remove", "Nobody", NULL), 2);
	assert_non_null(strstr(out, "Nobody is not in the registry"));
	assert_int_equal(registry(out, sizeof(out), odir, "frobnicate", NULL, NULL), 2);
	/* while a server runs on it */
	srv_start(&p, "--state-dir", odir, NULL);
	assert_int_equal(registry(out, sizeof(out), odir, "remove", "Kitchen", NULL), 2);
	assert_non_null(strstr(out, "stop intercomd first"));
	srv_stop(&p);
	assert_int_equal(registry(out, sizeof(out), odir, "remove", "KITCHEN", NULL), 0);
	snprintf(line, sizeof(line), "removed Kitchen (%s)\n", fp);
	assert_string_equal(out, line);
	assert_int_equal(registry(out, sizeof(out), odir, "list", NULL, NULL), 0);
	assert_string_equal(out, "");
	state_dir_remove(odir);
	htls_key_free(k);
}

/* registration = closed: only nicks already in the registry (added offline) log in;
 * others are NOT_REGISTERED and count as failed logins. The file keeps the bindings,
 * their first and last seen times, across a restart; a damaged file stops the server. */
static void test_closed_and_file(void **state)
{
	char cdir[80], out[2048], fp[IDENT_FP_LEN + 1], path[120];
	struct srv p;
	struct cli c;
	FILE *f;

	(void)state;
	snprintf(cdir, sizeof(cdir), "%s-closed", dir);
	harness_fp_of(harness_nick_key("Lift"), fp);
	assert_int_equal(registry(out, sizeof(out), cdir, "add", "Lift", fp), 0);
	srv_start(&p, "--state-dir", cdir, "--registration", "closed", NULL);
	cli_login(&c, &p, "lift");
	assert_string_equal(c.registered, ""); /* bound offline already */
	cli_close(&c);
	cli_connect(&c, &p);
	snprintf(c.nick, sizeof(c.nick), "Stranger");
	assert_string_equal(connect_line(&c, "Stranger"),
			    "ERROR NOT_REGISTERED: this server lets registered nicks in "
			    "only: ask its admin (intercomd --registry add)");
	cli_close(&c);
	srv_stop(&p);
	assert_non_null(strstr(srv_log(&p), "logins: 1 failed, 0 blocked"));
	/* the login's times are in the file (written at the latest when it stopped) */
	assert_int_equal(registry(out, sizeof(out), cdir, "list", NULL, NULL), 0);
	assert_true(!strncmp(out, "Lift ", 5) && strlen(out) == 5 + IDENT_FP_LEN + 43);
	assert_non_null(strstr(out, "Z 20"));
	assert_null(strstr(out, " -"));
	/* open again: the binding survived the restart */
	srv_start(&p, "--state-dir", cdir, NULL);
	cli_connect(&c, &p);
	snprintf(c.nick, sizeof(c.nick), "Lift");
	assert_string_equal(connect_line(&c, "Lift"),
			    "ERROR NICK_REGISTERED: this nick belongs to another box: "
			    "choose another");
	cli_close(&c);
	srv_stop(&p);
	snprintf(path, sizeof(path), "%s/registry", cdir);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("Broken line\n", f);
	fclose(f);
	assert_int_equal(srv_run(out, sizeof(out), "--state-dir", cdir, "--port", "0",
				 "--bind", "127.0.0.1", NULL),
			 2);
	assert_non_null(strstr(out, "registry:4: not \"NICK sha256:... FIRST LAST\""));
	state_dir_remove(cdir);
}

/* --tls off is protocol 1.0: the registry is ignored, nicks first come first served. */
static void test_tls_off_ignores(void **state)
{
	struct srv p;
	struct cli c;

	(void)state;
	srv_start(&p, "--tls", "off", "--state-dir", dir, NULL);
	cli_login(&c, &p, "Gate"); /* registered to a key over TLS */
	assert_string_equal(c.registered, "");
	cli_close(&c);
	srv_stop(&p);
}

/* The server's temporary file in d (a save under way): the pid in its name, or 0. */
static long save_under_way(const char *d)
{
	DIR *dh = opendir(d);
	struct dirent *e;
	long pid = 0;

	assert_non_null(dh);
	while (!pid && (e = readdir(dh)))
		if (!strncmp(e->d_name, ".tmp.", 5))
			pid = atol(e->d_name + 5);
	closedir(dh);
	return pid;
}

/* How many sockets process pid has open. */
static int sockets_of(long pid)
{
	char path[64], link[96], target[128];
	struct dirent *e;
	DIR *dh;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	dh = opendir(path);
	assert_non_null(dh);
	while ((e = readdir(dh))) {
		ssize_t len;

		snprintf(link, sizeof(link), "%s/%.20s", path, e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += !strncmp(target, "socket:", 7);
		}
	}
	closedir(dh);
	return n;
}

static bool file_has(const char *path, const char *text)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* A disk slow to sync (an SD card: hundreds of ms, here as long as the test holds it)
 * holds up only the registry's save, made by a child process, and the login whose new
 * binding it writes: meanwhile the server answers a logged-in box and logs in a box
 * whose nick is bound already; the new nick's box gets its answer, REGISTERED, once the
 * disk let go and the file has its binding. */
static char bg_dir[64], bg_hold[96];
static struct srv bg;

/* Whatever happened: the disk lets go, the server is gone. */
static int bg_teardown(void **state)
{
	(void)state;
	if (!bg_dir[0])
		return 0; /* skipped */
	unlink(bg_hold);
	if (bg.pid > 0 && kill(bg.pid, 0) == 0)
		srv_stop(&bg);
	state_dir_remove(bg_dir);
	return 0;
}

static void test_save_beside_the_loop(void **state)
{
	const char *lib = getenv("HOLDFSYNC_LIB"), *asan = getenv("ASAN_OPTIONS");
	char *sdir = bg_dir, *hold = bg_hold, path[96], opts[512];
	struct srv *s = &bg;
	struct cli a, b, c;
	long pid = 0;
	FILE *f;

	(void)state;
	if (!lib || getenv("INTERCOMD_WRAP"))
		skip(); /* built beside the tests; valgrind does its own preloading */
	snprintf(bg_dir, sizeof(bg_dir), "/tmp/itest-regbg-%d", (int)getpid());
	snprintf(bg_hold, sizeof(bg_hold), "%s.hold", sdir);
	snprintf(path, sizeof(path), "%s/registry", sdir);
	/* the seam goes first in the library list, which ASan would refuse */
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "",
		 asan ? ":" : "");
	setenv("LD_PRELOAD", lib, 1);
	setenv("HOLD_FSYNC", hold, 1);
	setenv("ASAN_OPTIONS", opts, 1);
	srv_start(s, "--tls", "on", "--state-dir", sdir, NULL); /* its key synced */
	unsetenv("LD_PRELOAD");
	if (asan)
		setenv("ASAN_OPTIONS", asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	cli_login(&a, s, "Cellar"); /* bound and saved, the disk quick */
	assert_string_not_equal(a.registered, "");
	cli_login(&b, s, "Loft");
	cli_close(&b);
	f = fopen(hold, "w"); /* from now on fsync waits */
	assert_non_null(f);
	fclose(f);
	cli_connect_as(&b, s, "Attic", NULL);
	cli_send(&b, "CONNECT: \"Attic\" \"\" 1.1.0");
	/* a new binding: the save starts at once, and waits on the disk */
	for (int i = 0; i < 800 && !pid; i++) {
		usleep(10000);
		pid = save_under_way(sdir);
	}
	assert_true(pid > 0);
	assert_int_not_equal(pid, (long)s->pid); /* written by another process */
	/* which holds none of the clients' sockets while the disk keeps it waiting */
	assert_int_equal(sockets_of(pid), 0);
	/* the server goes on: a PING answered, a box whose nick is bound logged in */
	cli_send(&a, "PING: held");
	cli_wait_for(&a, "PONG: held"); /* lists of #Lobby may come first */
	cli_login(&c, s, "Loft");
	assert_string_equal(c.registered, ""); /* nothing new: no wait */
	/* Attic's answer waits for its binding to be on disk */
	cli_expect_silence(&b, 100);
	assert_false(file_has(path, "Attic "));
	unlink(hold);
	harness_registered = true;
	cli_expect_prefix(&b, "ACCEPT: ");
	assert_true(file_has(path, "Attic ")); /* on disk before the answer */
	cli_expect_prefix(&b, "REGISTERED: Attic sha256:");
	cli_expect_prefix(&b, "VOICE: ");
	cli_send(&b, "PONG: %s", cli_expect_prefix(&b, "PING: ") + 6);
	cli_expect(&b, "JOINED: #Lobby"); /* logged in: the binding kept */
	harness_registered = false;
	cli_close(&a);
	cli_close(&b);
	cli_close(&c);
	srv_stop(s); /* asserts a clean exit */
	s->pid = 0;
	assert_true(file_has(path, "Attic "));
}

/* --registry remove a b c (c NULL: two). */
static int remove3(char *out, size_t size, const char *d, const char *a, const char *b,
		   const char *c)
{
	return srv_run(out, size, "--state-dir", d, "--registry", "remove", a, b, c,
		       NULL);
}

/* --registry list until its output holds every one of want (the running server saves
 * its bindings on its own schedule); returns the output. */
static const char *list_until(const char *d, const char *const *want, size_t n)
{
	static char out[4096];
	uint64_t end = now_ms() + 3 * WAIT_MS;
	size_t have;

	do {
		/* beside a running server: read only, exit 0 */
		assert_int_equal(registry(out, sizeof(out), d, "list", NULL, NULL), 0);
		for (have = 0; have < n && strstr(out, want[have]); have++)
			;
		if (have == n)
			return out;
		usleep(20000); /* polling a file: no order is assumed */
	} while (now_ms() < end);
	fail_msg("--registry list never showed %s:\n%s", want[have], out);
	return NULL;
}

/* --registry list while the server runs (the server goes on, logins too); a change
 * meanwhile refused with the commands to stop and start it; then, stopped, remove of
 * three nicks, of none when one is unknown, and --key releasing all of one key's. */
static void test_registry_list_running_and_bulk(void **state)
{
	char rdir[80], out[2048], fp1[IDENT_FP_LEN + 1], fp2[IDENT_FP_LEN + 1];
	char want[3][120];
	const char *const wantp[] = {want[0], want[1], want[2]};
	void *k1 = htls_key_new();
	struct srv p;
	struct cli a, b, c;

	(void)state;
	snprintf(rdir, sizeof(rdir), "%s-bulk", dir);
	harness_fp_of(k1, fp1);
	harness_fp_of(harness_nick_key("Shed"), fp2);
	srv_start(&p, "--state-dir", rdir, NULL);
	harness_key = k1; /* one box, two nicks */
	cli_login(&a, &p, "Hall");
	cli_login(&b, &p, "Porch");
	harness_key = NULL;
	cli_login(&c, &p, "Shed");
	snprintf(want[0], sizeof(want[0]), "Hall %s ", fp1);
	snprintf(want[1], sizeof(want[1]), "Porch %s ", fp1);
	snprintf(want[2], sizeof(want[2]), "Shed %s ", fp2);
	list_until(rdir, wantp, 3);
	/* the server did not notice: its sessions go on, a new box logs in */
	cli_send(&a, "PING: 1");
	cli_wait_for(&a, "PONG: 1");
	cli_close(&a);
	cli_login(&a, &p, "Attic");
	cli_close(&a);
	cli_close(&b);
	cli_close(&c);
	assert_int_equal(registry(out, sizeof(out), rdir, "remove", "Shed", NULL), 2);
	assert_non_null(
	    strstr(out, "stop intercomd first (sudo systemctl stop intercomd)"));
	assert_non_null(strstr(out, "then sudo systemctl start intercomd"));
	assert_non_null(strstr(out, "--registry list works while it runs"));
	srv_stop(&p);

	/* three at once */
	assert_int_equal(remove3(out, sizeof(out), rdir, "attic", "Shed", "Hall"), 0);
	assert_non_null(strstr(out, "removed Attic (sha256:"));
	assert_non_null(strstr(out, "removed Shed (sha256:"));
	assert_non_null(strstr(out, "removed Hall (sha256:"));
	assert_int_equal(registry(out, sizeof(out), rdir, "list", NULL, NULL), 0);
	assert_true(!strncmp(out, want[1], strlen(want[1])) && !strchr(out, '\n')[1]);
	/* one unknown: each named, none removed */
	assert_int_equal(remove3(out, sizeof(out), rdir, "Porch", "Nobody", "Ghost"), 2);
	assert_non_null(strstr(out, "Nobody is not in the registry"));
	assert_non_null(strstr(out, "Ghost is not in the registry"));
	assert_non_null(strstr(out, "nothing removed"));
	assert_int_equal(registry(out, sizeof(out), rdir, "list", NULL, NULL), 0);
	assert_non_null(strstr(out, want[1]));
	/* --key: every nick of one key, the other key's kept */
	assert_int_equal(registry(out, sizeof(out), rdir, "add", "Hall", fp1), 0);
	assert_int_equal(registry(out, sizeof(out), rdir, "add", "Shed", fp2), 0);
	assert_int_equal(registry(out, sizeof(out), rdir, "remove", "--key", fp1), 0);
	assert_non_null(strstr(out, "removed Hall ("));
	assert_non_null(strstr(out, "removed Porch ("));
	assert_null(strstr(out, "Shed"));
	assert_int_equal(registry(out, sizeof(out), rdir, "list", NULL, NULL), 0);
	assert_true(!strncmp(out, want[2], strlen(want[2])) && !strchr(out, '\n')[1]);
	/* refusals, exit 2, each saying what is wrong */
	assert_int_equal(registry(out, sizeof(out), rdir, "remove", "--key", fp1), 2);
	assert_non_null(strstr(out, "holds no nick in the registry"));
	assert_int_equal(registry(out, sizeof(out), rdir, "remove", "--key", "sha256:12"),
			 2);
	assert_non_null(strstr(out, "'sha256:12' is not a fingerprint"));
	assert_int_equal(registry(out, sizeof(out), rdir, "remove", "--key", NULL), 2);
	assert_non_null(strstr(out, "remove --key FINGERPRINT"));
	assert_int_equal(remove3(out, sizeof(out), rdir, "Shed", "bad nick", NULL), 2);
	assert_non_null(strstr(out, "'bad nick' is not a nick"));
	assert_int_equal(registry(out, sizeof(out), rdir, "list", NULL, NULL), 0);
	assert_non_null(strstr(out, want[2])); /* untouched by the refusals */
	state_dir_remove(rdir);
	htls_key_free(k1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_first_login_binds, reset),
	    cmocka_unit_test_setup(test_binding_needs_pong, reset),
	    cmocka_unit_test_setup(test_four_nicks, reset),
	    cmocka_unit_test_setup(test_guests, reset),
	    cmocka_unit_test_setup(test_registry_commands, reset),
	    cmocka_unit_test_setup(test_registry_list_running_and_bulk, reset),
	    cmocka_unit_test_setup(test_closed_and_file, reset),
	    cmocka_unit_test_setup(test_tls_off_ignores, reset),
	    cmocka_unit_test_setup_teardown(test_save_beside_the_loop, reset,
					    bg_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
