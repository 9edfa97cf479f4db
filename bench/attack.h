/* attack.h: what bench_attack's scenarios share: the real intercomd started for each
 * run, honest members logged in beside the attack (plain protocol 1.0, or TLS 1.3
 * boxes with identities of their own and sealed voice), an honest talker heard by every
 * member, and the window that measures what they get while an attack runs.
 *
 * A scenario is a function in the table of attack.c: it starts a server, logs the
 * members in, runs a baseline window and an attack window in the same run (so the two
 * figures come from the same machine at the same time), prints them and stops the
 * server. Hosts are loopback addresses: 127.0.0.1 for the honest, 127.0.0.2 and up for
 * the attacker (docs/PERFORMANCE.md). */
#ifndef IC_ATTACK_H
#define IC_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hostile.h"

#define ATTACK_MEMBERS_MAX 300
#define ATTACK_PROBE_MS	   20 /* the honest talker's packet interval */

/* The command line's settings, read by every scenario. */
struct attack_opts {
	const char *server;  /* intercomd's path */
	double secs;	     /* length of each window */
	unsigned members;    /* honest members, the talker included */
	unsigned kbps;	     /* churn: what each member reads a second */
	unsigned fixed_port; /* 0: the server picks a free port */
};
extern struct attack_opts attack_opt;

/* What the honest members got in one window. */
struct attack_figures {
	double delivered;  /* % of the talker's packets heard, over every member */
	double p50, p99;   /* delay in ms, talker's send to a member's receive */
	unsigned dropped;  /* members whose connection ended */
	double server_cpu; /* % of one core */
};

/* Start intercomd: protocol 1.0 (tls false: --tls off) or TLS 1.3 with a state
 * directory of its own, with extra flags (NULL-terminated, or NULL). Returns 0 or -1
 * (said on stderr). */
int attack_start_server(bool tls, const char *const *extra);
/* Close every member, stop the server and remove its state. */
void attack_stop_server(void);
/* The server's TCP port (also its UDP voice port), its pid, its log's path. */
unsigned attack_port(void);
bool attack_server_tls(void);
pid_t attack_server_pid(void);
const char *attack_server_log(void);

/* Log attack_opt.members honest members in from 127.0.0.1, in the server's mode.
 * Returns 0 or -1 (said on stderr). */
int attack_login_members(void);
/* Close every member's sockets (attack_stop_server does). */
void attack_members_close(void);

/* Run one window of attack_opt.secs: the talker every ATTACK_PROBE_MS, the members'
 * lines answered (each reading at most per_turn bytes a turn of about 10 ms; 0: all
 * there is; plain members only), attack(arg) called every turn (NULL: a baseline).
 * Prints a line of figures under name and fills *f (may be NULL). */
void attack_window(const char *name, void (*attack)(void *), void *arg, size_t per_turn,
		   struct attack_figures *f);

/* A socket from `from` (IPv4 text) to the server: TCP connected, or UDP bound. -1 on
 * failure. */
int attack_connect_from(const char *from, int type);

/* ---- plain members, for the protocol 1.0 scenarios (attack_plain.c) ---- */
struct attack_member;
/* Member i (0 <= i < ATTACK_MEMBERS_MAX). */
struct attack_member *attack_member(unsigned i);
/* Log m in as nick from `from` over protocol 1.0. 0 or -1. */
int attack_plain_login(struct attack_member *m, const char *nick, const char *from);
/* m's voice, as a flooder would send it. */
struct hostile_voice *attack_member_voice(struct attack_member *m);
/* The last #Lobby list m got, and how many it got. */
const char *attack_member_list(const struct attack_member *m, unsigned *lists);
bool attack_member_dropped(const struct attack_member *m);
/* Read all of m's lines now. */
void attack_member_take(struct attack_member *m);
/* One probe packet from the talker. */
void attack_probe_send(void);
int attack_member_udp(const struct attack_member *m);

/* ---- the scenarios ---- */
int attack_run_churn(void);
int attack_run_flood(void);
int attack_run_pending(void);
int attack_run_spoof(void);
/* what one host may cost (attack_host.c) */
int attack_run_slots(void);
int attack_run_sessions(void);
int attack_run_registry(void);
/* attack_tls.c: floods of TLS records without a line on one logged-in connection */
int attack_run_keyupdate(void);
int attack_run_tlsjunk(void);

#endif
