#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "addr.h"
#include "conn.h"
#include "fanout.h"
#include "guard.h"
#include "hub.h"
#include "listen.h"
#include "log.h"
#include "registry.h"
#include "tlsctx.h"

struct server {
	struct loop *loop;
	struct hub *hub;
	int lfd, ufd;
	struct conns conns; /* the clients' connections */
	struct tmr tick;
	struct tmr accept_pause; /* out of descriptors: stop accepting for a while */
	/* voice: a batch of received packets, the copy to send, its destinations */
	uint8_t rx[IC_RX_BATCH][2048];
	struct mmsghdr rmsg[IC_RX_BATCH];
	struct iovec riov[IC_RX_BATCH];
	struct sockaddr_storage rfrom[IC_RX_BATCH];
	/* each packet's kernel receive time (SO_TIMESTAMPNS) */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct timespec))];
	} rctl[IC_RX_BATCH];
	struct hist delay; /* receive -> last copy sent, per relayed packet */
	uint64_t trim_due; /* the next look at freed heap (trim_heap) */
	uint8_t tx[IC_RTP_MAX];
	struct hub_stats last; /* the counters at the last status line */
	uint64_t last_tx_lost, last_tls_failed;
	uint64_t status_due;
	struct voice_dest *dests;
	struct fanout fan;
	struct reg *reg;	/* the nick registry, over TLS */
	uint64_t reg_due;	/* its next write, when it has changes */
	pid_t reg_child;	/* the process writing it now, or 0 */
	int reg_fd;		/* its answer (the save's result) comes here */
	uint64_t reg_child_gen; /* the changes that process writes */
	uint64_t reg_tried;	/* the changes the latest save tried to write */
};

static void listen_event(int fd, int events, void *arg);

static void accept_resume(void *arg)
{
	struct server *srv = arg;

	loop_fd(srv->loop, srv->lfd, LOOP_READ, listen_event, srv);
}

static void listen_event(int fd, int events, void *arg)
{
	struct server *srv = arg;

	(void)events;
	for (int i = 0; i < 64; i++) { /* bounded: a connect storm cannot starve voice */
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		int cfd = accept4(fd, (struct sockaddr *)&from, &fl,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the pending connection stays readable: without a pause
				 * the loop would spin on it */
				log_warn("accept: %s; not accepting for a second",
					 strerror(errno));
				loop_fd(srv->loop, fd, 0, NULL, NULL);
				tmr_start(srv->loop, &srv->accept_pause, 1000,
					  accept_resume, srv);
				return;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		conns_accept(&srv->conns, cfd, &from, fl);
	}
}

/* How long a relayed packet spent in the server: from the kernel's receive stamp to
 * now, when its last copy has been handed to the kernel. */
static void note_delay(struct server *srv, struct msghdr *mh)
{
	struct timespec now, at;
	struct cmsghdr *cm;
	int64_t us;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&at, CMSG_DATA(cm), sizeof(at));
			clock_gettime(CLOCK_REALTIME, &now);
			us = (int64_t)(now.tv_sec - at.tv_sec) * 1000000 +
			     (now.tv_nsec - at.tv_nsec) / 1000;
			hist_add(&srv->delay, us > 0 ? (uint64_t)us : 0);
			return;
		}
	}
}

