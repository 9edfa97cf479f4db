/* The harness's protocol client (harness.h): a box spoken by hand, line by line and
 * packet by packet, over TLS unless a test says plaintext. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "benchutil.h"
#include "harness_tls.h"
#include "ident.h"
#include "msg.h"

void cli_connect(struct cli *c, const struct srv *s)
{
	cli_connect_from(c, s, NULL);
}

/* ip (IPv4 text) as a struct sockaddr_in on port. */
static struct sockaddr_in ip4(const char *ip, unsigned port)
{
	struct sockaddr_in a = bench_lo(port);

	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

bool harness_raw;
const char *harness_version;

/* Over TLS, the handshake at once: every line after it is encrypted. */
static void tls_up(struct cli *c, const struct srv *s)
{
	void *key;

	if (s->plain || harness_raw)
		return;
	key = harness_anon ? NULL : harness_key ? harness_key : htls_key_new();
	c->ssl = htls_connect(c->fd, key, c->server_fp, WAIT_MS);
	if (key && key != harness_key)
		htls_key_free(key);
	if (!c->ssl)
		fail_msg("TLS handshake with the server failed");
}

bool cli_connect6(struct cli *c, const struct srv *s)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons((uint16_t)s->port),
				 .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	memset(c, 0, sizeof(*c));
	c->ufd = -1;
	c->v6 = true;
	snprintf(c->from, sizeof(c->from), "::1");
	c->fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a))) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return false;
	}
	c->uport = s->udp_port;
	c->tokens = 18.0;
	c->tokens_ms = now_ms();
	tls_up(c, s);
	return true;
}

void cli_connect_from(struct cli *c, const struct srv *s, const char *from)
{
	struct sockaddr_in a = bench_lo(s->port);

	memset(c, 0, sizeof(*c));
	c->ufd = -1;
	snprintf(c->from, sizeof(c->from), "%s", from ? from : "127.0.0.1");
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	if (harness_rcvbuf)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &harness_rcvbuf,
			   sizeof(harness_rcvbuf));
	if (from) {
		struct sockaddr_in b = ip4(from, 0);

		assert_int_equal(bind(c->fd, (struct sockaddr *)&b, sizeof(b)), 0);
	}
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	c->uport = s->udp_port;
	c->tokens = 18.0;
	c->tokens_ms = now_ms();
	tls_up(c, s);
}

void cli_close(struct cli *c)
{
	htls_free(c->ssl);
	vc_free(c->c2s);
	vc_free(c->s2c);
	vc_key_wipe(&c->c2s_key);
	vc_key_wipe(&c->s2c_key);
	c->ssl = NULL;
	c->c2s = c->s2c = NULL;
	if (c->fd >= 0)
		close(c->fd);
	if (c->ufd >= 0)
		close(c->ufd);
	c->fd = c->ufd = -1;
}

/* Take one line token, sleeping if needed: 18 burst and 9 a second, under the server's
 * 20 and 10, so no test trips the flood limit by accident. */
static void pace(struct cli *c)
{
	for (;;) {
		uint64_t now = now_ms();

		c->tokens += (double)(now - c->tokens_ms) * 9.0 / 1000.0;
		if (c->tokens > 18.0)
			c->tokens = 18.0;
		c->tokens_ms = now;
		if (c->tokens >= 1.0) {
			c->tokens -= 1.0;
			return;
		}
		usleep(20000);
	}
}

void cli_send_raw(struct cli *c, const void *data, size_t len)
{
	const char *p = data;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n')
			pace(c);
	}
	cli_send_unpaced(c, data, len);
}

void cli_send_unpaced(struct cli *c, const void *data, size_t len)
{
	cli_send_records(c, data, len, 0);
}

