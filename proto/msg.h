/* msg.h: parse client lines into structs and format server lines (no I/O). */
#ifndef IC_MSG_H
#define IC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ic_limits.h"
#include "vcrypt.h"

enum msg_verb {
	MSG_UNKNOWN = 0,
	MSG_CONNECT,
	MSG_PONG,
	MSG_PING,
	MSG_DISCONNECT,
	MSG_JOIN,
	MSG_PART,
	MSG_USERLIST,
	MSG_PRIVMSG,
	MSG_TALK,
};

/* Error codes of `ERROR <CODE>: text`, in the contract's order. */
enum msg_err {
	ERR_NONE = 0,
	ERR_BAD_LINE,
	ERR_LINE_TOO_LONG,
	ERR_BAD_ENCODING,
	ERR_UNKNOWN_COMMAND,
	ERR_NOT_LOGGED_IN,
	ERR_ALREADY_LOGGED_IN,
	ERR_BAD_ARGS,
	ERR_BAD_NICK,
	ERR_NICK_IN_USE,
	ERR_BAD_VERSION,
	ERR_SERVER_FULL,
	ERR_BAD_ROOM,
	ERR_NOT_IN_ROOM,
	ERR_TOO_MANY_ROOMS,
	ERR_NO_SUCH_USER,
	ERR_BUSY,
	ERR_NO_CALL,
	ERR_FLOOD,
	/* 1.1, section 3 */
	ERR_TLS_REQUIRED,
	ERR_NO_IDENTITY,
	ERR_NICK_REGISTERED,
	ERR_NOT_REGISTERED,
	ERR_BAD_PASSWORD,
	ERR_BLOCKED,
	ERR_REPLACED,
	ERR_COUNT,
};

enum talk_action { TALK_REQUEST, TALK_ACCEPT, TALK_DENY, TALK_END, TALK_BUSY };

/* A parsed line. Pointers point into the caller's buffer, which msg_parse modifies. */
struct msg {
	enum msg_verb verb;
	const char *verb_text; /* as written (for logs) */
	const char *target;    /* NULL when the head has no target */
	const char *args;      /* NULL when there is no ':' part; "" when empty */
};

/* Split `line` (NUL-terminated, no LF) into VERB, TARGET and ARGS in place.
 * Returns 0, or ERR_BAD_LINE when it is not `VERB[ TARGET][: ARGS]`. An unknown verb is
 * not an error here: m->verb is MSG_UNKNOWN. */
enum msg_err msg_parse(char *line, struct msg *m);

/* A CONNECT line's arguments; pointers into the parsed buffer. */
struct msg_connect {
	const char *nick, *realname;
	const char *password; /* the 1.1 optional 4th field, or NULL */
	int minor, patch;     /* of the version (the major is always 1) */
};

/* CONNECT arguments: `"nick" "real name" MAJOR.MINOR.PATCH ["password"]` (quotes
 * optional around a word without spaces). Modifies args in place. Returns ERR_NONE,
 * ERR_BAD_ARGS (also a password of other than 1-64 bytes of text without control bytes
 * or quotes), ERR_BAD_NICK or ERR_BAD_VERSION (malformed, or a major other than 1). */
enum msg_err msg_parse_connect(char *args, struct msg_connect *c);

/* TALK argument: Request/Accept/Deny/End (any case). Returns 0 or -EINVAL. */
int msg_parse_talk(const char *args, enum talk_action *out);

/* Parse a decimal cookie (PONG argument). Returns 0 or -EINVAL. */
int msg_parse_u32(const char *s, uint32_t *out);

const char *msg_err_name(enum msg_err e);
const char *msg_talk_name(enum talk_action a);

/* Format `VERB[ TARGET][: ARGS]\n` into buf. target/args may be NULL.
 * Returns the length written (without NUL), or -ENOSPC if it does not fit. */
int msg_fmt(char *buf, size_t size, const char *verb, const char *target,
	    const char *args);

/* The protocol version a client names in CONNECT: 1.2 in both modes, so that a ring
 * group's Request names its room. */
#define MSG_PROTO_VERSION "1.2.0"

/* A client's login line, `CONNECT: "nick" "realname" version[ "password"]\n` (the
 * password field only when password is neither NULL nor empty). The box and the
 * gateway both build it here. Same returns as msg_fmt; the caller wipes buf when it
 * holds a password. */
int msg_fmt_connect(char *buf, size_t size, const char *nick, const char *realname,
		    const char *version, const char *password);

/* `ERROR CODE: text\n`. Same returns as msg_fmt. */
int msg_fmt_error(char *buf, size_t size, enum msg_err code, const char *text);

/* The arguments of a VOICE line, `port ssrc token`, as the clients read them: exactly
 * three fields one space apart, port 1-65535 and ssrc a u32 in plain decimal digits (no
 * sign, no overflow), the token exactly 16 lower-case hex digits, nothing after it.
 * Returns 0, or -EINVAL (nothing is written) when malformed. */
int msg_parse_voice(const char *args, unsigned *port, uint32_t *ssrc,
		    uint8_t token[IC_TOKEN_LEN]);

/* `VOICE: port ssrc token\n` with the token in 16 lower-case hex digits. */
int msg_fmt_voice(char *buf, size_t size, unsigned port, uint32_t ssrc,
		  const uint8_t token[8]);

/* The 1.1 VOICE line over TLS: `port ssrc chacha20-poly1305 <c2s> <s2c>`, each key 88
 * lower-case hex digits (VC_KEY_HEX: 32 bytes of key, then 12 of salt). parse: exactly
 * that, nothing after; returns 0 or -EINVAL (nothing written). */
int msg_parse_voice_tls(const char *args, unsigned *port, uint32_t *ssrc,
			struct vc_key *c2s, struct vc_key *s2c);
/* A line (without LF) as a log may show it: the VOICE line's keys and CONNECT's password
 * replaced by "<keys>" and "<password>", anything else as it is (cut to size). Keys
 * and passwords never reach a log (section 3). */
void msg_redact(const char *line, char *out, size_t size);

int msg_fmt_voice_tls(char *buf, size_t size, unsigned port, uint32_t ssrc,
		      const struct vc_key *c2s, const struct vc_key *s2c);

#endif