static void udp_event(int fd, int events, void *arg)
{
	struct server *srv = arg;

	(void)events;
	for (int round = 0; round < 4; round++) {
		int n;

		for (int i = 0; i < IC_RX_BATCH; i++) {
			srv->riov[i].iov_base = srv->rx[i];
			srv->riov[i].iov_len = sizeof(srv->rx[i]);
			memset(&srv->rmsg[i].msg_hdr, 0, sizeof(srv->rmsg[i].msg_hdr));
			srv->rmsg[i].msg_hdr.msg_iov = &srv->riov[i];
			srv->rmsg[i].msg_hdr.msg_iovlen = 1;
			srv->rmsg[i].msg_hdr.msg_name = &srv->rfrom[i];
			srv->rmsg[i].msg_hdr.msg_namelen = sizeof(srv->rfrom[i]);
			srv->rmsg[i].msg_hdr.msg_control = srv->rctl[i].buf;
			srv->rmsg[i].msg_hdr.msg_controllen = sizeof(srv->rctl[i].buf);
		}
		n = recvmmsg(fd, srv->rmsg, IC_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &srv->rmsg[i].msg_hdr;
			size_t len = srv->rmsg[i].msg_len, olen = 0, nd;

			if (mh->msg_flags & MSG_TRUNC)
				len = IC_RTP_MAX + 1; /* oversized: the hub drops it */
			nd = hub_voice(srv->hub, srv->rx[i], len,
				       (struct sockaddr *)&srv->rfrom[i], mh->msg_namelen,
				       loop_now(srv->loop), srv->tx, &olen, srv->dests);
			if (nd) {
				fanout_send(&srv->fan, srv->ufd, srv->tx, olen,
					    srv->dests, nd);
				/* relayed voice, not a keepalive's answer (which
				 * goes back to where it came from) */
				if (srv->dests[0].addr !=
				    (struct sockaddr *)&srv->rfrom[i])
					note_delay(srv, mh);
			}
		}
		if (n < IC_RX_BATCH)
			return;
	}
}

static void closed_cb(void *arg, struct transport *tp, bool abort)
{
	(void)arg;
	tp->ops->close(tp, abort);
}

static void tick(void *arg);
static void reg_write(struct server *srv, uint64_t now);

/* Input may have scheduled hub work (a coalesced list) before the tick's timer. */
static void rearm_tick(struct server *srv)
{
	uint64_t due = hub_next_due(srv->hub), now = loop_now(srv->loop);

	if (due == UINT64_MAX || (srv->tick.active && srv->tick.due_ms <= due))
		return;
	tmr_start(srv->loop, &srv->tick, due > now ? due - now : 0, tick, srv);
}

static void before_sleep(void *arg)
{
	struct server *srv = arg;

	hub_reap(srv->hub, closed_cb, srv);
	/* a new binding waits for its save (made here when fork fails: its answer is
	 * then sent below) */
	reg_write(srv, loop_now(srv->loop));
	conns_before_sleep(&srv->conns);
	rearm_tick(srv);
}

/* Hand freed heap back to the system. A burst (a thousand logins at once, each sending
 * every member of #Lobby its list) leaves megabytes of output queues freed but still
 * resident; glibc keeps what it frees below its mmap threshold. Checked once a second;
 * trimming costs a walk of the free lists, only done when over a megabyte is free. */
static void trim_heap(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	if (mallinfo2().fordblks > IC_TRIM_FREE)
		malloc_trim(0);
#endif
}

static void log_counters(const struct server *srv, const char *what)
{
	struct hub_stats st;

	hub_get_stats(srv->hub, &st);
	log_info(
	    "%s: %u sessions (%u logged in); voice %llu packets in, %llu dropped "
	    "(%llu over a session's rate, %llu from a wrong address, %llu failed their "
	    "tag, %llu replayed), %llu "
	    "keepalives, %llu copies out, %llu not sent (%llu send buffer full); "
	    "%llu connections refused (too many pending from one address); TLS: %llu "
	    "handshakes, %llu failed, %llu refused (too many at once), %llu evicted "
	    "(for a newcomer), %llu plaintext refused, %llu silent closed; logins: %llu "
	    "failed, %llu blocked, %llu closed on accept (blocked); per host: %llu "
	    "connections evicted and %llu refused (table full), %llu logins refused (too "
	    "many sessions), "
	    "%llu voice packets over its rate, %llu nicks left unbound (too many new)",
	    what, st.sessions, st.logged_in, (unsigned long long)st.voice_in,
	    (unsigned long long)st.voice_dropped, (unsigned long long)st.voice_over_rate,
	    (unsigned long long)st.voice_wrong_source,
	    (unsigned long long)st.voice_bad_tag, (unsigned long long)st.voice_replayed,
	    (unsigned long long)st.keepalives, (unsigned long long)st.voice_copies,
	    (unsigned long long)(srv->fan.full + srv->fan.failed),
	    (unsigned long long)srv->fan.full, (unsigned long long)st.pending_refused,
	    (unsigned long long)srv->conns.st.handshakes,
	    (unsigned long long)srv->conns.st.handshake_failed,
	    (unsigned long long)srv->conns.st.handshake_refused,
	    (unsigned long long)srv->conns.st.handshake_evicted,
	    (unsigned long long)srv->conns.st.plain_refused,
	    (unsigned long long)srv->conns.st.silent_closed,
	    (unsigned long long)st.login_failed, (unsigned long long)st.login_blocked,
	    (unsigned long long)srv->conns.st.blocked_refused,
	    (unsigned long long)st.pending_evicted,
	    (unsigned long long)srv->conns.st.table_refused,
	    (unsigned long long)st.sessions_refused,
	    (unsigned long long)st.voice_host_over_rate,
	    (unsigned long long)st.binds_refused);
}