void cli_send_records(struct cli *c, const void *data, size_t len, size_t record)
{
	const char *p = data;

	if (c->ssl) {
		htls_write(c->ssl, c->fd, data, len, record);
		return;
	}
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

void cli_send(struct cli *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bench_vline(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		fail_msg("cli_send: a line over %zu bytes (%s)", sizeof(buf) - 2,
			 strerror(-n));
	cli_send_raw(c, buf, (size_t)n);
}

/* -1 on timeout, 0 on close, 1 for a line */
static int recv_line(struct cli *c, int ms)
{
	uint64_t until = now_ms() + (uint64_t)ms;

	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		struct pollfd pfd = {c->fd, POLLIN, 0};
		uint64_t now;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->in);

			assert_true(l < sizeof(c->line));
			memcpy(c->line, c->in, l);
			c->line[l] = '\0';
			memmove(c->in, nl + 1, c->in_len - l - 1);
			c->in_len -= l + 1;
			if (!harness_registered &&
			    !strncmp(c->line, "REGISTERED: ", 12)) {
				snprintf(c->registered, sizeof(c->registered), "%.150s",
					 c->line);
				continue;
			}
			return 1;
		}
		now = now_ms();
		if (!(c->ssl && htls_pending(c->ssl)) &&
		    poll(&pfd, 1, now >= until ? 0 : (int)(until - now)) <= 0)
			return -1;
		assert_true(c->in_len < sizeof(c->in));
		n = c->ssl
			? htls_read(c->ssl, c->in + c->in_len, sizeof(c->in) - c->in_len)
			: recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n == -EAGAIN) /* a record that was not all there, or not data */
			continue;
		if (n <= 0)
			return 0;
		c->in_len += (size_t)n;
	}
}

const char *cli_recv(struct cli *c, int ms)
{
	return recv_line(c, ms) == 1 ? c->line : NULL;
}

void cli_expect(struct cli *c, const char *line)
{
	const char *got = cli_recv(c, WAIT_MS);

	if (!got)
		fail_msg("%s: expected '%s', got nothing", c->nick, line);
	if (strcmp(got, line))
		fail_msg("%s: expected '%s', got '%s'", c->nick, line, got);
}

const char *cli_expect_prefix(struct cli *c, const char *prefix)
{
	const char *got = cli_recv(c, WAIT_MS);

	if (!got)
		fail_msg("%s: expected '%s...', got nothing", c->nick, prefix);
	if (strncmp(got, prefix, strlen(prefix)))
		fail_msg("%s: expected '%s...', got '%s'", c->nick, prefix, got);
	return got;
}

void cli_expect_silence(struct cli *c, int ms)
{
	const char *got = cli_recv(c, ms);

	if (got)
		fail_msg("%s: expected nothing, got '%s'", c->nick, got);
}

bool cli_closed(struct cli *c, int ms)
{
	uint64_t until = now_ms() + (uint64_t)ms;
	int r;

	while ((r = recv_line(c, (int)(until > now_ms() ? until - now_ms() : 0))) == 1)
		;
	return r == 0;
}

void cli_expect_closed(struct cli *c)
{
	if (!cli_closed(c, WAIT_MS))
		fail_msg("%s: expected the server to close the connection", c->nick);
}

void cli_wait_for(struct cli *c, const char *line)
{
	uint64_t until = now_ms() + WAIT_MS;

	while (now_ms() < until) {
		const char *got = cli_recv(c, (int)(until - now_ms()));

		if (got && !strcmp(got, line))
			return;
		if (!got)
			break;
	}
	fail_msg("%s: '%s' never came", c->nick, line);
}

void cli_expect_answering(struct cli *c, const char *line, int ms)
{
	uint64_t until = now_ms() + (uint64_t)ms;

	while (now_ms() < until) {
		const char *l = cli_recv(c, 100);

		if (!l)
			continue;
		if (!strncmp(l, "PING: ", 6)) {
			cli_send(c, "PONG: %s", l + 6);
			continue;
		}
		if (!strcmp(l, line))
			return;
		if (!strncmp(l, "USERLIST ", 9))
			continue;
		fail_msg("%s: expected '%s', got '%s'", c->nick, line, l);
	}
	fail_msg("%s: '%s' never came", c->nick, line);
}

static void parse_voice(struct cli *c, const char *line)
{
	unsigned port;

	assert_int_equal(strncmp(line, "VOICE: ", 7), 0);
	if (c->ssl) {
		assert_int_equal(msg_parse_voice_tls(line + 7, &port, &c->ssrc,
						     &c->c2s_key, &c->s2c_key),
				 0);
		assert_int_equal(vc_new(&c->c2s, &c->c2s_key, true), 0);
		assert_int_equal(vc_new(&c->s2c, &c->s2c_key, false), 0);
		ctrwin_init(&c->win);
	} else {
		assert_int_equal(msg_parse_voice(line + 7, &port, &c->ssrc, c->token), 0);
	}
	c->uport = port;
}

void cli_login(struct cli *c, const struct srv *s, const char *nick)
{
	cli_login_from(c, s, nick, NULL);
}

void cli_connect_as(struct cli *c, const struct srv *s, const char *nick,
		    const char *from)
{
	void *key = harness_key;

	if (!harness_key && !harness_anon)
		harness_key = harness_nick_key(nick);
	if (from && !strcmp(from, "::1"))
		cli_connect6(c, s);
	else
		cli_connect_from(c, s, from);
	harness_key = key;
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
}

