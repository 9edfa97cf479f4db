#include "msg.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "ic_limits.h"
#include "names.h"

static const struct {
	const char *name;
	enum msg_verb verb;
} verbs[] = {
    {"CONNECT", MSG_CONNECT},	    {"PONG", MSG_PONG},	      {"PING", MSG_PING},
    {"DISCONNECT", MSG_DISCONNECT}, {"JOIN", MSG_JOIN},	      {"PART", MSG_PART},
    {"USERLIST", MSG_USERLIST},	    {"PRIVMSG", MSG_PRIVMSG}, {"TALK", MSG_TALK},
};

static const char *const err_names[ERR_COUNT] = {
    [ERR_NONE] = "NONE",
    [ERR_BAD_LINE] = "BAD_LINE",
    [ERR_LINE_TOO_LONG] = "LINE_TOO_LONG",
    [ERR_BAD_ENCODING] = "BAD_ENCODING",
    [ERR_UNKNOWN_COMMAND] = "UNKNOWN_COMMAND",
    [ERR_NOT_LOGGED_IN] = "NOT_LOGGED_IN",
    [ERR_ALREADY_LOGGED_IN] = "ALREADY_LOGGED_IN",
    [ERR_BAD_ARGS] = "BAD_ARGS",
    [ERR_BAD_NICK] = "BAD_NICK",
    [ERR_NICK_IN_USE] = "NICK_IN_USE",
    [ERR_BAD_VERSION] = "BAD_VERSION",
    [ERR_SERVER_FULL] = "SERVER_FULL",
    [ERR_BAD_ROOM] = "BAD_ROOM",
    [ERR_NOT_IN_ROOM] = "NOT_IN_ROOM",
    [ERR_TOO_MANY_ROOMS] = "TOO_MANY_ROOMS",
    [ERR_NO_SUCH_USER] = "NO_SUCH_USER",
    [ERR_BUSY] = "BUSY",
    [ERR_NO_CALL] = "NO_CALL",
    [ERR_FLOOD] = "FLOOD",
    [ERR_TLS_REQUIRED] = "TLS_REQUIRED",
    [ERR_NO_IDENTITY] = "NO_IDENTITY",
    [ERR_NICK_REGISTERED] = "NICK_REGISTERED",
    [ERR_NOT_REGISTERED] = "NOT_REGISTERED",
    [ERR_BAD_PASSWORD] = "BAD_PASSWORD",
    [ERR_BLOCKED] = "BLOCKED",
    [ERR_REPLACED] = "REPLACED",
};

static const char *const talk_names[] = {"Request", "Accept", "Deny", "End", "Busy"};

const char *msg_err_name(enum msg_err e)
{
	return (e >= 0 && e < ERR_COUNT) ? err_names[e] : "UNKNOWN";
}

const char *msg_talk_name(enum talk_action a)
{
	return talk_names[a];
}

static bool verb_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

enum msg_err msg_parse(char *line, struct msg *m)
{
	char *colon = strchr(line, ':');
	char *sp;

	memset(m, 0, sizeof(*m));
	if (colon) {
		*colon = '\0';
		m->args = colon[1] == ' ' ? colon + 2 : colon + 1;
	}
	/* head: VERB or VERB SP TARGET, nothing else */
	sp = strchr(line, ' ');
	if (sp) {
		*sp = '\0';
		m->target = sp + 1;
		if (!*m->target || strchr(m->target, ' '))
			return ERR_BAD_LINE;
	}
	if (!*line)
		return ERR_BAD_LINE;
	for (const char *p = line; *p; p++) {
		if (!verb_char(*p))
			return ERR_BAD_LINE;
	}
	m->verb_text = line;
	m->verb = MSG_UNKNOWN;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!strcasecmp(line, verbs[i].name)) {
			m->verb = verbs[i].verb;
			break;
		}
	}
	return ERR_NONE;
}

/* Next token of CONNECT's args: a "quoted string" (no '"' inside) or a bare word. */
static char *next_token(char **cursor, bool *ok)
{
	char *s = *cursor, *tok;

	*ok = true;
	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	if (*s == '"') {
		char *end = strchr(s + 1, '"');

		if (!end || (end[1] != ' ' && end[1] != '\0')) {
			*ok = false;
			return NULL;
		}
		*end = '\0';
		tok = s + 1;
		*cursor = end + 1;
		return tok;
	}
	tok = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return tok;
}

enum msg_err msg_parse_connect(char *args, struct msg_connect *c)
{
	char *cur = args, *n, *r, *v, *pw = NULL;
	int major, minor, patch;
	bool ok;

	if (!args)
		return ERR_BAD_ARGS;
	n = next_token(&cur, &ok);
	if (!n)
		return ERR_BAD_ARGS;
	r = next_token(&cur, &ok);
	if (!ok || !r)
		return ERR_BAD_ARGS;
	v = next_token(&cur, &ok);
	if (!ok || !v)
		return ERR_BAD_ARGS;
	while (*cur == ' ')
		cur++;
	if (*cur) { /* 1.1: the server password */
		pw = next_token(&cur, &ok);
		if (!ok || !pw)
			return ERR_BAD_ARGS;
		while (*cur == ' ')
			cur++;
		if (*cur || !names_password_valid(pw))
			return ERR_BAD_ARGS;
	}
	if (!names_nick_valid(n))
		return ERR_BAD_NICK;
	if (!names_realname_valid(r))
		return ERR_BAD_ARGS;
	if (names_version_parse(v, &major, &minor, &patch) || major != IC_PROTO_MAJOR)
		return ERR_BAD_VERSION;
	c->nick = n;
	c->realname = r;
	c->password = pw;
	c->minor = minor;
	c->patch = patch;
	return ERR_NONE;
}