/* Once a minute, when something was refused or dropped since the last one: what the
 * guards did shows in the log while it happens, not only at shutdown. */
static void status_log(struct server *srv, uint64_t now)
{
	struct hub_stats st;

	if (now < srv->status_due)
		return;
	srv->status_due = now + IC_STATUS_LOG_MS;
	hub_get_stats(srv->hub, &st);
	if (st.voice_over_rate != srv->last.voice_over_rate ||
	    st.voice_wrong_source != srv->last.voice_wrong_source ||
	    st.voice_bad_tag != srv->last.voice_bad_tag ||
	    st.pending_refused != srv->last.pending_refused ||
	    st.pending_evicted != srv->last.pending_evicted ||
	    st.sessions_refused != srv->last.sessions_refused ||
	    st.voice_host_over_rate != srv->last.voice_host_over_rate ||
	    st.binds_refused != srv->last.binds_refused ||
	    srv->conns.st.handshake_failed != srv->last_tls_failed ||
	    srv->fan.full + srv->fan.failed != srv->last_tx_lost)
		log_counters(srv, "status");
	srv->last = st;
	srv->last_tx_lost = srv->fan.full + srv->fan.failed;
	srv->last_tls_failed = srv->conns.st.handshake_failed;
}

/* reg_save, its failure logged (here or in the child that made it). */
static int reg_save_logged(struct reg *r)
{
	char err[400];
	int e = reg_save(r, err, sizeof(err));

	if (e)
		log_err("nick registry not saved: %s (tried again in a minute, and at "
			"each new nick)",
			err);
	return e;
}

/* A save of the changes up to gen ended with e: saved, or tried again later; logins
 * waiting for their binding to be on disk are answered. */
static void reg_done(struct server *srv, uint64_t gen, int e, uint64_t now)
{
	if (!e)
		reg_saved(srv->reg, gen);
	else
		srv->reg_due = now + IC_REGISTRY_RETRY_MS;
	if (srv->hub)
		hub_reg_saved(srv->hub, gen, e, now);
}

/* The child writing the registry has answered (or, wait: once it does). */
static void reg_reap(struct server *srv, uint64_t now, bool wait)
{
	int e = -EIO, st;
	ssize_t n;

	do
		n = read(srv->reg_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN && !wait)
		return;
	if (n != sizeof(e) || e > 0)
		e = -EIO; /* it died before it could tell */
	loop_fd(srv->loop, srv->reg_fd, 0, NULL, NULL);
	close(srv->reg_fd);
	/* it has nothing left to do but exit */
	while (waitpid(srv->reg_child, &st, 0) < 0 && errno == EINTR)
		;
	srv->reg_child = 0;
	srv->reg_fd = -1;
	reg_done(srv, srv->reg_child_gen, e, now);
}

static void reg_child_event(int fd, int events, void *arg)
{
	struct server *srv = arg;

	(void)fd, (void)events;
	reg_reap(srv, loop_now(srv->loop), false);
}

