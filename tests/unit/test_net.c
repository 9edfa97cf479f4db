/* net: what a failed connect or TLS handshake tells the person reading the log. The
 * handshake cases run the real net.c against a listener on loopback (port 0) that
 * plays a server closing at once, or answering in plaintext. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "tlsctx.h"

static void on_connected(void *arg)
{
	(void)arg;
	fail_msg("connected to nothing");
}

static void on_line(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void on_closed(void *arg, const char *why)
{
	(void)arg;
	(void)why;
	fail_msg("closed is not called when net_connect fails");
}

static void on_voice(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static void test_unknown_host_is_named(void **state)
{
	struct net_handlers h = {on_connected, on_line, on_closed, on_voice, NULL};
	struct loop *l = NULL;
	struct net *n = NULL;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(net_new(&n, l, &h, NULL), 0);
	/* a name no resolver knows, without asking the network */
	assert_int_equal(net_connect(n, "", 6060), -ENOENT);
	assert_non_null(strstr(net_strerror(-ENOENT), "no such host name"));
	assert_non_null(strstr(net_strerror(-EAGAIN), "no network or DNS"));
	/* the rest as the C library says them */
	assert_string_equal(net_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
	net_free(n);
	loop_free(l);
}

/* The order the addresses of a name are tried in (RFC 8305 section 4). */
static struct sockaddr_in v4s[8];
static struct sockaddr_in6 v6s[8];
static struct addrinfo ai[16];

/* A resolver answer from a pattern: '4' or '6' per address, numbered in order. */
static struct addrinfo *answer(const char *pattern)
{
	unsigned n4 = 0, n6 = 0, i;

	memset(ai, 0, sizeof(ai));
	for (i = 0; pattern[i]; i++) {
		ai[i].ai_socktype = SOCK_STREAM;
		if (pattern[i] == '4') {
			v4s[n4] = (struct sockaddr_in){
			    .sin_family = AF_INET, .sin_port = htons((uint16_t)(i + 1))};
			ai[i].ai_family = AF_INET;
			ai[i].ai_addr = (struct sockaddr *)&v4s[n4++];
			ai[i].ai_addrlen = sizeof(struct sockaddr_in);
		} else if (pattern[i] == '6') {
			v6s[n6] =
			    (struct sockaddr_in6){.sin6_family = AF_INET6,
						  .sin6_port = htons((uint16_t)(i + 1))};
			ai[i].ai_family = AF_INET6;
			ai[i].ai_addr = (struct sockaddr *)&v6s[n6++];
			ai[i].ai_addrlen = sizeof(struct sockaddr_in6);
		} else { /* another family: dropped */
			ai[i].ai_family = AF_UNIX;
			ai[i].ai_addr = (struct sockaddr *)&v4s[0];
			ai[i].ai_addrlen = sizeof(struct sockaddr_in);
		}
		if (i)
			ai[i - 1].ai_next = &ai[i];
	}
	return ai;
}

/* The order as the resolver's positions (1-based), e.g. "1324". */
static const char *order(const char *pattern, unsigned max)
{
	static char out[16];
	struct sockaddr_storage ss[NET_ADDRS_MAX];
	socklen_t lens[NET_ADDRS_MAX];
	unsigned n = net_addr_order(answer(pattern), ss, lens, max);

	for (unsigned i = 0; i < n; i++) {
		unsigned port = ss[i].ss_family == AF_INET
				    ? ntohs(((struct sockaddr_in *)&ss[i])->sin_port)
				    : ntohs(((struct sockaddr_in6 *)&ss[i])->sin6_port);

		assert_int_equal(lens[i], ss[i].ss_family == AF_INET
					      ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6));
		out[i] = (char)('0' + port);
	}
	out[n] = '\0';
	return out;
}

