/* The real box (intercom in files mode) against servers over TLS (protocol 1.1, section
 * 3): the server's key trusted on first use and kept across a restart of both; another
 * server on the same address and port, and a TLS proxy with a certificate of its own,
 * refused before a single line is sent; --forget-server; and at the most verbose level
 * no key, salt or password in any log. */
#include <errno.h>
#include <regex.h>
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

static char top[64], dir_a[96], dir_b[96], box[96], known[128];

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/itest-box-%d", (int)getpid());
	snprintf(dir_a, sizeof(dir_a), "%s/server-a", top);
	snprintf(dir_b, sizeof(dir_b), "%s/server-b", top);
	snprintf(box, sizeof(box), "%s/box", top);
	snprintf(known, sizeof(known), "%s/known_servers", box);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	state_dir_remove(top);
	return 0;
}

/* The fingerprint intercomd --fingerprint prints for state directory d. */
static const char *server_fp(const char *d, char *out)
{
	char buf[256];

	assert_int_equal(
	    srv_run(buf, sizeof(buf), "--fingerprint", "--state-dir", d, NULL), 0);
	buf[strcspn(buf, "\n")] = '\0';
	assert_int_equal(strlen(buf), IDENT_FP_LEN);
	strcpy(out, buf);
	return out;
}

/* The box at 127.0.0.1:port for secs seconds, with its state in box and extra flags
 * (NULL-terminated); returns its log. */
