#include "hostile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtp.h"

uint64_t hostile_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One login and out on a fresh connection from `from`. Returns true when complete. */
static bool churn_once(unsigned port, const char *from)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)},
			   b = {.sin_family = AF_INET};
	char in[8192], line[128];
	size_t len = 0;
	bool done = false;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, from, &b.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&b, sizeof(b)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	snprintf(line, sizeof(line), "CONNECT: \"Churn\" \"\" 1.0.0\n");
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
		goto out;
	while (!done) { /* the login's PING: PONG and DISCONNECT at once */
		struct pollfd p = {fd, POLLIN, 0};
		char *nl, *ping;
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			goto out;
		n = recv(fd, in + len, sizeof(in) - len - 1, 0);
		if (n <= 0)
			goto out;
		len += (size_t)n;
		in[len] = '\0';
		if ((ping = strstr(in, "PING: ")) && (nl = strchr(ping, '\n'))) {
			*nl = '\0';
			snprintf(line, sizeof(line), "PONG: %s\nDISCONNECT\n", ping + 6);
			done = send(fd, line, strlen(line), MSG_NOSIGNAL) > 0;
			if (len > sizeof(in) / 2)
				len = 0;
		}
	}
	while (recv(fd, in, sizeof(in), 0) > 0) /* until the server closes */
		;
out:
	if (fd >= 0)
		close(fd);
	return done;
}

unsigned hostile_churn(unsigned port, const char *from, uint64_t ms)
{
	uint64_t until = hostile_ms() + ms;
	unsigned cycles = 0;

	while (hostile_ms() < until && churn_once(port, from))
		cycles++;
	return cycles;
}

unsigned hostile_burst(struct hostile_voice *v, unsigned n, size_t payload)
{
	static uint8_t pkts[64][IC_RTP_MAX];
	static const uint8_t zeros[IC_RTP_MAX];
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)v->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct mmsghdr mh[64];
	struct iovec iov[64];
	int r;

	if (n > 64)
		n = 64;
	memset(mh, 0, sizeof(mh));
	for (unsigned i = 0; i < n; i++) {
		struct rtp_hdr h = {false, IC_RTP_PT_OPUS, v->seq++, v->ts, v->ssrc};
		uint8_t plain[IC_RTP_MAX];
		int len = v->seal ? rtp_pack(plain, sizeof(plain) - 32, &h, NULL, zeros,
					     payload)
				  : rtp_pack(pkts[i], sizeof(pkts[i]), &h, v->token,
					     zeros, payload);

		if (v->seal && len > 0)
			len = v->seal(v->seal_arg, plain, (size_t)len, pkts[i],
				      sizeof(pkts[i]));

		v->ts += 960;
		iov[i].iov_base = pkts[i];
		iov[i].iov_len = len > 0 ? (size_t)len : 0;
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
		mh[i].msg_hdr.msg_name = &to;
		mh[i].msg_hdr.msg_namelen = sizeof(to);
	}
	r = sendmmsg(v->fd, mh, n, MSG_DONTWAIT);
	return r > 0 ? (unsigned)r : 0;
}

uint64_t hostile_flood_step(struct hostile_voice *v, uint64_t start_ms, uint64_t *sent,
			    unsigned pps, size_t payload)
{
	uint64_t due = (hostile_ms() - start_ms) * pps / 1000;

	while (*sent < due) {
		uint64_t k = due - *sent > 64 ? 64 : due - *sent;

		hostile_burst(v, (unsigned)k, payload);
		*sent += k; /* what the kernel refused counts as sent: it was offered */
	}
	return *sent;
}
