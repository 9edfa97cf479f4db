/* Fuzz: the TLS steps both ends take (common/tlsstep.c, protocol 1.1 section 3), in
 * process over an in-memory BIO pair: "me" steps through tlsstep as the server's
 * transport or the box does, the peer is a real OpenSSL endpoint whose records after
 * the handshake are sealed by hand with its own keys (bench/tlsforge.c), so the fuzzer
 * can send what no honest peer would. The first byte picks the role:
 *   0: me is the server, feeding a real hub with a nick registry (server/conn.c's path)
 *   1: me is the box, assembling lines as firmware/net.c does and answering PING
 *   2: me is the box, and the rest of the input is the server's answer to its hello
 *   3: me is the server, and the rest of the input is the client's hello
 * In roles 0 and 1 the fuzzer's records, each an op byte and its operands, are what the
 * peer does after the handshake:
 *   0: writes a length (2 bytes, at most 4096) of bytes as one record
 *   1: writes a length (1 byte) of raw bytes onto the wire, unsealed, mid-stream
 *   2: sends a KeyUpdate asking for one back
 *   3: lets time pass (1 byte: tenths of a second), and the hub's timers run
 *   4: sends a count (1 byte, at most 40) of empty records
 *   5: sends a warning alert (1 byte: its description)
 * After each, me runs read passes and the peer reads the answers.
 * Checks: a read pass hands over data at most IC_TLS_READS_PER_PASS times; when it stops
 * for want of the socket, nothing decrypted is left inside OpenSSL (select() could never
 * see it); every line the peer decrypts from the server is whole and within the
 * protocol's bound; at the end, an open connection still carries "PING: end" to its
 * answer (the server's PONG, the box's line), so no record boundary, KeyUpdate, empty
 * record or split line ever loses or garbles the line path, and after raw bytes on the
 * wire it never does (nothing unsealed, nor anything after it, is ever taken as data).
 * In roles 2 and 3 the handshake never completes, and a first byte that cannot start a
 * TLS record is reported as a plaintext answer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub.h"
#include "hubfake.h"
#include "ic_limits.h"
#include "ident.h"
#include "log.h"
#include "registry.h"
#include "tlsctx.h"
#include "tlsforge.h"
#include "tlsstep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define PAIR_BUF (1 << 20)

static void *sctx, *cctx;   /* me's, as both programs make them */
static void *fsctx, *fcctx; /* the peer's: the same, its traffic secrets recorded */
static char regdir[64];

static void *keys(bool server, bool forge)
{
	void *ctx = tlsforge_new_ctx(server, forge);

	if (!ctx)
		abort();
	return ctx;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_setup("fuzz_tls", LOG_ERR);
	sctx = keys(true, false);
	cctx = keys(false, false);
	fsctx = keys(true, true);
	fcctx = keys(false, true);
	/* the registry's directory: empty, never written (the hub only changes it in
	 * memory; reg_save is the server's) */
	snprintf(regdir, sizeof(regdir), "/tmp/fuzz-tls-%d", (int)getpid());
	mkdir(regdir, 0700);
	return 0;
}

struct run {
	bool server;	   /* me is the server (a hub behind it), else the box */
	struct hub *h;	   /* the server's */
	struct hubfake fk; /* its transport; its send op is replaced (tls_send) */
	struct reg *reg;
	SSL *me, *peer;
	BIO *peer_net; /* the peer's end: raw bytes written here reach me */
	struct tlsforge *forge;
	bool failed;  /* me's side of TLS ended the connection */
	bool ponged;  /* the end's answer arrived */
	bool tainted; /* raw bytes went onto the wire: the record stream is broken */
	uint64_t now;
	unsigned handed; /* sink calls in this pass */
	/* lines being assembled: the peer's (me the server) or me's (me the box) */
	char in[1 << 17];
	size_t in_len;
	bool in_discard;
};

static struct run *the_run;

static ssize_t tls_send(struct transport *t, const void *buf, size_t len)
{
	struct tlsstep_why why;
	size_t n = 0;
	enum tlsstep_io io = tlsstep_write(the_run->me, buf, len, &n, &why);

	(void)t;
	return io == TLSSTEP_DONE ? (ssize_t)n : io == TLSSTEP_FAILED ? -EPIPE : -EAGAIN;
}

