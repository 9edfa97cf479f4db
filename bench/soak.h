/* soak's protocol clients: each a model of what the server should do for it (the lines
 * due to it, in order; the talker it should hear) and the sockets that check it. One
 * process, one thread: pump() polls every client. State shared with soak.c's mix of
 * actions lives in the globals below. */
#ifndef SOAK_H
#define SOAK_H

#include <stdbool.h>
#include <stdint.h>

#include "ic_limits.h"
#include "vclient.h"

#define EXPECT_MAX     512  /* lines in flight to one client */
#define WAIT_S	       10.0 /* an answer later than this is a failure */
#define MARGIN_MS      60   /* voice sent this close to a change is not judged */
#define PAYLOAD	       40
#define TOKENS_RESERVE 4 /* lines kept in hand below the server's rate limit */

enum cstate { OFF, ON };

struct client {
	int idx;
	char nick[24];
	enum cstate st;
	int fd, ufd;
	char in[1 << 15];
	size_t in_len;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	uint32_t ts;
	bool registered, talker, closing;
	char rooms[IC_ROOMS_PER_CLIENT]
		  [IC_ROOM_MAX + 1]; /* join order: the last is voice */
	int nrooms;
	int peer; /* active call, or -1 */
	char *expect[EXPECT_MAX];
	unsigned ehead, elen;
	double tokens, tok_t;
	char pong_want[16];
	bool pong_seen, joined_seen;
	/* the voice window being judged: hearing talker iv_talker since iv_start */
	int iv_talker;
	double iv_start;
	uint8_t seen[65536 / 8];
	/* over TLS (the default): its session, its identity (kept across its logins, so
	 * its registered nick stays its own), its voice keys and counters */
	void *ssl, *key, *cert;
	struct vc *c2s, *s2c;
	struct ctrwin win;
	uint64_t ctr;
};

extern struct client *cl;
extern int n_clients, n_talkers;
extern unsigned port;
/* a hundred clients log in from this one address, which a real LAN never sees; they
 * speak TLS (1.1) unless plain (protocol 1.0, token voice in the clear) */
extern bool plain;
extern void *tls_ctx;
extern double *sent_at[256]; /* per talker: send time of each sequence number */
extern double next_voice;    /* when the talkers send their next packets */
extern bool tearing_down;    /* everyone is leaving: the last End lines are not judged */
extern uint64_t errors, lines_checked, voice_sent, voice_judged, voice_missing,
    voice_dups, voice_stray, voice_got;

/* n clients, the first talkers of them talkers, each with its identity unless plain;
 * -ENOMEM or -EIO (an identity could not be made). clients_free releases them. */
int clients_alloc(int n, int talkers);
void clients_free(void);
/* Count a failure; print the first 20. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line the server must deliver to c next (after those already due). */
void expect(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Nothing more is due to c. */
void expect_clear(struct client *c);
/* One line from c; a failure if it cannot be sent. */
void send_line(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Model of the server's rate limit: wait (pumping) until c may send n more lines. */
void take_tokens(struct client *c, int n);
bool in_room(const struct client *c, const char *room);
/* Judge the voice window that ends now, then open the next one if c hears a talker. */
void voice_window(struct client *c, double now);
/* Judge the window up to now and stop judging until voice_window reopens one: for the
 * time between asking the server for a change and its answer. */
void voice_pause(struct client *c, double now);
/* c is in room (again: it becomes the voice room), or no longer. */
void room_add(struct client *c, const char *room);
void room_del(struct client *c, const char *room);
/* Close c's sockets and forget its session. */
void close_client(struct client *c);
/* Poll every socket for up to ms, and keep the talkers talking. */
void pump(int ms);
/* The server has handled everything c sent so far: PING, wait for its PONG. */
bool barrier(struct client *c);
/* Connect (TLS unless plain), log in, register the voice address. */
bool login(struct client *c);
/* JOIN room and wait until the server has it. */
void do_join(struct client *c, const char *room);

#endif
