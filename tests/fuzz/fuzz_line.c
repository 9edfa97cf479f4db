/* Fuzz: a client's TCP bytes through the line splitter, then each line through the verb
 * parser and the argument parsers, as the server reads them. Invariants are checked:
 * lines stay within IC_LINE_MAX and formatting what was parsed never overflows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "msg.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_line(const char *line, size_t len)
{
	char copy[IC_LINE_MAX + 1], out[IC_LINE_MAX * 2];
	struct msg_connect mc;
	enum talk_action ta;
	struct msg m;
	uint32_t u;

	if (len > IC_LINE_MAX)
		abort();
	memcpy(copy, line, len);
	copy[len] = '\0';
	(void)names_utf8_valid(copy, len);
	if (msg_parse(copy, &m) != ERR_NONE)
		return;
	if (msg_fmt(out, sizeof(out), m.verb_text, m.target, m.args) < 0)
		abort(); /* a parsed line always fits twice its limit */
	if (!m.args)
		return;
	switch (m.verb) {
	case MSG_CONNECT: {
		char args[IC_LINE_MAX + 1];

		strcpy(args, m.args);
		if (msg_parse_connect(args, &mc) == ERR_NONE &&
		    (strlen(mc.nick) > IC_NICK_MAX || !names_nick_valid(mc.nick) ||
		     (mc.password && !names_password_valid(mc.password))))
			abort(); /* an accepted nick and password obey the rules */
		break;
	}
	case MSG_TALK:
		(void)msg_parse_talk(m.args, &ta);
		break;
	case MSG_PONG:
	case MSG_PING:
		(void)msg_parse_u32(m.args, &u);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linebuf lb;
	const char *p = (const char *)data, *line;
	size_t left = size, n, len;
	enum line_ev ev;

	line_init(&lb);
	while (left) {
		n = line_feed(&lb, p, left, &ev, &line, &len);
		if (n == 0 || n > left)
			abort(); /* must make progress within the input */
		p += n;
		left -= n;
		if (ev == LINE_OK)
			parse_line(line, len);
	}
	return 0;
}