static ssize_t no_recv(struct transport *t, void *buf, size_t len)
{
	(void)t, (void)buf, (void)len;
	return -EAGAIN;
}

static void no_close(struct transport *t, bool abort)
{
	(void)t, (void)abort;
}

static const struct transport_ops tls_ops = {no_recv, tls_send, no_close};

static bool open_now(const struct run *r)
{
	return !r->failed && (!r->server || r->fk.s);
}

/* One sealed record from the peer onto the wire. */
static void peer_record(struct run *r, uint8_t type, const void *p, size_t len)
{
	static uint8_t rec[4096 + TLSFORGE_OVERHEAD];
	size_t n = tlsforge_record(r->forge, type, p, len, rec);

	if (!n || BIO_write(r->peer_net, rec, (int)n) != (int)n)
		abort();
}

/* ---- lines, as the box takes them and as the peer reads the server's ---- */

/* The line in `in` up to nl: the box answers PING (me, through tlsstep), the peer
 * answers PING as a box does (so a CONNECT in the input logs in) and checks it. */
static void one_line(struct run *r, char *line, size_t l)
{
	char pong[64];

	if (!r->server) {
		struct tlsstep_why why;
		size_t n = 0;

		r->ponged |= l == 10 && !memcmp(line, "PING: end\n", 10);
		if (l > 6 && l < sizeof(pong) && !memcmp(line, "PING: ", 6)) {
			memcpy(pong, "PONG", 4);
			memcpy(pong + 4, line + 4, l - 4);
			if (tlsstep_write(r->me, pong, l, &n, &why) == TLSSTEP_DONE &&
			    n != l)
				abort(); /* a short line written as a part */
		}
		return;
	}
	if (l > IC_OUT_LINE_MAX || memchr(line, '\0', l))
		abort(); /* a line the server may never send */
	r->ponged |= l == 10 && !memcmp(line, "PONG: end\n", 10);
	if (l > 6 && l < sizeof(pong) && !memcmp(line, "PING: ", 6)) {
		memcpy(pong, "PONG", 4);
		memcpy(pong + 4, line + 4, l - 4);
		peer_record(r, 0x17, pong, l);
	}
}

static void take_lines(struct run *r)
{
	char *nl;

	while ((nl = memchr(r->in, '\n', r->in_len))) {
		size_t l = (size_t)(nl - r->in) + 1;

		if (!r->in_discard)
			one_line(r, r->in, l);
		r->in_discard = false;
		memmove(r->in, nl + 1, r->in_len - l);
		r->in_len -= l;
	}
	if (r->in_len >= IC_OUT_LINE_MAX) {
		if (r->server)
			abort(); /* a line longer than any the server may send */
		r->in_len = 0;	 /* the box drops it, as net.c does */
		r->in_discard = true;
	}
}

static int add_bytes(struct run *r, const char *buf, size_t len)
{
	if (len > sizeof(r->in) - r->in_len)
		abort();
	memcpy(r->in + r->in_len, buf, len);
	r->in_len += len;
	take_lines(r);
	return 0;
}

/* ---- me's read passes ---- */

static int to_hub(void *arg, const char *buf, size_t len)
{
	struct run *r = arg;

	r->handed++;
	hub_input(r->h, r->fk.s, buf, len, r->now);
	return 0;
}

static int to_box(void *arg, const char *buf, size_t len)
{
	struct run *r = arg;

	r->handed++;
	return add_bytes(r, buf, len);
}

/* Passes until me needs the socket; then nothing decrypted may be left. */
static void me_reads(struct run *r)
{
	for (int pass = 0; pass < 256 && open_now(r); pass++) {
		struct tlsstep_why why;
		enum tlsstep_io io;

		r->handed = 0;
		io = tlsstep_read(r->me, r->server ? to_hub : to_box, r, &why);
		if (r->handed > IC_TLS_READS_PER_PASS)
			abort(); /* a pass beyond its budget */
		if (io == TLSSTEP_FAILED) {
			if (why.end == TLSSTEP_NONE || !why.text[0])
				abort(); /* a failure must say why */
			r->failed = true;
			if (r->server)
				hub_hangup(r->h, r->fk.s, "TLS error");
			break;
		}
		if (io != TLSSTEP_DONE) {
			if (SSL_pending(r->me) > 0)
				abort(); /* decrypted bytes select() would never show */
			break;
		}
	}
	if (r->server && open_now(r))
		hub_flush(r->h, r->fk.s);
	if (r->server)
		hub_reap(r->h, hubfake_closed, &r->fk);
}

