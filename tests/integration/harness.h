/* harness.h: run the real intercomd and drive it over real TCP and UDP sockets from
 * cmocka tests. Every helper asserts; a failed expectation fails the test. */
#ifndef IC_HARNESS_H
#define IC_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rtp.h"
#include "seqwin.h"
#include "vcrypt.h"

/* Generous: the same tests run under valgrind. Never a timing assertion. */
#define WAIT_MS 5000
/* valgrind runs intercomd 10 to 50 times slower; the server idles most of a test, so a
 * login (a TLS handshake, the bulk of its CPU) took 2 to 4 s on a busy machine */
#define HARNESS_SLOWDOWN 5

struct srv {
	pid_t pid;
	unsigned port, udp_port; /* as the server logged them */
	char portstr[16];
	const char *args[48]; /* as started, for srv_restart */
	char log[128];	      /* its stderr and stdout, copied to ours when it stops */
	bool plain;	      /* not started with --tls on: clients speak protocol 1.0 */
};

struct cli {
	int fd;
	void *ssl;	    /* the TLS session (SSL *); NULL over --tls off */
	char server_fp[80]; /* the server's key, as the handshake showed it */
	char from[16]; /* the loopback address it connects from (127.0.0.0/8: a host) */
	bool v6;       /* connected over IPv6 (::1), its voice too */
	char in[1 << 17];
	size_t in_len;
	char line[1 << 16];
	char nick[40];
	double tokens; /* client-side pacing under the server's line rate limit */
	uint64_t tokens_ms;
	/* voice */
	int ufd;
	unsigned uport;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	uint32_t ts;
	/* encrypted voice (TLS): this session's keys, the next counter, the window */
	struct vc *c2s, *s2c;
	uint64_t ctr;
	struct ctrwin win;
	struct vc_key c2s_key, s2c_key; /* kept for tests that seal by hand */
	/* the last "REGISTERED: ..." line (the nick bound to this key), which cli_recv
	 * takes out of the stream unless harness_registered is set; "" for none */
	char registered[160];
};

/* The client identity cli_connect presents over TLS: NULL (the default) makes a fresh
 * Ed25519 key for each connection (each a box of its own); set it (an EVP_PKEY * from
 * htls_key_new) for connections of one box. harness_anon: no client certificate. */
extern void *harness_key;
extern bool harness_anon;
/* cli_recv hands REGISTERED lines to the test too (default: kept in c->registered) */
extern bool harness_registered;
/* The key cli_login presents for nick when harness_key is NULL: one per nick (any
 * case) for this process, as a box keeps its own, so a registered nick logs in again
 * (an EVP_PKEY *, the harness's). */
void *harness_nick_key(const char *nick);
/* key's fingerprint ("sha256:..." as REGISTERED names it) into out (IDENT_FP_LEN + 1
 * bytes), failing the test when it has none; returns out. */
const char *harness_fp_of(void *key, char *out);

/* Start $INTERCOMD (under $INTERCOMD_WRAP, if set) on loopback with --port 0 and the
 * extra flags (NULL-terminated), and wait until it logs the ports it bound. Unless the
 * flags name one, its --state-dir is this test program's own (one identity for all its
 * servers, removed at exit). Its clients speak TLS when the flags say --tls on. */
void srv_start(struct srv *s, ...);
/* The same without --bind: the server's default, every address of both families. */
void srv_start_any(struct srv *s, ...);
/* This test program's state directory (made on first use, removed at exit): its
 * servers' identity and registry, and a box-NICK directory per box it starts. A server
 * started by hand must be given it (or one of its own), never the user's default. */
const char *harness_state_dir(void);
/* Remove a server's state directory (its key and certificate, then the directory). */
void state_dir_remove(const char *dir);
/* SIGTERM, wait; asserts a clean exit (status 0). */
void srv_stop(struct srv *s);
/* Run intercomd with args (NULL-terminated) to completion; returns its exit status and
 * copies what it printed (stdout and stderr) into out. */
int srv_run(char *out, size_t outlen, ...);

void cli_connect(struct cli *c, const struct srv *s);
/* While set, cli_connect opens the TCP connection alone, without a TLS handshake: for
 * tests of what happens before any byte (accept-time limits). */
