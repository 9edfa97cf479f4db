#include "wfilter.h"

#include <errno.h>
#include <string.h>

#include "ic_limits.h"
#include "msg.h"
#include "names.h"
#include "vcrypt.h"

int wfilter_up_line(const char *s, size_t len)
{
	char copy[IC_LINE_MAX];
	struct msg m;

	/* the line and its LF within the protocol's bound */
	if (len + 1 > IC_LINE_MAX)
		return -EMSGSIZE;
	if (!names_text_valid(s, len) || memchr(s, '\t', len))
		return -EILSEQ;
	memcpy(copy, s, len);
	copy[len] = '\0';
	if (msg_parse(copy, &m) != ERR_NONE)
		return -EPERM;
	switch (m.verb) {
	case MSG_JOIN:
	case MSG_PART:
	case MSG_USERLIST:
	case MSG_PRIVMSG:
	case MSG_TALK:
		return 0;
	default:
		return -EPERM;
	}
}

/* line starts with the verb v, as a whole word */
static bool verb_is(const char *line, const char *v)
{
	size_t n = strlen(v);

	return !strncmp(line, v, n) && (line[n] == ':' || line[n] == ' ' || !line[n]);
}

bool wfilter_down_line(const char *line)
{
	/* the server writes its verbs in upper case (protocol section 1) */
	return !verb_is(line, "PING") && !verb_is(line, "VOICE");
}

int wfilter_up_voice(const uint8_t *p, size_t len, const uint8_t **opus, size_t *olen,
		     bool *start)
{
	if (len <= WF_UP_HDR || p[0] != WF_VOICE ||
	    len - WF_UP_HDR > IC_RTP_MAX - RTP_FIXED_LEN - VC_OVERHEAD)
		return -EINVAL;
	*start = p[1] & WF_FLAG_START;
	*opus = p + WF_UP_HDR;
	*olen = len - WF_UP_HDR;
	return 0;
}

int wfilter_down_voice(const struct rtp_hdr *h, const uint8_t *payload, size_t len,
		       uint8_t *out, size_t size)
{
	if (size < WF_DOWN_HDR + len)
		return -ENOSPC;
	out[0] = WF_VOICE;
	out[1] = h->marker ? WF_FLAG_START : 0;
	for (int i = 0; i < 4; i++) {
		out[2 + i] = (uint8_t)(h->ssrc >> (24 - 8 * i));
		out[8 + i] = (uint8_t)(h->ts >> (24 - 8 * i));
	}
	out[6] = (uint8_t)(h->seq >> 8);
	out[7] = (uint8_t)h->seq;
	memcpy(out + WF_DOWN_HDR, payload, len);
	return (int)(WF_DOWN_HDR + len);
}
