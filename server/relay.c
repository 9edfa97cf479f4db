/* relay.c: voice packets: check, learn the sender's address, pick who hears it. */
#include <errno.h>
#include <string.h>

#include "hub_int.h"
#include "rtp.h"

static void set_dest(struct voice_dest *d, const struct sockaddr *addr, socklen_t len,
		     struct sess *hearer)
{
	d->addr = addr;
	d->len = len;
	d->seal = hearer->tls ? hearer->s2c : NULL;
	d->ctr = hearer->tls ? hearer->s2c_ctr++ : 0; /* never reused under its key */
}

static void add_dest(struct voice_dest *d, size_t *n, struct sess *s)
{
	set_dest(&d[(*n)++], (const struct sockaddr *)&s->vaddr, s->vaddr_len, s);
}

/* 1.0: the token, then the sequence window; the packet without its extension into out.
 * Returns the payload's length, or -1 to drop. */
static int open_token(struct sess *s, const uint8_t *pkt, size_t len, uint8_t *out,
		      size_t *out_len, enum seqwin_res *sr)
{
	struct rtp_pkt p;
	int olen;

	if (rtp_parse(pkt, len, &p) || !p.has_token ||
	    !rtp_token_equal(s->token, p.token))
		return -1;
	*sr = seqwin_accept(&s->win, p.hdr.seq);
	if (*sr == SEQ_REJECT)
		return -1;
	olen = rtp_strip_ext(pkt, &p, out, IC_RTP_MAX);
	if (olen < 0)
		return -1;
	*out_len = (size_t)olen;
	return (int)p.payload_len;
}

/* Over TLS (section 3): the counter window, then the tag, once, with the sender's c2s;
 * the counter is recorded only after the tag verified. The opened packet into out.
 * Returns the payload's length, or -1 to drop. */
static int open_sealed(struct hub *h, struct sess *s, const uint8_t *pkt, size_t len,
		       uint8_t *out, size_t *out_len, enum seqwin_res *sr)
{
	int n;

	if (len < VC_MIN_LEN || pkt[0] != 0x80)
		return -1;
	n = vc_open_window(s->c2s, &s->cwin, pkt, len, IC_RTP_MAX, out, IC_RTP_MAX, sr);
	if (n == -EALREADY) {
		h->stats.voice_replayed++;
		return -1;
	}
	if (n < 0) {
		h->stats.voice_bad_tag++;
		return -1;
	}
	*out_len = (size_t)n;
	return n - VC_HDR_LEN;
}

static bool hears_room(const struct sess *r, const struct room *room)
{
	return !r->leaving && r->vaddr_len && r->nrooms &&
	       r->rooms[r->nrooms - 1] == room && !(r->call && call_active(r->call));
}

size_t hub_voice(struct hub *h, const uint8_t *pkt, size_t len,
		 const struct sockaddr *from, socklen_t fromlen, uint64_t now,
		 uint8_t *out, size_t *out_len, struct voice_dest *dests)
{
	struct sess *s;
	enum seqwin_res sr = SEQ_REJECT;
	size_t n = 0;
	int plen;

	h->now = now;
	h->stats.voice_in++;
	if (len > IC_RTP_MAX || len < RTP_FIXED_LEN)
		goto drop;
	s = sess_by_ssrc(h, rtp_get_ssrc(pkt));
	if (!s || s->leaving)
		goto drop;
	/* only the session's own host, before anything is computed: a sniffed token, or
	 * a flood of forgeries, can neither point its voice elsewhere nor spend its rate
	 */
	if (!addr_same_ip(from, fromlen, (const struct sockaddr *)&s->peer_sa,
			  s->peer_len)) {
		h->stats.voice_wrong_source++;
		goto drop;
	}
	plen = s->tls ? open_sealed(h, s, pkt, len, out, out_len, &sr)
		      : open_token(s, pkt, len, out, out_len, &sr);
	if (plen < 0)
		goto drop;
	if (!guard_voice_take(&s->vrate, len, now)) {
		h->stats.voice_over_rate++; /* before any fan-out: a flood is not
					       multiplied */
		goto drop;
	}
	if (!guard_host_voice_take(s->host, len, now)) {
		h->stats.voice_host_over_rate++; /* its host's sessions share a rate */
		goto drop;
	}
	if (sr == SEQ_ADVANCE && fromlen <= sizeof(s->vaddr) &&
	    (fromlen != s->vaddr_len || memcmp(&s->vaddr, from, fromlen))) {
		memcpy(&s->vaddr, from, fromlen);
		s->vaddr_len = fromlen;
		h->gen++;
	}
	if (plen == 0) { /* keepalive: answer the sender only */
		h->stats.keepalives++;
		set_dest(&dests[0], from, fromlen, s);
		return 1;
	}
	if (s->call && call_active(s->call)) {
		struct sess *peer = call_peer(s->call, s);

		if (peer && !peer->leaving && peer->vaddr_len)
			add_dest(dests, &n, peer);
	} else if (s->call_tail && !(out[1] & RTP_MARKER_BIT)) {
		goto drop; /* the end of its call, still in flight: never the room's */
	} else if (s->nrooms) {
		struct room *room = s->rooms[s->nrooms - 1];

		s->call_tail = false;

		if (room->hear_gen != h->gen) {
			room->nhear = 0;
			for (size_t i = 0; i < room->n; i++) {
				if (hears_room(room->members[i], room))
					room->hear[room->nhear++] = room->members[i];
			}
			room->hear_gen = h->gen;
		}
		for (size_t i = 0; i < room->nhear; i++) {
			if (room->hear[i] != s)
				add_dest(dests, &n, room->hear[i]);
		}
	}
	h->stats.voice_copies += n;
	return n;
drop:
	h->stats.voice_dropped++;
	return 0;
}