int msg_parse_talk(const char *args, enum talk_action *out)
{
	if (!args)
		return -EINVAL;
	for (int a = TALK_REQUEST; a <= TALK_END; a++) {
		if (!strcasecmp(args, talk_names[a])) {
			*out = (enum talk_action)a;
			return 0;
		}
	}
	return -EINVAL;
}

int msg_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int msg_fmt(char *buf, size_t size, const char *verb, const char *target,
	    const char *args)
{
	int n = snprintf(buf, size, "%s%s%s%s%s\n", verb, target ? " " : "",
			 target ? target : "", args ? ": " : "", args ? args : "");

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

int msg_fmt_connect(char *buf, size_t size, const char *nick, const char *realname,
		    const char *version, const char *password)
{
	int n;

	if (password && password[0])
		n = snprintf(buf, size, "CONNECT: \"%s\" \"%s\" %s \"%s\"\n", nick,
			     realname, version, password);
	else
		n = snprintf(buf, size, "CONNECT: \"%s\" \"%s\" %s\n", nick, realname,
			     version);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

int msg_fmt_error(char *buf, size_t size, enum msg_err code, const char *text)
{
	return msg_fmt(buf, size, "ERROR", msg_err_name(code), text);
}

int msg_fmt_voice(char *buf, size_t size, unsigned port, uint32_t ssrc,
		  const uint8_t token[8])
{
	char args[64];
	int n = snprintf(args, sizeof(args), "%u %u ", port, (unsigned)ssrc);

	hex_encode(token, IC_TOKEN_LEN, args + n);
	return msg_fmt(buf, size, "VOICE", NULL, args);
}

/* Decimal digits of s up to `end` (exclusive) into a u32: no sign, no empty, no overflow.
 */
static int parse_u32_span(const char *s, const char *end, uint32_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int msg_parse_voice(const char *args, unsigned *port, uint32_t *ssrc,
		    uint8_t token[IC_TOKEN_LEN])
{
	const char *sp1, *sp2;
	uint32_t p, s;

	if (!args || !(sp1 = strchr(args, ' ')) || !(sp2 = strchr(sp1 + 1, ' ')) ||
	    parse_u32_span(args, sp1, &p) || p == 0 || p > 65535 ||
	    parse_u32_span(sp1 + 1, sp2, &s) || strlen(sp2 + 1) != 2 * IC_TOKEN_LEN ||
	    hex_decode(sp2 + 1, IC_TOKEN_LEN, token))
		return -EINVAL;
	*port = p;
	*ssrc = s;
	return 0;
}

#define VOICE_CIPHER "chacha20-poly1305"

int msg_fmt_voice_tls(char *buf, size_t size, unsigned port, uint32_t ssrc,
		      const struct vc_key *c2s, const struct vc_key *s2c)
{
	char args[48 + 2 * VC_KEY_HEX];
	int n = snprintf(args, sizeof(args), "%u %u " VOICE_CIPHER " ", port,
			 (unsigned)ssrc),
	    r;

	vc_key_format(c2s, args + n);
	args[n + VC_KEY_HEX] = ' ';
	vc_key_format(s2c, args + n + VC_KEY_HEX + 1);
	args[n + 2 * VC_KEY_HEX + 1] = '\0';
	r = msg_fmt(buf, size, "VOICE", NULL, args);
	explicit_bzero(args, sizeof(args));
	return r;
}

int msg_parse_voice_tls(const char *args, unsigned *port, uint32_t *ssrc,
			struct vc_key *c2s, struct vc_key *s2c)
{
	const char *sp1, *sp2, *keys;
	struct vc_key a, b;
	uint32_t p, s;
	int e = -EINVAL;

	if (!args || !(sp1 = strchr(args, ' ')) || !(sp2 = strchr(sp1 + 1, ' ')) ||
	    parse_u32_span(args, sp1, &p) || p == 0 || p > 65535 ||
	    parse_u32_span(sp1 + 1, sp2, &s) ||
	    strncmp(sp2 + 1, VOICE_CIPHER " ", strlen(VOICE_CIPHER) + 1))
		return -EINVAL;
	keys = sp2 + 1 + strlen(VOICE_CIPHER) + 1;
	if (strlen(keys) != 2 * VC_KEY_HEX + 1 || keys[VC_KEY_HEX] != ' ' ||
	    vc_key_parse(&a, keys, VC_KEY_HEX) ||
	    vc_key_parse(&b, keys + VC_KEY_HEX + 1, VC_KEY_HEX))
		goto out;
	*port = p;
	*ssrc = s;
	*c2s = a;
	*s2c = b;
	e = 0;
out:
	vc_key_wipe(&a);
	vc_key_wipe(&b);
	return e;
}

void msg_redact(const char *line, char *out, size_t size)
{
	const char *cut = NULL, *p, *mark = NULL;
	int quotes = 0;

	if (!strncasecmp(line, "VOICE", 5) && (p = strstr(line, "chacha20-poly1305"))) {
		cut = p + strlen("chacha20-poly1305");
		mark = " <keys>";
	} else if (!strncasecmp(line, "CONNECT", 7)) {
		/* nick and real name are quoted and hold no '"': the version follows
		 * the fourth, and anything after the version is the password */
		for (p = line; *p && quotes < 4; p++)
			quotes += *p == '"';
		while (quotes == 4 && *p == ' ')
			p++;
		while (quotes == 4 && *p && *p != ' ')
			p++;
		if (quotes == 4 && *p) {
			cut = p;
			mark = " \"<password>\"";
		}
	}
	if (!cut) {
		snprintf(out, size, "%s", line);
		return;
	}
	snprintf(out, size, "%.*s%s", (int)(cut - line), line, mark);
}
