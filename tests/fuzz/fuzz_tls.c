/* Fuzz: the TLS-wrapped line path (protocol 1.1, section 3), in process: a real TLS 1.3
 * client and the server's own TLS steps (conn_tls_handshake, conn_tls_read,
 * conn_tls_write from server/conn.c) over an in-memory BIO pair, feeding a real hub with
 * a nick registry. After the handshake the fuzzer's records, each an op byte and its
 * operands, are what the client does:
 *   0: writes a length (2 bytes, at most 4096) of bytes as one TLS record
 *   1: writes a length (1 byte) of raw bytes onto the wire, unencrypted, mid-stream
 *   2: asks for a KeyUpdate (both ways)
 *   3: lets time pass (1 byte: tenths of a second), and the hub's timers run
 * After each, the server reads what arrived and the client reads the answers, answering
 * every PING as a box does (so a CONNECT in the input logs in).
 * Checks: when the server's read stops for want of the socket, nothing decrypted is
 * left inside OpenSSL (select() could never see it); every server line the client
 * decrypts is a whole line within the protocol's bound; and a session still open at the
 * end answers "PING: end" with "PONG: end", so no record boundary, KeyUpdate or split
 * line ever loses or garbles the line path; after raw bytes on the wire it never does
 * (nothing unencrypted, nor anything after it, is ever taken as a line). */
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

#include "conn.h"
#include "hub.h"
#include "hubfake.h"
#include "ident.h"
#include "log.h"
#include "registry.h"
#include "tlsctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void *sctx, *cctx;
static char regdir[64];

static void keys(void **ctxp, bool server)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = k ? ident_new_cert(k, server ? "server" : "box") : NULL;
	char err[256];

	if (!x || tlsctx_new_keys(ctxp, k, x, server, err, sizeof(err)))
		abort();
	X509_free(x);
	EVP_PKEY_free(k);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_setup("fuzz_tls", LOG_ERR);
	keys(&sctx, true);
	keys(&cctx, false);
	/* the registry's directory: empty, never written (the hub only changes it in
	 * memory; reg_save is the server's) */
	snprintf(regdir, sizeof(regdir), "/tmp/fuzz-tls-%d", (int)getpid());
	mkdir(regdir, 0700);
	return 0;
}

/* One session: the server's SSL and the client's, a BIO pair between them. */
struct run {
	struct hub *h;
	struct hubfake fk; /* its transport; its send op is replaced (tls_send) */
	SSL *srv, *cli;
	BIO *cli_net; /* the client's end: raw bytes written here reach the server */
	bool failed;  /* the server's side of TLS ended the session */
	bool ponged;  /* the client read "PONG: end" */
	bool tainted; /* raw bytes went onto the wire: the record stream is broken */
	uint64_t now;
	char in[1 << 17];
	size_t in_len;
};

static struct run *the_run;

static ssize_t tls_send(struct transport *t, const void *buf, size_t len)
{
	(void)t;
	return conn_tls_write(the_run->srv, buf, len);
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
	return r->fk.s && !r->failed;
}

/* The server reads until it needs the socket; then nothing decrypted may be left. */
static void server_reads(struct run *r)
{
	for (int pass = 0; pass < 64 && open_now(r); pass++) {
		const char *why = NULL;
		enum conn_io io = conn_tls_read(r->srv, r->h, r->fk.s, r->now, &why);

		if (io == CONN_IO_FAILED) {
			r->failed = true;
			hub_hangup(r->h, r->fk.s, why);
			break;
		}
		if (io != CONN_IO_DONE) {
			if (SSL_pending(r->srv) > 0)
				abort(); /* decrypted bytes select() would never show */
			break;
		}
	}
	if (open_now(r))
		hub_flush(r->h, r->fk.s);
	hub_reap(r->h, hubfake_closed, &r->fk);
}

/* The client reads the server's answers; each line is whole and within bounds. */
static void client_reads(struct run *r)
{
	int n;

	while ((n = SSL_read(r->cli, r->in + r->in_len,
			     (int)(sizeof(r->in) - r->in_len))) > 0) {
		char *nl;

		r->in_len += (size_t)n;
		while ((nl = memchr(r->in, '\n', r->in_len))) {
			size_t l = (size_t)(nl - r->in) + 1;

			if (l > IC_OUT_LINE_MAX || memchr(r->in, '\0', l))
				abort();
			r->ponged |= l == 10 && !memcmp(r->in, "PONG: end\n", 10);
			if (l > 6 && l < 64 && !memcmp(r->in, "PING: ", 6)) {
				char pong[64]; /* as a box answers, so logins complete */

				memcpy(pong, "PONG", 4);
				memcpy(pong + 4, r->in + 4, l - 4);
				SSL_write(r->cli, pong, (int)l);
			}
			memmove(r->in, nl + 1, r->in_len - l);
			r->in_len -= l;
		}
		if (r->in_len >= IC_OUT_LINE_MAX)
			abort(); /* a line longer than any the server may send */
	}
	ERR_clear_error();
}

