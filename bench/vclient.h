/* vclient.h: the benches' protocol client, many to a process and never blocking: a TCP
 * connection to intercomd, plain (protocol 1.0, token voice) or TLS 1.3 with a box
 * identity of its own (1.1, sealed voice), from a loopback source address of its own
 * when asked (each box is a host of its own, as on a LAN), and its UDP voice socket.
 * It logs in, answers PINGs, goes on from #Lobby to its room, and counts the voice it
 * receives (over TLS only what opens under its key in its window). */
#ifndef IC_VCLIENT_H
#define IC_VCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ic_limits.h"
#include "seqwin.h"
#include "vcrypt.h"

enum vcli_state {
	VCLI_CLOSED,	 /* not connected (or the server closed it) */
	VCLI_CONNECTING, /* TCP connect, then the TLS handshake */
	VCLI_LOGIN,	 /* CONNECT sent, until JOINED #Lobby (and its room) */
	VCLI_ONLINE,	 /* logged in (and in its room) */
};

struct vcli {
	enum vcli_state st;
	bool tcp_up; /* the TCP connect completed */
	int fd, ufd;
	void *ssl;		/* SSL *; NULL over plain TCP */
	void *key, *cert;	/* its identity over TLS (EVP_PKEY *, X509 *) */
	char nick[24], src[32]; /* src: its IPv4 source address ("" = 127.0.0.1) */
	int room;		/* >= 0: #rROOM, joined and #Lobby left at login */
	char in[1 << 16];
	size_t in_len;
	/* voice */
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	struct vc *c2s, *s2c;
	struct ctrwin win;
	uint64_t ctr;
	uint16_t seq;
	uint32_t ts;
	bool voice, registered; /* VOICE seen; a keepalive answered (address known) */
	bool bound;		/* REGISTERED seen: this login bound its nick */
	bool quiet; /* the caller's: ERROR lines are expected (an attacker's), not printed
		     */
	unsigned joins;
	uint64_t got, bad; /* voice packets taken; not opening, or replayed */
	double retry_at;   /* the caller's: when it may try to connect again */
	/* the caller's: each voice packet taken (opened over TLS; RTP header first) */
	void (*on_voice)(void *arg, const uint8_t *pkt, size_t len);
	void *voice_arg;
};

/* A client TLS context for vcli_open (SSL_CTX *; tlsctx's settings), or NULL. */
void *vcli_tls_ctx(void);

/* Set c up (zeroed, no sockets) as nick, from src ("" or NULL: 127.0.0.1), in room
 * (-1: #Lobby); over TLS with a fresh identity when tls. Returns 0 or -1. */
int vcli_init(struct vcli *c, const char *nick, const char *src, int room, bool tls);

/* Start connecting to 127.0.0.1:port (TLS when ctx): the login follows by itself as
 * vcli_event is called. Returns 0 or -1 (sockets: raise ulimit -n). */
int vcli_open(struct vcli *c, void *ctx, unsigned port);

/* The poll events c waits for on its TCP socket (0 when closed). */
short vcli_events(const struct vcli *c);
/* Its TCP socket had revents: the handshake, lines (PING answered, VOICE noted, JOINED
 * counted), or the end (VCLI_CLOSED, its sockets closed). */
void vcli_event(struct vcli *c, short revents);
/* Its UDP socket is readable: count voice, note keepalive answers. */
void vcli_udp(struct vcli *c);

/* Send one voice packet of len bytes of payload (0: a keepalive) to the UDP port;
 * sealed over TLS. */
void vcli_voice(struct vcli *c, unsigned port, size_t len, bool marker);
/* The same with the caller's payload (at most 512 bytes). */
void vcli_voice_payload(struct vcli *c, unsigned port, const uint8_t *payload, size_t len,
			bool marker);

/* The pieces, for a bench with a client of its own (soak). */
/* A fresh Ed25519 key and self-signed certificate (EVP_PKEY *, X509 *; free both with
 * vcli_identity_free). Returns 0 or -1. */
int vcli_identity(void **key, void **cert, const char *cn);
void vcli_identity_free(void *key, void *cert);
/* The TLS handshake on fd (connected, blocking until it is done) presenting key and
 * cert: the SSL *, or NULL. */
void *vcli_tls_handshake(void *ctx, int fd, void *key, void *cert);
/* All of buf over ssl (its socket may be non-blocking: a write that must wait, waits).
 * Returns 0 or -1. */
int vcli_tls_write(void *ssl, int fd, const void *buf, size_t len);
/* A 1.1 VOICE line's arguments: ssrc, and the two AEAD contexts (c2s seals, s2c
 * opens; the keys are wiped). Returns 0 or -1. */
int vcli_voice_keys(const char *args, uint32_t *ssrc, struct vc **c2s, struct vc **s2c);

/* Close its sockets (back to VCLI_CLOSED, identity kept); vcli_free also frees that. */
void vcli_close(struct vcli *c);
void vcli_free(struct vcli *c);

#endif