/* The save in a child process, a copy-on-write snapshot of this one: the fsyncs, which
 * an SD card can take hundreds of milliseconds for, never hold up voice or logins
 * (docs/ROBUSTNESS.md). The child writes the file, tells its result through a pipe and
 * _exits. Returns false when no child could be made. */
static bool reg_fork(struct server *srv)
{
	int fds[2];
	pid_t p;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK))
		return false;
	p = fork();
	if (p == 0) {
		int e;

		/* the clients' sockets are the server's: a copy held here while a slow
		 * disk syncs would keep a closed session's connection open that long */
		if (fds[1] > 3)
			close_range(3, (unsigned)fds[1] - 1, 0);
		close_range(fds[1] < 3 ? 3 : (unsigned)fds[1] + 1, ~0u, 0);
		e = reg_save_logged(srv->reg);
		_exit(write(fds[1], &e, sizeof(e)) == sizeof(e) ? 0 : 1);
	}
	close(fds[1]);
	if (p < 0) {
		close(fds[0]);
		return false;
	}
	srv->reg_child = p;
	srv->reg_fd = fds[0];
	loop_fd(srv->loop, fds[0], LOOP_READ, reg_child_event, srv);
	return true;
}

/* Save the registry's changes when a save is due: at once when a new binding waits for
 * one (its login is answered once it is on disk; bindings made while a save runs share
 * the next one), else at most every IC_REGISTRY_SAVE_MS. Where fork fails, the save is
 * made here. */
static void reg_write(struct server *srv, uint64_t now)
{
	bool wanted;

	if (!srv->reg || srv->reg_child > 0 || !reg_dirty(srv->reg))
		return;
	wanted = reg_bind_gen(srv->reg) > srv->reg_tried;
	if (!wanted && now < srv->reg_due)
		return;
	srv->reg_due = now + IC_REGISTRY_SAVE_MS;
	srv->reg_tried = srv->reg_child_gen = reg_gen(srv->reg);
	if (!reg_fork(srv))
		reg_done(srv, srv->reg_child_gen, reg_save_logged(srv->reg), now);
}

/* At stop: the save running finished, then the last changes saved here. Returns 0 or
 * the failed save's -errno (logged). */
static int reg_final(struct server *srv)
{
	int e = 0;

	if (!srv->reg)
		return 0;
	if (srv->reg_child > 0) {
		int fl = fcntl(srv->reg_fd, F_GETFL);

		fcntl(srv->reg_fd, F_SETFL, fl & ~O_NONBLOCK);
		reg_reap(srv, 0, true);
	}
	if (reg_dirty(srv->reg))
		e = reg_save_logged(srv->reg);
	if (e)
		log_err(
		    "stopping with the nick registry not saved: the changes since its "
		    "last save are lost (free space in %s)",
		    reg_dir(srv->reg));
	return e;
}

static void tick(void *arg)
{
	struct server *srv = arg;
	uint64_t now = loop_now(srv->loop), next = hub_tick(srv->hub, now);
	uint64_t wait = next > now ? next - now : 1;

	if (now >= srv->trim_due) {
		trim_heap();
		srv->trim_due = now + 1000;
	}
	status_log(srv, now);
	reg_write(srv, now);

	/* at least once a second: new deadlines (a login, a ring) are never nearer than 1
	 * s */
	tmr_start(srv->loop, &srv->tick, wait > 1000 ? 1000 : wait, tick, srv);
}

