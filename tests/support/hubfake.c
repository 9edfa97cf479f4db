#include "hubfake.h"

#include <errno.h>
#include <string.h>

static ssize_t fake_recv(struct transport *t, void *buf, size_t len)
{
	(void)t, (void)buf, (void)len;
	return -EAGAIN; /* input is handed to hub_input directly */
}

static ssize_t fake_send(struct transport *t, const void *buf, size_t len)
{
	struct hubfake *f = (struct hubfake *)t;
	size_t room = sizeof(f->out) - f->len, n = len < room ? len : room;

	if (f->refuse)
		return -EAGAIN;
	memcpy(f->out + f->len, buf, n);
	f->len += n;
	f->dropped += len - n;
	return (ssize_t)len;
}

static void fake_close(struct transport *t, bool abort)
{
	struct hubfake *f = (struct hubfake *)t;

	f->closed = true;
	f->aborted = abort;
}

static const struct transport_ops fake_ops = {fake_recv, fake_send, fake_close};

void hubfake_init(struct hubfake *f)
{
	memset(f, 0, sizeof(*f));
	f->tp.ops = &fake_ops;
}

bool hubfake_line(struct hubfake *f, char *line, size_t size)
{
	char *lf = memchr(f->out, '\n', f->len);
	size_t n;

	if (!lf)
		return false;
	n = (size_t)(lf - f->out);
	if (n + 1 > size)
		return false;
	memcpy(line, f->out, n);
	line[n] = '\0';
	f->len -= n + 1;
	memmove(f->out, lf + 1, f->len);
	return true;
}

bool hubfake_find(struct hubfake *f, const char *prefix, char *line, size_t size)
{
	while (hubfake_line(f, line, size)) {
		if (!strncmp(line, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

void hubfake_closed(void *arg, struct transport *tp, bool abort)
{
	(void)arg;
	tp->ops->close(tp, abort);
	((struct hubfake *)tp)->s = NULL;
}

static uint32_t rng = 1;

void hubfake_seed(uint32_t seed)
{
	rng = seed;
}

int hubfake_rand(void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		rng = rng * 1103515245u + 12345u;
		p[i] = (uint8_t)(rng >> 16);
	}
	return 0;
}