/* The peer reads what me sent (KeyUpdate answers, the server's lines). */
static void peer_reads(struct run *r)
{
	for (int i = 0; i < 4096; i++) {
		char buf[4096];
		size_t before = BIO_ctrl_pending(r->peer_net);
		int n = SSL_read(r->peer, buf, sizeof(buf));

		if (n > 0 && r->server)
			add_bytes(r, buf, (size_t)n);
		/* without auto-retry a KeyUpdate ends a read too: go on while it moves */
		if (n <= 0 && (SSL_get_error(r->peer, n) != SSL_ERROR_WANT_READ ||
			       BIO_ctrl_pending(r->peer_net) == before))
			break;
	}
	ERR_clear_error();
}

/* Both ways until nothing moves: the server's output can outgrow the pair's buffer. */
static void pump(struct run *r)
{
	me_reads(r);
	for (int i = 0; i < 64 && open_now(r); i++) {
		peer_reads(r);
		if (!r->server || !hub_pending(r->fk.s))
			break;
		hub_flush(r->h, r->fk.s);
		hub_reap(r->h, hubfake_closed, &r->fk);
	}
}

/* ---- setting up ---- */

static bool handshake(struct run *r)
{
	for (int i = 0; i < 16; i++) {
		struct tlsstep_why why;
		int p = SSL_do_handshake(r->peer);
		enum tlsstep_io io = tlsstep_handshake(r->me, &why);

		if (io == TLSSTEP_FAILED)
			return false;
		if (io == TLSSTEP_DONE && (p == 1 || SSL_do_handshake(r->peer) == 1))
			return true;
	}
	return false;
}

static void hub_up(struct run *r)
{
	struct hub_conf c = {"FuzzTls", 6060,  4,    15000, 45000, 30000, hubfake_rand,
			     0,		false, NULL, NULL,  false, NULL};
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
	char err[256];

	inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);
	if (reg_open(&r->reg, regdir, REG_SHARED, err, sizeof(err)))
		abort();
	c.reg = r->reg;
	hubfake_seed(1);
	hubfake_init(&r->fk);
	r->fk.tp.ops = &tls_ops;
	if (hub_new(&r->h, &c) || hub_open(r->h, &r->fk.tp, (struct sockaddr *)&peer,
					   sizeof(peer), 0, &r->fk.s))
		abort();
}

static void wire(struct run *r)
{
	BIO *me_net = NULL;

	r->me = SSL_new(r->server ? sctx : cctx);
	r->peer = SSL_new(r->server ? fcctx : fsctx);
	if (!r->me || !r->peer ||
	    !BIO_new_bio_pair(&me_net, PAIR_BUF, &r->peer_net, PAIR_BUF))
		abort();
	SSL_set_bio(r->me, me_net, me_net);
	SSL_set_bio(r->peer, r->peer_net, r->peer_net);
	if (r->server) {
		SSL_set_accept_state(r->me);
		SSL_set_connect_state(r->peer);
	} else {
		SSL_set_connect_state(r->me);
		SSL_set_accept_state(r->peer);
	}
}

/* ---- the peer's ops ---- */

/* want bytes after used of left, as many as there are */
static size_t take(size_t want, size_t used, size_t left)
{
	return used >= left ? 0 : want < left - used ? want : left - used;
}