static const char *run_box(unsigned port, const char *nick, const char *secs,
			   const char *const *extra)
{
	static char wav[128];
	const char *args[16] = {"--state-dir",	   box, "--exit-after", secs,
				"--playback-file", wav};
	struct proc p;
	int n = 6;

	snprintf(wav, sizeof(wav), "%s/heard.wav", top); /* files mode: no sound card */
	for (int i = 0; extra && extra[i] && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	client_start_in(&p, NULL, "127.0.0.1", port, nick, args);
	if (proc_wait(&p, 15000))
		fail_msg("the box failed:\n%s", proc_log(&p));
	return proc_log(&p);
}

static char *file_text(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_first_use_and_restart(void **state)
{
	char fp[IDENT_FP_LEN + 1], line[200];
	const char *log;
	struct srv a;

	(void)state;
	srv_start(&a, "--state-dir", dir_a, NULL);
	server_fp(dir_a, fp);
	log = run_box(a.port, "Door", "1.5", NULL);
	assert_non_null(strstr(log, "trusted on first use"));
	assert_non_null(strstr(log, fp));
	assert_non_null(strstr(log, "status: online #Lobby"));
	snprintf(line, sizeof(line), "127.0.0.1:%u %s\n", a.port, fp);
	assert_string_equal(file_text(known), line);
	/* both restart: the same key, trusted without a word, nothing added */
	srv_stop(&a);
	srv_restart(&a);
	log = run_box(a.port, "Door", "1.5", NULL);
	assert_null(strstr(log, "trusted on first use"));
	assert_null(strstr(log, "presented key"));
	assert_non_null(strstr(log, "status: online #Lobby"));
	assert_string_equal(file_text(known), line);
	assert_non_null(strstr(srv_log(&a), "Door (session 1) logged in"));
	srv_stop(&a);
}

/* Server B (another key) on server A's address and port: the box refuses it before
 * CONNECT, names both keys and what to do, and logs in again only once told to forget
 * A's key. */
static void test_other_server_refused(void **state)
{
	char fa[IDENT_FP_LEN + 1], fb[IDENT_FP_LEN + 1], port[16], out[512];
	const char *log;
	struct srv a, b;

	(void)state;
	srv_start(&a, "--state-dir", dir_a, NULL);
	server_fp(dir_a, fa);
	log = run_box(a.port, "Door", "1.2", NULL);
	assert_non_null(strstr(log, "status: online #Lobby"));
	srv_stop(&a);
	snprintf(port, sizeof(port), "%u", a.port);
	srv_start(&b, "--state-dir", dir_b, "--port", port, NULL);
	assert_int_equal(b.port, a.port);
	server_fp(dir_b, fb);
	assert_string_not_equal(fa, fb);
	log = run_box(b.port, "Door", "1.5", NULL);
	assert_non_null(strstr(log, "presented key"));
	assert_non_null(strstr(log, fb));
	assert_non_null(strstr(log, fa));
	/* the command names the state directory (run by hand: no sudo) */
	snprintf(out, sizeof(out),
		 "run: intercom --state-dir %s --forget-server 127.0.0.1", box);
	assert_non_null(strstr(log, out));
	assert_null(strstr(log, "CONNECT"));
	assert_null(strstr(log, "status: online"));
	/* B saw a handshake and not one line */
	assert_null(strstr(srv_log(&b), "logged in"));
	/* forget A's key: B is trusted on first use */
	{
		char *argv[] = {getenv("INTERCOM"), "--state-dir", box,
				"--forget-server",  "127.0.0.1",   NULL};
		struct proc p;

		proc_start(&p, argv);
		assert_int_equal(proc_wait(&p, 5000), 0);
		snprintf(out, sizeof(out), "%s", proc_log(&p));
		assert_non_null(strstr(out, "forgot 1 key(s) of 127.0.0.1"));
	}
	assert_null(strstr(file_text(known), fa));
	log = run_box(b.port, "Door", "1.5", NULL);
	assert_non_null(strstr(log, "trusted on first use"));
	assert_non_null(strstr(log, "status: online #Lobby"));
	assert_non_null(strstr(file_text(known), fb));
	srv_stop(&b);
}

/* A stand-in with a certificate of its own (a TLS proxy, or another machine): the box,
 * pinned by known_servers or by server_fingerprint, makes the handshake and sends not
 * one byte after it. */
static void test_proxy_refused(void **state)
{
	char fa[IDENT_FP_LEN + 1], entry[200];
	unsigned port;
	int rfd, got = -2;
	const char *log;
	pid_t pid;
	FILE *f;

	(void)state;
	/* A's key as first trusted for the stand-in's address and port */
	server_fp(dir_a, fa);
	pid = htls_stand_in(&port, &rfd, 2500);
	snprintf(entry, sizeof(entry), "127.0.0.1:%u %s\n", port, fa);
	mkdir(box, 0700);
	f = fopen(known, "w");
	assert_non_null(f);
	fputs(entry, f);
	fclose(f);
	log = run_box(port, "Door", "1.5", NULL);
	assert_non_null(strstr(log, "presented key"));
	assert_int_equal(read(rfd, &got, sizeof(got)), (int)sizeof(got));
	assert_int_equal(got, 0); /* a handshake, then nothing: no CONNECT */
	close(rfd);
	waitpid(pid, NULL, 0);
	assert_string_equal(file_text(known), entry); /* not replaced */
	/* server_fingerprint in the config: the same */
	{
		const char *pin[] = {"--server-fingerprint", fa, NULL};

		unlink(known);
		pid = htls_stand_in(&port, &rfd, 2500);
		log = run_box(port, "Door", "1.5", pin);
		assert_non_null(strstr(log, "but server_fingerprint is"));
		assert_int_equal(read(rfd, &got, sizeof(got)), (int)sizeof(got));
		assert_int_equal(got, 0);
		close(rfd);
		waitpid(pid, NULL, 0);
		assert_string_equal(file_text(known), ""); /* a pin writes nothing */
	}
}

/* 88 hex digits in a row: a voice key and salt as the VOICE line writes them. */
static bool has_key_hex(const char *log)
{
	regex_t re;
	bool found;

	assert_int_equal(regcomp(&re, "[0-9a-f]{88}", REG_EXTENDED | REG_NOSUB), 0);
	found = regexec(&re, log, 0, NULL, 0) == 0;
	regfree(&re);
	return found;
}

/* Two boxes talking, everything at --verbose: the keys were on the wire (inside TLS),
 * never in a log; nor a password; nor the private keys. */
static void test_no_secrets_in_logs(void **state)
{
	static char in[64], out[64], talk_log[1 << 16], ear_log[1 << 16];
	const char *t_args[] = {"--capture-file", in,		"--talk-after", "0.6",
				"--talk-for",	  "1",		"--exit-after", "2.2",
				"--verbose",	  "--password", "s3cret-pass",	NULL};
	const char *e_args[] = {"--playback-file", out, "--exit-after", "2.6",
				"--verbose",	   NULL};
	struct proc talk, ear;
	struct srv a;
	char *key;

	(void)state;
	snprintf(in, sizeof(in), "/tmp/itest-box-in-%d.wav", (int)getpid());
	snprintf(out, sizeof(out), "/tmp/itest-box-out-%d.wav", (int)getpid());
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd),
			 "sox -n -q -r 48000 -c 1 -b 16 %s synth 2 sine 440", in);
		if (system(cmd))
			skip(); /* sox is one of the test command's packages */
	}
	srv_start(&a, "--state-dir", dir_a, "--verbose", NULL);
	client_start(&ear, &a, "Ear", e_args);
	proc_wait_log(&ear, 0, "status: online #Lobby",
		      WAIT_MS); /* hears from the start */
	client_start(&talk, &a, "Mouth", t_args);
	assert_int_equal(proc_wait(&talk, 15000), 0);
	snprintf(talk_log, sizeof(talk_log), "%s", proc_log(&talk));
	assert_int_equal(proc_wait(&ear, 15000), 0);
	snprintf(ear_log, sizeof(ear_log), "%s", proc_log(&ear));
	srv_stop(&a);
	/* the lines were there, and were shown without their secrets */
	assert_non_null(strstr(talk_log, "< VOICE: "));
	assert_non_null(strstr(talk_log, "chacha20-poly1305 <keys>"));
	assert_non_null(strstr(talk_log, "1.2.0 \"<password>\""));
	assert_true(log_value(ear_log, "received ") > 20); /* voice crossed */
	assert_false(has_key_hex(talk_log));
	assert_false(has_key_hex(ear_log));
	assert_false(has_key_hex(srv_log(&a)));
	assert_null(strstr(talk_log, "s3cret-pass"));
	assert_null(strstr(srv_log(&a), "s3cret-pass"));
	/* the server's private key, as stored, in no log */
	{
		char path[160], *b64;

		snprintf(path, sizeof(path), "%s/key.pem", dir_a);
		key = file_text(path);
		b64 = strchr(key, '\n');
		assert_non_null(b64);
		b64[1 + 40] = '\0'; /* the first 40 base64 characters */
		assert_null(strstr(srv_log(&a), b64 + 1));
	}
	unlink(in);
	unlink(out);
}

/* The server password: a box with the wrong one is told and shows the security
 * pattern; with the right one it logs in. */
static void test_password(void **state)
{
	const char *wrong[] = {"--password", "door kode", NULL};
	const char *right[] = {"--password", "door code", NULL};
	const char *log;
	struct srv a;

	(void)state;
	srv_start(&a, "--state-dir", dir_a, "--server-password", "door code", NULL);
	log = run_box(a.port, "Door", "1.5", wrong);
	assert_non_null(strstr(log, "the server wants another password: set password"));
	assert_null(strstr(log, "status: online"));
	log = run_box(a.port, "Door", "1.5", right);
	assert_non_null(strstr(log, "status: online #Lobby"));
	srv_stop(&a);
	assert_null(strstr(srv_log(&a), "door code"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_use_and_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_server_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_proxy_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_secrets_in_logs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
