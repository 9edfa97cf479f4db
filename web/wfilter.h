/* wfilter.h: what passes between a page's WebSocket and its session toward intercomd
 * (docs/WEB.md), as pure functions: the lines a page may send, the server's lines a page
 * is shown, and the voice frames both ways. */
#ifndef IC_WFILTER_H
#define IC_WFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

#define WF_VOICE      0x01 /* byte 0 of a binary frame: voice */
#define WF_FLAG_START 0x01 /* byte 1, bit 0: a talk spurt's first frame (RTP marker) */
#define WF_UP_HDR     2	   /* page -> gateway: type, flags */
#define WF_DOWN_HDR   12   /* gateway -> page: type, flags, ssrc, seq, ts */

/* A page's text message s[0..len): 0 when it is one protocol line of a verb a client
 * sends after login (JOIN, PART, USERLIST, PRIVMSG, TALK), within the line limit, UTF-8
 * without control bytes; -EMSGSIZE (too long), -EILSEQ (CR, LF, a control byte, not
 * UTF-8), -EPERM (CONNECT, PING, PONG, DISCONNECT: the gateway's own; an unknown verb or
 * a malformed line). */
int wfilter_up_line(const char *s, size_t len);

/* A server line shown to the page: false for PING (the gateway answers it) and VOICE
 * (its keys never leave the gateway). */
bool wfilter_down_line(const char *line);

/* A page's voice frame p[0..len): the Opus packet (*opus, *olen) and whether it starts
 * a talk spurt. Returns 0, or -EINVAL (not a voice frame, no payload, or over the
 * datagram's room for Opus). */
int wfilter_up_voice(const uint8_t *p, size_t len, const uint8_t **opus, size_t *olen,
		     bool *start);

/* The frame for the page of a relayed packet h + payload[0..len) into out (size bytes).
 * Returns its length or -ENOSPC. */
int wfilter_down_voice(const struct rtp_hdr *h, const uint8_t *payload, size_t len,
		       uint8_t *out, size_t size);

#endif