static size_t op(struct run *r, const uint8_t *d, size_t left)
{
	uint8_t rec[64];
	size_t n, used = 1;

	switch (d[0] % 6) {
	case 0:
		used = 3;
		n = take(left >= 3 ? ((size_t)d[1] << 8 | d[2]) % 4097 : 0, used, left);
		if (n)
			peer_record(r, 0x17, d + used, n);
		used += n;
		break;
	case 1:
		used = 2;
		n = take(left >= 2 ? d[1] : 0, used, left);
		if (n)
			r->tainted |= BIO_write(r->peer_net, d + used, (int)n) > 0;
		used += n;
		break;
	case 2:
		n = tlsforge_key_update(r->forge, true, rec);
		if (!n || BIO_write(r->peer_net, rec, (int)n) != (int)n)
			abort();
		break;
	case 3:
		used = 2;
		r->now += left >= 2 ? (uint64_t)d[1] * 100 : 0;
		if (r->server) {
			hub_tick(r->h, r->now);
			/* the server's save of the registry, as if done: a login waiting
			 * for its binding to be on disk is answered */
			hub_reg_saved(r->h, UINT64_MAX, 0, r->now);
			hub_reap(r->h, hubfake_closed, &r->fk);
		}
		break;
	case 4:
		used = 2;
		for (n = left >= 2 ? d[1] % 41 : 1; n; n--)
			peer_record(r, 0x17, NULL, 0);
		break;
	default:
		used = 2;
		rec[0] = 1; /* warning */
		rec[1] = left >= 2 ? d[1] : 90;
		peer_record(r, 0x15, rec, 2);
		break;
	}
	return used < left ? used : left;
}

/* The line path still works: after a newline (ending whatever partial line there was)
 * and time enough for the line rate to refill, PING is answered (or, to the box,
 * arrives); unless raw bytes broke the record stream, and then nothing after them may
 * ever be read as data (an open connection is one waiting for the rest of a bogus
 * record). */
static void still_answers(struct run *r)
{
	r->now += 3000;
	if (r->server && open_now(r)) {
		hub_tick(r->h, r->now);
		hub_reg_saved(r->h, UINT64_MAX, 0, r->now);
	}
	if (r->server)
		hub_reap(r->h, hubfake_closed, &r->fk);
	if (!open_now(r))
		return;
	r->ponged = false;
	peer_record(r, 0x17, "\nPING: end\n", 11);
	for (int i = 0; i < 8 && open_now(r) && !r->ponged; i++)
		pump(r);
	if (open_now(r) && r->ponged == r->tainted)
		abort();
}

/* Roles 2 and 3: the rest of the input is the peer's first flight. */
static void hello_answered(struct run *r, const uint8_t *d, size_t size)
{
	struct tlsstep_why why;
	enum tlsstep_io io = tlsstep_handshake(r->me, &why);
	char hello[8192];

	if (io != TLSSTEP_WANT_READ)
		abort(); /* nothing has come yet */
	while (BIO_read(r->peer_net, hello, sizeof(hello)) > 0)
		; /* the box's hello, unanswered */
	if (size && BIO_write(r->peer_net, d, (int)size) != (int)size)
		abort();
	for (int i = 0; i < 4 && io != TLSSTEP_FAILED; i++)
		io = tlsstep_handshake(r->me, &why);
	if (size && d[0] != 0x15 && d[0] != 0x16 &&
	    (io != TLSSTEP_FAILED || why.end != TLSSTEP_PLAINTEXT))
		abort(); /* a plaintext answer not called one */
	if (io == TLSSTEP_DONE)
		abort(); /* a handshake without the peer's key */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	unsigned role = size ? data[0] % 4 : 0;

	memset(&r, 0, offsetof(struct run, in));
	r.in_len = 0;
	r.in_discard = false;
	the_run = &r;
	r.server = role == 0 || role == 3;
	data += size != 0, size -= size != 0;
	if (role == 0)
		hub_up(&r);
	wire(&r);
	if (role >= 2) {
		hello_answered(&r, data, size > 4096 ? 4096 : size);
	} else {
		if (!handshake(&r) || tlsforge_new(&r.forge, r.peer))
			abort(); /* our own two ends must agree */
		if (r.server) {
			char fp[IDENT_FP_LEN + 1];

			hub_secure(r.h, r.fk.s, tlsctx_peer(r.me, fp) ? NULL : fp, r.now);
		}
		for (size_t i = 0; i < size && open_now(&r);) {
			i += op(&r, data + i, size - i);
			pump(&r);
		}
		still_answers(&r);
	}
	tlsforge_free(r.forge);
	SSL_free(r.me);
	SSL_free(r.peer);
	if (r.h)
		hub_free(r.h);
	reg_free(r.reg);
	ERR_clear_error();
	return 0;
}