void cli_login_from(struct cli *c, const struct srv *s, const char *nick,
		    const char *from)
{
	char want[128];
	const char *l;

	cli_connect_as(c, s, nick, from);
	cli_send(c, "CONNECT: \"%s\" \"Test %s\" %s", nick, nick,
		 harness_version ? harness_version
		 : c->ssl	 ? "1.1.0"
				 : "1.0.0");
	cli_expect_prefix(c, "ACCEPT: ");
	parse_voice(c, cli_expect_prefix(c, "VOICE: "));
	l = cli_expect_prefix(c, "PING: ");
	cli_send(c, "PONG: %s", l + 6);
	cli_expect(c, "JOINED: #Lobby");
	l = cli_expect_prefix(c, "USERLIST #Lobby: ");
	snprintf(want, sizeof(want), "%s", nick);
	assert_non_null(strstr(l, want));
}

void cli_udp_open(struct cli *c)
{
	struct sockaddr_in a = ip4(c->from[0] && !c->v6 ? c->from : "127.0.0.1", 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	c->ufd = socket(c->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	assert_true(c->ufd >= 0);
	if (c->v6)
		assert_int_equal(bind(c->ufd, (struct sockaddr *)&a6, sizeof(a6)), 0);
	else
		assert_int_equal(bind(c->ufd, (struct sockaddr *)&a, sizeof(a)), 0);
}

void cli_udp_reopen(struct cli *c)
{
	close(c->ufd);
	cli_udp_open(c);
}

void cli_voice_raw(struct cli *c, const void *pkt, size_t len)
{
	struct sockaddr_in a = bench_lo(c->uport);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)c->uport),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	if (c->v6)
		assert_int_equal(
		    sendto(c->ufd, pkt, len, 0, (struct sockaddr *)&a6, sizeof(a6)),
		    (ssize_t)len);
	else
		assert_int_equal(
		    sendto(c->ufd, pkt, len, 0, (struct sockaddr *)&a, sizeof(a)),
		    (ssize_t)len);
}

void cli_voice(struct cli *c, const void *payload, size_t len, bool marker)
{
	uint8_t pkt[2048], sealed[2048];
	struct rtp_hdr h = {marker, IC_RTP_PT_OPUS, c->seq++, c->ts, c->ssrc};
	int n = rtp_pack(pkt, sizeof(pkt), &h, c->ssl ? NULL : c->token, payload, len);

	assert_true(n > 0);
	c->ts += 960;
	if (c->ssl) {
		n = vc_seal(c->c2s, c->ctr++, pkt, (size_t)n, sealed, sizeof(sealed));
		assert_true(n > 0);
		cli_voice_raw(c, sealed, (size_t)n);
		return;
	}
	cli_voice_raw(c, pkt, (size_t)n);
}

int cli_voice_recv_raw(struct cli *c, uint8_t *buf, size_t size, int ms)
{
	struct pollfd pfd = {c->ufd, POLLIN, 0};

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return (int)recv(c->ufd, buf, size, 0);
}

int cli_voice_recv(struct cli *c, uint8_t *buf, size_t size, int ms)
{
	uint8_t raw[2048];
	int n;

	if (!c->ssl)
		return cli_voice_recv_raw(c, buf, size, ms);
	n = cli_voice_recv_raw(c, raw, sizeof(raw), ms);
	if (n < 0)
		return -1;
	n = vc_open_window(c->s2c, &c->win, raw, (size_t)n, IC_RTP_MAX, buf, size, NULL);
	if (n == -EALREADY)
		fail_msg("%s: the server reused counter %llu under this key", c->nick,
			 (unsigned long long)vc_packet_ctr(raw));
	if (n < 0)
		fail_msg("%s: a voice packet from the server failed its tag (%d)",
			 c->nick, n);
	return n;
}

void cli_voice_register(struct cli *c)
{
	uint8_t buf[2048];
	struct rtp_pkt p;
	int n;

	if (c->ufd < 0)
		cli_udp_open(c);
	cli_voice(c, NULL, 0, false);
	n = cli_voice_recv(c, buf, sizeof(buf), WAIT_MS);
	assert_int_equal(n,
			 RTP_FIXED_LEN); /* the header, extension removed, no payload */
	assert_int_equal(rtp_parse(buf, (size_t)n, &p), 0);
	assert_int_equal(p.hdr.ssrc, c->ssrc);
	assert_false(buf[0] & 0x10);
}
