/* tlsstep: the TLS steps both ends take, over an in-memory BIO pair (no sockets): a
 * read pass is bounded however many records that carry no line a peer queues, the line
 * behind them still arrives, and a failed handshake says whether the peer closed or
 * answered in plaintext. The peer is a real OpenSSL endpoint with the same settings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "ic_limits.h"
#include "ident.h"
#include "tlsctx.h"
#include "tlsforge.h"
#include "tlsstep.h"

#define PAIR_BUF (1 << 20)

static void *sctx, *cctx, *fsctx, *fcctx; /* f: peers that forge records */

static void *ctx_for(bool server, bool forge)
{
	void *ctx = tlsforge_new_ctx(server, forge);

	assert_non_null(ctx);
	return ctx;
}

static int setup(void **state)
{
	(void)state;
	sctx = ctx_for(true, false);
	cctx = ctx_for(false, false);
	fsctx = ctx_for(true, true);
	fcctx = ctx_for(false, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tlsctx_free(sctx);
	tlsctx_free(cctx);
	tlsctx_free(fsctx);
	tlsctx_free(fcctx);
	return 0;
}

/* Two endpoints and the wire between them: `me` takes the steps under test, `peer` is
 * plain OpenSSL. me_net/peer_net are their ends of the pair (what each writes goes to
 * the other). out_size bounds what me may queue toward the peer. */
struct link {
	SSL *me, *peer;
	BIO *me_net, *peer_net;
};

static void link_forge(struct link *l, bool me_server, size_t out_size, bool forge)
{
	l->me = SSL_new(me_server ? sctx : cctx);
	l->peer = SSL_new(me_server ? (forge ? fcctx : cctx) : (forge ? fsctx : sctx));
	assert_non_null(l->me);
	assert_non_null(l->peer);
	assert_int_equal(BIO_new_bio_pair(&l->me_net, out_size, &l->peer_net, PAIR_BUF),
			 1);
	SSL_set_bio(l->me, l->me_net, l->me_net);
	SSL_set_bio(l->peer, l->peer_net, l->peer_net);
	if (me_server) {
		SSL_set_accept_state(l->me);
		SSL_set_connect_state(l->peer);
	} else {
		SSL_set_connect_state(l->me);
		SSL_set_accept_state(l->peer);
	}
}

static void link_new(struct link *l, bool me_server, size_t out_size)
{
	link_forge(l, me_server, out_size, false);
}

static void link_free(struct link *l)
{
	SSL_free(l->me);
	SSL_free(l->peer);
	ERR_clear_error();
}

static void handshake(struct link *l)
{
	struct tlsstep_why why;
	enum tlsstep_io io = TLSSTEP_WANT_READ;

	for (int i = 0; i < 16 && io != TLSSTEP_DONE; i++) {
		(void)SSL_do_handshake(l->peer);
		io = tlsstep_handshake(l->me, &why);
		if (io == TLSSTEP_FAILED)
			fail_msg("handshake: %s", why.text);
	}
	assert_int_equal(io, TLSSTEP_DONE);
	/* the peer's side completes on reading me's Finished (server) or is done */
	assert_int_equal(SSL_do_handshake(l->peer), 1);
}

/* What a read pass hands over. */
struct got {
	char buf[256];
	size_t len;
};

static int sink(void *arg, const char *buf, size_t len)
{
	struct got *g = arg;

	assert_true(g->len + len < sizeof(g->buf));
	memcpy(g->buf + g->len, buf, len);
	g->len += len;
	return 0;
}

/* Bytes me has not read yet, what a peer queued. */
static size_t queued(const struct link *l)
{
	return BIO_ctrl_pending(l->me_net);
}

/* Read passes until the line is in; the number of passes, each checked bounded: a pass
 * consumes at most IC_TLS_READS_PER_PASS records of rec_max bytes. */
static unsigned passes_until_line(struct link *l, struct got *g, size_t rec_max,
				  unsigned *write_waits)
{
	unsigned passes = 0;

	while (!memchr(g->buf, '\n', g->len)) {
		struct tlsstep_why why;
		size_t before = queued(l);
		enum tlsstep_io io = tlsstep_read(l->me, sink, g, &why);

		assert_int_not_equal(io, TLSSTEP_FAILED);
		assert_true(before - queued(l) <= IC_TLS_READS_PER_PASS * rec_max);
		if (io == TLSSTEP_WANT_WRITE) { /* me's answers wait: the peer reads */
			char sinkbuf[64];

			(*write_waits)++;
			while (SSL_read(l->peer, sinkbuf, sizeof(sinkbuf)) > 0)
				;
			ERR_clear_error();
		}
		passes++;
		assert_true(passes < 100000);
	}
	return passes;
}

/* A KeyUpdate record: 5 bytes of header, 4 + 1 of message, its type, the AEAD's tag. */
#define KEYUPDATE_RECORD (5 + 5 + 1 + 16)

static void keyupdate_flood(bool me_server, size_t out_size)
{
	struct link l;
	struct got g = {.len = 0};
	unsigned passes, write_waits = 0;
	const unsigned n = 1000;

	link_new(&l, me_server, out_size);
	handshake(&l);
	for (unsigned i = 0; i < n; i++) { /* each asks me to update its keys too */
		assert_int_equal(SSL_key_update(l.peer, SSL_KEY_UPDATE_REQUESTED), 1);
		assert_int_equal(SSL_do_handshake(l.peer), 1);
	}
	assert_int_equal(SSL_write(l.peer, "PING: 1\n", 8), 8);
	assert_true(queued(&l) > n * KEYUPDATE_RECORD);
	passes = passes_until_line(&l, &g, KEYUPDATE_RECORD, &write_waits);
	/* every KeyUpdate cost one of a pass's reads: no pass took them all */
	assert_true(passes >= n / IC_TLS_READS_PER_PASS);
	assert_int_equal(g.len, 8);
	assert_memory_equal(g.buf, "PING: 1\n", 8);
	if (out_size < n * KEYUPDATE_RECORD) /* me's answers did not pile up */
		assert_true(write_waits > 0);
	link_free(&l);
}

static void test_keyupdate_flood_server(void **state)
{
	(void)state;
	keyupdate_flood(true, PAIR_BUF);
}

static void test_keyupdate_flood_client(void **state)
{
	(void)state;
	keyupdate_flood(false, PAIR_BUF);
}

/* The answers a flood asks for wait for the socket (WANT_WRITE) instead of queueing
 * without bound: here the wire toward the peer holds 20 of them. */
static void test_keyupdate_answers_bounded(void **state)
{
	(void)state;
	keyupdate_flood(true, 20 * KEYUPDATE_RECORD);
	keyupdate_flood(false, 20 * KEYUPDATE_RECORD);
}

/* A line split over records of one byte each: still bounded, still whole. */
static void test_tiny_records(void **state)
{
	struct link l;
	struct got g = {.len = 0};
	unsigned write_waits = 0, passes;
	const char *line = "PRIVMSG #Yard: hello there\n";

	(void)state;
	link_new(&l, true, PAIR_BUF);
	handshake(&l);
	for (size_t i = 0; i < strlen(line); i++)
		assert_int_equal(SSL_write(l.peer, line + i, 1), 1);
	passes = passes_until_line(&l, &g, 5 + 1 + 1 + 16, &write_waits);
	assert_true(passes >= strlen(line) / IC_TLS_READS_PER_PASS);
	assert_int_equal(g.len, strlen(line));
	assert_memory_equal(g.buf, line, strlen(line));
	link_free(&l);
}

/* Records sealed by hand with the peer's keys, straight onto the wire. */
static void forged(struct link *l, struct tlsforge *f, uint8_t type, const void *content,
		   size_t len)
{
	uint8_t rec[64 + TLSFORGE_OVERHEAD];
	size_t n = tlsforge_record(f, type, content, len, rec);

	assert_true(n > 0);
	assert_int_equal(BIO_write(l->peer_net, rec, (int)n), (int)n);
}

/* Empty records (and warning alerts) before every byte of a line: each SSL_read may go
 * through OpenSSL's run of them (it allows 32 empty records in a row, and 4 warning
 * alerts between two records of data) to the next byte, so a pass is bounded by
 * IC_TLS_READS_PER_PASS runs, and the line arrives whole. */
static void empty_records(bool me_server, bool alerts)
{
	static const char line[] = "PING: 1\n";
	static const uint8_t user_cancelled[2] = {1, 90};
	const unsigned run = 31, nalerts = alerts ? 4 : 0;
	struct link l;
	struct got g = {.len = 0};
	struct tlsforge *f = NULL;
	unsigned passes, write_waits = 0;

	link_forge(&l, me_server, PAIR_BUF, true);
	handshake(&l);
	assert_int_equal(tlsforge_new(&f, l.peer), 0);
	for (size_t i = 0; i < sizeof(line) - 1; i++) {
		for (unsigned k = 0; k < nalerts; k++)
			forged(&l, f, 0x15, user_cancelled, 2);
		for (unsigned k = 0; k < run; k++)
			forged(&l, f, 0x17, NULL, 0);
		forged(&l, f, 0x17, line + i, 1);
	}
	passes = passes_until_line(&l, &g, (nalerts + run + 1) * (TLSFORGE_OVERHEAD + 2),
				   &write_waits);
	assert_true(passes >= (sizeof(line) - 1) / IC_TLS_READS_PER_PASS);
	assert_int_equal(g.len, sizeof(line) - 1);
	assert_memory_equal(g.buf, line, sizeof(line) - 1);
	tlsforge_free(f);
	link_free(&l);
}

static void test_empty_records(void **state)
{
	(void)state;
	empty_records(true, false);
	empty_records(false, false);
	empty_records(true, true);
	empty_records(false, true);
}

/* A flood of empty records or of warning alerts: OpenSSL ends the connection after a
 * few in a row (its own bound), within one pass, as a protocol error. */
static void flood_ends(bool me_server, bool alerts)
{
	static const uint8_t user_cancelled[2] = {1, 90};
	struct link l;
	struct got g = {.len = 0};
	struct tlsforge *f = NULL;
	struct tlsstep_why why;
	size_t before;
	enum tlsstep_io io;

	link_forge(&l, me_server, PAIR_BUF, true);
	handshake(&l);
	assert_int_equal(tlsforge_new(&f, l.peer), 0);
	for (unsigned i = 0; i < 1000; i++)
		forged(&l, f, alerts ? 0x15 : 0x17, user_cancelled, alerts ? 2 : 0);
	forged(&l, f, 0x17, "PING: 1\n", 8);
	before = queued(&l);
	io = tlsstep_read(l.me, sink, &g, &why);
	assert_int_equal(io, TLSSTEP_FAILED);
	assert_int_equal(why.end, TLSSTEP_PROTOCOL);
	assert_true(before - queued(&l) < before / 10);
	assert_int_equal(g.len, 0);
	tlsforge_free(f);
	link_free(&l);
}

static void test_floods_end(void **state)
{
	(void)state;
	flood_ends(true, false);
	flood_ends(false, false);
	flood_ends(true, true);
	flood_ends(false, true);
}

/* A peer that closes: cleanly, or by just going away. */
static void test_close_after_handshake(void **state)
{
	struct link l;
	struct got g = {.len = 0};
	struct tlsstep_why why;

	(void)state;
	link_new(&l, true, PAIR_BUF);
	handshake(&l);
	(void)SSL_shutdown(l.peer);
	assert_int_equal(tlsstep_read(l.me, sink, &g, &why), TLSSTEP_FAILED);
	assert_int_equal(why.end, TLSSTEP_CLOSED);
	link_free(&l);

	link_new(&l, false, PAIR_BUF);
	handshake(&l);
	BIO_shutdown_wr(l.peer_net); /* the wire ends without close_notify */
	assert_int_equal(tlsstep_read(l.me, sink, &g, &why), TLSSTEP_FAILED);
	assert_int_equal(why.end, TLSSTEP_EOF);
	assert_non_null(strstr(why.text, "without close_notify"));
	link_free(&l);
}

/* The box's first step sends its hello; the server's answer decides. */
static enum tlsstep_io box_hello(struct link *l, struct tlsstep_why *why)
{
	char hello[4096];

	link_new(l, false, PAIR_BUF);
	assert_int_equal(tlsstep_handshake(l->me, why), TLSSTEP_WANT_READ);
	assert_true(BIO_read(l->peer_net, hello, sizeof(hello)) > 0); /* the hello */
	return TLSSTEP_WANT_READ;
}

static void test_handshake_closed(void **state)
{
	struct link l;
	struct tlsstep_why why;

	(void)state;
	box_hello(&l, &why);
	BIO_shutdown_wr(l.peer_net); /* a server closing without a word */
	assert_int_equal(tlsstep_handshake(l.me, &why), TLSSTEP_FAILED);
	assert_int_equal(why.end, TLSSTEP_HANDSHAKE_CLOSED);
	assert_null(strstr(why.text, "plaintext"));
	link_free(&l);
}

static void test_handshake_plaintext(void **state)
{
	static const char answer[] = "ERROR TLS_REQUIRED :speak TLS\r\n";
	struct link l;
	struct tlsstep_why why;

	(void)state;
	box_hello(&l, &why);
	assert_int_equal(BIO_write(l.peer_net, answer, sizeof(answer) - 1),
			 (int)sizeof(answer) - 1);
	assert_int_equal(tlsstep_handshake(l.me, &why), TLSSTEP_FAILED);
	assert_int_equal(why.end, TLSSTEP_PLAINTEXT);
	assert_non_null(strstr(why.text, "\"ERROR TLS_REQUIRED :spe"));
	link_free(&l);
}

/* A TLS alert as the server's first record is TLS, not plaintext: OpenSSL's word. */
static void test_handshake_alert_is_tls(void **state)
{
	static const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
	struct link l;
	struct tlsstep_why why;

	(void)state;
	box_hello(&l, &why);
	assert_int_equal(BIO_write(l.peer_net, alert, sizeof(alert)), (int)sizeof(alert));
	assert_int_equal(tlsstep_handshake(l.me, &why), TLSSTEP_FAILED);
	assert_int_equal(why.end, TLSSTEP_PROTOCOL);
	assert_non_null(strstr(why.text, "TLS protocol error: "));
	assert_true(strlen(why.text) > strlen("TLS protocol error: "));
	link_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keyupdate_flood_server),
	    cmocka_unit_test(test_keyupdate_flood_client),
	    cmocka_unit_test(test_keyupdate_answers_bounded),
	    cmocka_unit_test(test_tiny_records),
	    cmocka_unit_test(test_empty_records),
	    cmocka_unit_test(test_floods_end),
	    cmocka_unit_test(test_close_after_handshake),
	    cmocka_unit_test(test_handshake_closed),
	    cmocka_unit_test(test_handshake_plaintext),
	    cmocka_unit_test(test_handshake_alert_is_tls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
