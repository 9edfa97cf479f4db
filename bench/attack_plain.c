/* attack_plain.c: bench_attack's protocol 1.0 scenarios (--tls off): login churn, a
 * voice flood, connections that never log in, a spoofed voice address; see attack.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attack.h"

int attack_run_churn(void)
{
	int p[2];
	unsigned cycles = 0, right = 0, lists = 0, n = attack_opt.members;
	char want[8192] = "USERLIST #Lobby: ";
	pid_t pid;

	if (attack_start_server(false, NULL) || attack_login_members() || pipe(p))
		return -1;
	for (unsigned i = 0; i < n; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sMember%03u",
			 i ? ", " : "", i);
	pid = fork();
	if (pid == 0) {
		unsigned c = hostile_churn(attack_port(), "127.0.0.2",
					   (uint64_t)(attack_opt.secs * 1000));

		(void)!write(p[1], &c, sizeof(c));
		_exit(0);
	}
	close(p[1]);
	/* kB/s in 10 ms turns */
	attack_window("churn", NULL, NULL, attack_opt.kbps * 1000 / 100, NULL);
	if (read(p[0], &cycles, sizeof(cycles)) != sizeof(cycles))
		cycles = 0;
	close(p[0]);
	waitpid(pid, NULL, 0);
	usleep(500000);
	for (unsigned i = 0; i < n; i++) {
		struct attack_member *m = attack_member(i);

		attack_member_take(m);
		right += !attack_member_dropped(m) &&
			 !strcmp(attack_member_list(m, &lists), want);
	}
	attack_member_list(attack_member(1), &lists);
	printf("          (%u members reading %u kB/s; %.0f login cycles a second from "
	       "one host; %.1f lists a second to a member; %u of %u ended with the "
	       "right list)\n",
	       n, attack_opt.kbps, cycles / attack_opt.secs, lists / attack_opt.secs,
	       right, n);
	attack_stop_server();
	return 0;
}

struct flood {
	struct hostile_voice v;
	uint64_t start, sent;
};

static void flood_turn(void *arg)
{
	struct flood *f = arg;

	hostile_flood_step(&f->v, f->start, &f->sent, 5000, 1100);
}

int attack_run_flood(void)
{
	struct attack_member *fm = attack_member(ATTACK_MEMBERS_MAX - 1);
	struct flood f;

	if (attack_start_server(false, NULL) || attack_login_members() ||
	    attack_plain_login(fm, "Flood", "127.0.0.2"))
		return -1;
	f.v = *attack_member_voice(fm);
	f.start = hostile_ms();
	f.sent = 0;
	attack_window("flood", flood_turn, &f, 0, NULL);
	printf("          (one session sent %.0f packets of 1100 bytes a second)\n",
	       (double)f.sent / attack_opt.secs);
	attack_stop_server();
	return 0;
}

int attack_run_pending(void)
{
	static int fds[272];
	unsigned open_after = 0;
	struct attack_member *h = attack_member(ATTACK_MEMBERS_MAX - 1);
	int ok;

	if (attack_start_server(false, NULL))
		return -1;
	/* a talker and a listener for the probe */
	attack_opt.members = attack_opt.members < 2 ? attack_opt.members : 2;
	if (attack_login_members())
		return -1;
	for (int i = 0; i < 272; i++)
		fds[i] = attack_connect_from("127.0.0.2", SOCK_STREAM);
	usleep(500000);
	for (int i = 0; i < 272; i++) {
		char b[256];
		ssize_t n = fds[i] < 0 ? 0 : recv(fds[i], b, sizeof(b), MSG_DONTWAIT);

		open_after += fds[i] >= 0 && n < 0 && errno == EAGAIN;
	}
	ok = !attack_plain_login(h, "Honest", "127.0.0.3");
	printf("pending   272 connections from one host that never log in: %u held "
	       "open; another host's login: %s\n",
	       open_after, ok ? "ok" : "REFUSED");
	for (int i = 0; i < 272; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	attack_stop_server();
	return 0;
}

int attack_run_spoof(void)
{
	struct hostile_voice s;
	uint8_t buf[2048];
	unsigned at_b = 0, at_attacker = 0;
	int afd;

	attack_opt.members = attack_opt.members < 2 ? attack_opt.members : 2;
	if (attack_start_server(false, NULL) || attack_login_members())
		return -1;
	afd = attack_connect_from("127.0.0.3", SOCK_DGRAM);
	s = *attack_member_voice(
	    attack_member(1)); /* member 1's ssrc and token, sniffed */
	s.fd = afd;
	s.seq = (uint16_t)(s.seq + 100);
	hostile_burst(&s, 1, 0);
	hostile_burst(&s, 1, 20);
	usleep(100000);
	for (int i = 0; i < 10; i++)
		attack_probe_send();
	usleep(200000);
	while (recv(attack_member_udp(attack_member(1)), buf, sizeof(buf), MSG_DONTWAIT) >
	       0)
		at_b++;
	while (recv(afd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		at_attacker++;
	printf("spoof     after a packet with a member's token from another host: the "
	       "member heard %u of 10, the attacker %u\n",
	       at_b, at_attacker);
	close(afd);
	attack_stop_server();
	return 0;
}