extern bool harness_raw;
/* The same from another loopback address (another host, as the server sees it: any of
 * 127.0.0.0/8); its voice socket (cli_udp_open) is bound to that address too. */
void cli_connect_from(struct cli *c, const struct srv *s, const char *from);
/* Over IPv6 to [::1]; false (nothing open) where the host has no IPv6 loopback. */
bool cli_connect6(struct cli *c, const struct srv *s);
/* SO_RCVBUF for the TCP sockets cli_connect opens from now on (0: the kernel's). */
extern int harness_rcvbuf;
void cli_close(struct cli *c);
void cli_send(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raw bytes, no terminator added. Paced, like cli_send, to stay under the server's
 * line rate limit (each LF counts). */
void cli_send_raw(struct cli *c, const void *data, size_t len);
/* Raw bytes, not paced (for flood tests); over TLS in records of at most `record`
 * bytes (cli_send_records; 0: as large as TLS allows). */
void cli_send_records(struct cli *c, const void *data, size_t len, size_t record);
void cli_send_unpaced(struct cli *c, const void *data, size_t len);
/* The next line without LF, or NULL when none arrives within ms (or on close). */
const char *cli_recv(struct cli *c, int ms);
/* Assert the next line is exactly `line`. */
void cli_expect(struct cli *c, const char *line);
/* Assert the next line starts with prefix; returns the line. */
const char *cli_expect_prefix(struct cli *c, const char *prefix);
/* Assert no line arrives within ms. */
void cli_expect_silence(struct cli *c, int ms);
/* Assert the server closes the connection within WAIT_MS (lines before it are skipped).
 */
void cli_expect_closed(struct cli *c);
/* True if the server closed the connection within ms (lines before it are skipped). */
bool cli_closed(struct cli *c, int ms);
/* CONNECT (1.1.0 over TLS, 1.0.0 otherwise), check ACCEPT/VOICE/PING, PONG, and take
 * JOINED #Lobby and its USERLIST. */
/* cli_connect_from (from NULL: 127.0.0.1; "::1": IPv6) presenting nick's key
 * (harness_nick_key, unless harness_key or harness_anon says otherwise), for a test that
 * sends its own CONNECT for nick. */
void cli_connect_as(struct cli *c, const struct srv *s, const char *nick,
		    const char *from);
void cli_login(struct cli *c, const struct srv *s, const char *nick);
/* The same from another address (see cli_connect_from; "::1": over IPv6). */
void cli_login_from(struct cli *c, const struct srv *s, const char *nick,
		    const char *from);
/* The version cli_login's CONNECT names (NULL: 1.1.0 over TLS, 1.0.0 in the clear). */
extern const char *harness_version;
/* Assert `line` comes within ms, answering PINGs and skipping USERLISTs on the way; any
 * other line fails the test. */
void cli_expect_answering(struct cli *c, const char *line, int ms);
/* Skip lines until one equal to `line` (asserts it arrives). */
void cli_wait_for(struct cli *c, const char *line);

/* Voice: open the client's UDP socket (one per client; cli_udp_reopen gives a new port).
 */
void cli_udp_open(struct cli *c);
void cli_udp_reopen(struct cli *c);
/* Send an RTP packet with the client's ssrc and token, or over TLS sealed with its c2s
 * key under its next counter. */
void cli_voice(struct cli *c, const void *payload, size_t len, bool marker);
void cli_voice_raw(struct cli *c, const void *pkt, size_t len);
/* Receive one datagram into buf within ms; returns its length, or -1 if none. Over TLS
 * it is opened (buf: the RTP packet in clear) and must pass the tag and the counter
 * window (a failure fails the test); cli_voice_recv_raw returns it as it came. */
int cli_voice_recv_raw(struct cli *c, uint8_t *buf, size_t size, int ms);
int cli_voice_recv(struct cli *c, uint8_t *buf, size_t size, int ms);
/* Register the voice address: a keepalive, and assert its answer. */
void cli_voice_register(struct cli *c);

uint64_t now_ms(void);
/* How many times slower than native the server runs: HARNESS_SLOWDOWN under
 * $INTERCOMD_WRAP (valgrind), else 1. A test that sets the server's timers short (a
 * login timeout of 2 s) multiplies them, and its waits, by it, so that a login under
 * valgrind on a busy machine fits in the timeout while the order the test proves (the
 * ring times out before an answer, a silent client is dropped, an answering one is not)
 * stays the same. */
unsigned harness_slowdown(void);

/* A private PulseAudio (tests/support/pulse_air.sh, $PULSE_AIR) in dir, named
 * /tmp/itest-NAME-PID (dirlen bytes): its clocked null-sink devices for the boxes through
 * $HOME/.asoundrc, the server for paplay and parec. True when it runs; false when this
 * machine cannot run one (the script's 77: the caller skips). Fails the test otherwise.
 */
bool pulse_air_start(char *dir, size_t dirlen, const char *name);
/* Stop it (when started) and remove dir. Returns 0 or -1. */
int pulse_air_stop(const char *dir, bool started);

/* A child program with its stderr (and stdout) in a file. */
struct proc {
	pid_t pid;
	char log[128];
};
/* Start argv[0] (NULL-terminated argv) with output to a fresh log file. */
void proc_start(struct proc *p, char *const argv[]);
/* Wait up to ms for it to exit; returns its exit status (asserts that it exited). */
int proc_wait(struct proc *p, int ms);
/* Its log so far, in a static buffer. */
const char *proc_log(const struct proc *p);
/* proc_wait that fails the test, printing the child's log, unless it exited 0. */
void proc_wait_ok(struct proc *p, int ms);
/* Wait up to ms for `what` in p's log after byte `from` (0: anywhere): how tests order
 * processes (a box online before another talks), never a sleep. Returns the offset just
 * past it, for the next wait; fails the test, printing the log, when it never comes. */
size_t proc_wait_log(const struct proc *p, size_t from, const char *what, int ms);
/* Return once a box's own clock reads ms (it logs when it started, "audio clock started
 * at N ms", on now_ms's clock; --talk-after and --exit-after count from it): a fault
 * made at a point of the box's script, whenever the box got the CPU to start. */
void client_wait_clock(const struct proc *p, unsigned ms);
/* Start $INTERCOM --server 127.0.0.1:PORT --nick NICK extra... (NULL-terminated). */
void client_start(struct proc *p, const struct srv *s, const char *nick,
		  const char *const *extra);
/* The same with the server at host:port, the command after prefix (NULL-terminated, or
 * NULL: none), such as "ip netns exec NAME". */
void client_start_in(struct proc *p, const char *const *prefix, const char *host,
		     unsigned port, const char *nick, const char *const *extra);
/* The prefix that runs a box as the package does (intercom.service: Nice=-10), for
 * client_start_in: its sound is fed ahead of ordinary work on a busy machine. */
extern const char *const harness_deployed[];
/* The number after key in a log (asserts that key is there). */
unsigned long long log_value(const char *log, const char *key);
/* Assert that a box whose log is ear_log heard `sent` packets from one talker: at least
 * 95 % arrived ("received"), every one that arrived was played, late (after its
 * moment, concealed), dropped by the jitter buffer to catch up or still queued at exit,
 * and at least half were played. Lateness is the machine's scheduling more than ours: a
 * talker in files mode that a busy machine stalls for S ms sends S ms of packets at
 * once when it runs again, all of them late (91 of 300 in one run with both cores
 * oversubscribed, 19 at the suite's own load), so it is bounded loosely here; what was
 * heard is compared stretch by stretch by speech.h, and the jitter buffer's own figures
 * are bench/'s. Returns the packets played. */
#define HARNESS_QUEUED_MAX 10 /* packets a jitter buffer may hold at exit: 200 ms */
unsigned long long assert_heard(const char *ear_log, unsigned long long sent);
/* SIGKILL the server (a crash) and start it again on the same port and flags. */
void srv_kill9(struct srv *s);
void srv_restart(struct srv *s);
/* The running server's log so far (once stopped: all of it), in a static buffer. */
const char *srv_log(const struct srv *s);

#endif