static bool handshake(struct run *r)
{
	char fp[IDENT_FP_LEN + 1];
	const char *why = NULL;

	for (int i = 0; i < 16; i++) {
		int c = SSL_do_handshake(r->cli);
		enum conn_io io = conn_tls_handshake(r->srv, fp, &why);

		if (io == CONN_IO_FAILED)
			return false;
		if (io == CONN_IO_DONE && c == 1) {
			hub_secure(r->h, r->fk.s, fp[0] ? fp : NULL, r->now);
			return true;
		}
	}
	return false;
}

static bool setup(struct run *r, struct reg **reg)
{
	struct hub_conf c = {"FuzzTls", 6060,  4,    15000, 45000, 30000, hubfake_rand,
			     0,		false, NULL, NULL,  false, NULL};
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
	BIO *srv_net = NULL;
	char err[256];

	inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);
	if (reg_open(reg, regdir, REG_SHARED, err, sizeof(err)))
		abort();
	c.reg = *reg;
	hubfake_seed(1);
	hubfake_init(&r->fk);
	r->fk.tp.ops = &tls_ops;
	if (hub_new(&r->h, &c) || hub_open(r->h, &r->fk.tp, (struct sockaddr *)&peer,
					   sizeof(peer), 0, &r->fk.s))
		abort();
	r->srv = SSL_new(sctx);
	r->cli = SSL_new(cctx);
	if (!r->srv || !r->cli || !BIO_new_bio_pair(&r->cli_net, 0, &srv_net, 0))
		abort();
	SSL_set_bio(r->cli, r->cli_net, r->cli_net);
	SSL_set_bio(r->srv, srv_net, srv_net);
	SSL_set_connect_state(r->cli);
	SSL_set_accept_state(r->srv);
	return handshake(r);
}

/* want bytes after used of left, as many as there are */
static size_t take(size_t want, size_t used, size_t left)
{
	return used >= left ? 0 : want < left - used ? want : left - used;
}

static size_t op(struct run *r, const uint8_t *d, size_t left)
{
	size_t n, used = 1;

	switch (d[0] % 4) {
	case 0:
		used = 3;
		n = take(left >= 3 ? ((size_t)d[1] << 8 | d[2]) % 4097 : 0, used, left);
		if (n)
			SSL_write(r->cli, d + used, (int)n);
		used += n;
		break;
	case 1:
		used = 2;
		n = take(left >= 2 ? d[1] : 0, used, left);
		if (n)
			r->tainted |= BIO_write(r->cli_net, d + used, (int)n) > 0;
		used += n;
		break;
	case 2:
		SSL_key_update(r->cli, SSL_KEY_UPDATE_REQUESTED);
		SSL_do_handshake(r->cli); /* sends it */
		break;
	default:
		used = 2;
		r->now += left >= 2 ? (uint64_t)d[1] * 100 : 0;
		hub_tick(r->h, r->now);
		/* the server's save of the registry, as if done: a login waiting for its
		 * binding to be on disk is answered */
		hub_reg_saved(r->h, UINT64_MAX, 0, r->now);
		hub_reap(r->h, hubfake_closed, &r->fk);
		break;
	}
	return used < left ? used : left;
}

/* Both ways until nothing moves: the server's output can outgrow the pair's buffer. */
static void pump(struct run *r)
{
	server_reads(r);
	for (int i = 0; i < 64 && open_now(r); i++) {
		client_reads(r);
		if (!hub_pending(r->fk.s))
			break;
		hub_flush(r->h, r->fk.s);
		hub_reap(r->h, hubfake_closed, &r->fk);
	}
}

/* The line path still works: after a newline (ending whatever partial line there was)
 * and time enough for the line rate to refill, PING is answered; unless raw bytes broke
 * the record stream, and then nothing after them may ever be read as a line (an open
 * session is one waiting for the rest of a bogus record). */
static void still_answers(struct run *r)
{
	r->now += 3000;
	if (open_now(r))
		hub_tick(r->h, r->now);
	hub_reap(r->h, hubfake_closed, &r->fk);
	if (!open_now(r))
		return;
	r->ponged = false;
	SSL_write(r->cli, "\nPING: end\n", 11);
	pump(r);
	if (open_now(r) && r->ponged == r->tainted)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	struct reg *reg = NULL;

	memset(&r, 0, offsetof(struct run, in));
	r.in_len = 0;
	the_run = &r;
	if (!setup(&r, &reg))
		abort(); /* our own client and server must agree */
	for (size_t i = 0; i < size && open_now(&r);) {
		i += op(&r, data + i, size - i);
		pump(&r);
	}
	still_answers(&r);
	SSL_free(r.cli);
	SSL_free(r.srv);
	hub_free(r.h);
	reg_free(reg);
	ERR_clear_error();
	return 0;
}
