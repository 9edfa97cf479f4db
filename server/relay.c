/* relay.c: voice packets: check, learn the sender's address, pick who hears it. */
#include <string.h>

#include "hub_int.h"
#include "rtp.h"

static void add_dest(struct voice_dest *d, size_t *n, const struct sess *s)
{
	d[*n].addr = (const struct sockaddr *)&s->vaddr;
	d[*n].len = s->vaddr_len;
	(*n)++;
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
	struct rtp_pkt p;
	struct sess *s;
	enum seqwin_res sr;
	size_t n = 0;
	int olen;

	h->now = now;
	h->stats.voice_in++;
	if (len > IC_RTP_MAX || rtp_parse(pkt, len, &p) || !p.has_token)
		goto drop;
	s = sess_by_ssrc(h, p.hdr.ssrc);
	if (!s || s->leaving)
		goto drop;
	/* only the session's own host: a sniffed token cannot point its voice elsewhere
	 * nor spend its rate */
	if (!addr_same_ip(from, fromlen, (const struct sockaddr *)&s->peer_sa,
			  s->peer_len)) {
		h->stats.voice_wrong_source++;
		goto drop;
	}
	if (!rtp_token_equal(s->token, p.token))
		goto drop;
	sr = seqwin_accept(&s->win, p.hdr.seq);
	if (sr == SEQ_REJECT)
		goto drop;
	if (!guard_voice_take(&s->vrate, len, now)) {
		h->stats.voice_over_rate++; /* before any fan-out: a flood is not
					       multiplied */
		goto drop;
	}
	if (sr == SEQ_ADVANCE && fromlen <= sizeof(s->vaddr) &&
	    (fromlen != s->vaddr_len || memcmp(&s->vaddr, from, fromlen))) {
		memcpy(&s->vaddr, from, fromlen);
		s->vaddr_len = fromlen;
		h->gen++;
	}
	olen = rtp_strip_ext(pkt, &p, out, IC_RTP_MAX);
	if (olen < 0)
		goto drop;
	*out_len = (size_t)olen;
	if (p.payload_len == 0) { /* keepalive: answer the sender only */
		h->stats.keepalives++;
		dests[0].addr = from;
		dests[0].len = fromlen;
		return 1;
	}
	if (s->call && call_active(s->call)) {
		struct sess *peer = call_peer(s->call, s);

		if (peer && !peer->leaving && peer->vaddr_len)
			add_dest(dests, &n, peer);
	} else if (s->nrooms) {
		struct room *room = s->rooms[s->nrooms - 1];

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