int server_new(struct server **sp, const struct srv_conf *c, const struct ident *id,
	       struct loop *l, char *err, size_t errlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct listen_socks ls;
	struct hub_conf hc = {
	    .name = c->name,
	    .max_clients = c->max_clients,
	    .ping_interval_ms = c->ping_interval * 1000ull,
	    .ping_timeout_ms = c->ping_timeout * 1000ull,
	    .ring_timeout_ms = c->ring_timeout * 1000ull,
	    .max_pending_per_source = c->max_pending_per_source,
	    .guests = c->guests,
	    .password = c->password,
	};
	int e;

	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	srv->loop = l;
	srv->lfd = srv->ufd = srv->conns.maxfd = srv->reg_fd = -1;
	srv->conns.loop = l;
	if (c->tls) {
		e = tlsctx_new(&srv->conns.tls, id, true, err, errlen);
		if (!e)
			e = reg_open(&srv->reg, c->state_dir, REG_SHARED, err, errlen);
		if (e)
			goto fail;
		hc.reg = srv->reg;
		hc.registration_closed = c->registration_closed;
	}
	e = listen_open(c->bind, c->port, c->udp_port, &ls, err, errlen);
	if (e)
		goto fail;
	srv->lfd = ls.tcp;
	srv->ufd = ls.udp;
	hc.udp_port = ls.udp_port; /* VOICE names the port bound (port 0: the kernel's) */
	srv->dests = calloc(c->max_clients, sizeof(*srv->dests));
	e = srv->dests ? hub_new(&srv->hub, &hc) : -ENOMEM;
	srv->conns.hub = srv->hub;
	if (e) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* checked when it was set: this cannot fail */
	e = guard_trust(hub_guard(srv->hub), c->trusted, err, errlen);
	if (e)
		goto fail;
	loop_fd(l, srv->lfd, LOOP_READ, listen_event, srv);
	loop_fd(l, srv->ufd, LOOP_READ, udp_event, srv);
	/* voice must not pay for a select() over every client */
	loop_fd_hot(l, srv->ufd, true);
	loop_set_before_sleep(l, before_sleep, srv);
	tmr_start(l, &srv->tick, 1000, tick, srv);
	srv->status_due = loop_now(l) + IC_STATUS_LOG_MS;
	log_info("listening on %s port %u (TCP) and %u (UDP voice) as '%s'%s", ls.where,
		 ls.tcp_port, ls.udp_port, c->name, c->tls ? ", TLS 1.3 only" : "");
	if (!c->tls)
		log_warn("tls = off: signalling and voice are in the clear and nicks are "
			 "first come, first served (protocol 1.0, for debugging only)");
	*sp = srv;
	return 0;
fail:
	server_free(srv);
	return e;
}

int server_free(struct server *srv)
{
	int e = 0;

	if (!srv)
		return 0;
	if (srv->hub) {
		struct hub_stats st;

		hub_get_stats(srv->hub, &st);
		log_info("voice: %llu packets in, %llu dropped, %llu keepalives, %llu "
			 "copies out",
			 (unsigned long long)st.voice_in,
			 (unsigned long long)st.voice_dropped,
			 (unsigned long long)st.keepalives,
			 (unsigned long long)st.voice_copies);
		log_counters(srv, "totals");
		if (srv->delay.n)
			log_info(
			    "voice: added delay (kernel receive -> last copy sent) p50 "
			    "%llu us, p99 %llu us, max bucket %llu us, over %llu packets",
			    (unsigned long long)hist_pct(&srv->delay, 0.50),
			    (unsigned long long)hist_pct(&srv->delay, 0.99),
			    (unsigned long long)hist_pct(&srv->delay, 1.0),
			    (unsigned long long)srv->delay.n);
		conns_detach(&srv->conns); /* the hub closes them; no loop updates */
		hub_free(srv->hub);
		srv->hub = NULL;
		e = reg_final(srv); /* with the last seen times hub_free set */
	}
	reg_free(srv->reg);
	tmr_cancel(srv->loop, &srv->tick);
	tmr_cancel(srv->loop, &srv->accept_pause);
	loop_set_before_sleep(srv->loop, NULL, NULL);
	if (srv->lfd >= 0) {
		loop_fd(srv->loop, srv->lfd, 0, NULL, NULL);
		close(srv->lfd);
	}
	if (srv->ufd >= 0) {
		loop_fd(srv->loop, srv->ufd, 0, NULL, NULL);
		close(srv->ufd);
	}
	tlsctx_free(srv->conns.tls);
	free(srv->dests);
	free(srv);
	return e;
}