static void test_addr_order(void **state)
{
	(void)state;
	/* localhost on Debian: ::1 first, then 127.0.0.1 - both are tried */
	assert_string_equal(order("64", 8), "12");
	assert_string_equal(order("4", 8), "1");
	/* the family of the first answer first, then alternating, each in its order */
	assert_string_equal(order("6644", 8), "1324");
	assert_string_equal(order("4466", 8), "1324");
	assert_string_equal(order("46666", 8), "12345");
	assert_string_equal(order("6664", 8), "1423");
	assert_string_equal(order("6x4", 8), "13"); /* another family is left out */
	assert_string_equal(order("646464", 3), "123");
	assert_string_equal(order("", 8), "");
}

/* ---- a TLS handshake that fails ---- */

struct hs {
	struct loop *l;
	char why[512];
	bool closed;
};

static void hs_connected(void *arg)
{
	(void)arg;
	fail_msg("a handshake completed with a server that cannot do one");
}

static void hs_closed(void *arg, const char *why)
{
	struct hs *t = arg;

	snprintf(t->why, sizeof(t->why), "%s", why);
	t->closed = true;
	loop_stop(t->l);
}

static void hs_timeout(void *arg)
{
	(void)arg;
	fail_msg("the box never gave up on the handshake");
}

/* The box connects with TLS to a listener that, once it accepted, does what `serve`
 * does; the reason the box closed with is in t->why. */
static void handshake_against(struct hs *t, void (*serve)(int fd))
{
	struct net_handlers h = {hs_connected, on_line, hs_closed, on_voice, NULL};
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	struct net *n = NULL;
	struct tmr guard;
	void *ctx = NULL;
	char err[256];
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd;

	memset(t, 0, sizeof(*t));
	memset(&guard, 0, sizeof(guard));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(tlsctx_new_keys(&ctx, NULL, NULL, false, err, sizeof(err)), 0);
	assert_int_equal(loop_new(&t->l), 0);
	assert_int_equal(net_new(&n, t->l, &h, t), 0);
	net_set_tls(n, ctx);
	assert_int_equal(net_connect(n, "127.0.0.1", ntohs(a.sin_port)), 0);
	fd = accept(lfd, NULL, NULL); /* the kernel completed the connection */
	assert_true(fd >= 0);
	serve(fd);
	tmr_start(t->l, &guard, 30000, hs_timeout, NULL);
	loop_run(t->l, NULL, NULL);
	assert_true(t->closed);
	tmr_cancel(t->l, &guard);
	close(fd);
	close(lfd);
	net_free(n);
	loop_free(t->l);
	tlsctx_free(ctx);
}

/* A server at its limit of handshakes, or blocking this box's address, closes. */
static void serve_close(int fd)
{
	shutdown(fd, SHUT_RDWR);
}

/* A server run with --tls off answers the hello as a line it cannot parse. */
static void serve_plain(int fd)
{
	static const char answer[] = "ERROR :unknown command\r\n";

	assert_int_equal(send(fd, answer, sizeof(answer) - 1, 0), sizeof(answer) - 1);
}

static void test_handshake_closed_is_not_plaintext(void **state)
{
	struct hs t;

	(void)state;
	handshake_against(&t, serve_close);
	assert_non_null(strstr(t.why, "closed the connection during the handshake"));
	assert_non_null(strstr(t.why, "see the server's log"));
	/* never advice to turn encryption off */
	assert_null(strstr(t.why, "tls = off"));
	assert_null(strstr(t.why, "--tls off"));
	assert_null(strstr(t.why, "plaintext"));
}

static void test_handshake_plaintext_answer(void **state)
{
	struct hs t;

	(void)state;
	handshake_against(&t, serve_plain);
	assert_non_null(strstr(t.why, "the server answered in plaintext"));
	assert_non_null(strstr(t.why, "\"ERROR :unknown command\""));
	assert_non_null(strstr(t.why, "--tls off"));
	assert_non_null(strstr(t.why, "set tls = off here too"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_host_is_named),
	    cmocka_unit_test(test_addr_order),
	    cmocka_unit_test(test_handshake_closed_is_not_plaintext),
	    cmocka_unit_test(test_handshake_plaintext_answer),
	};

	signal(SIGPIPE, SIG_IGN); /* as the box's main: a write to a closed peer fails */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
