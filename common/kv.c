#include "kv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kv_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long x;

	if (!v || !*v || *v == '-' || *v == '+')
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

int kv_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	for (int i = 0; v && i < 4; i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int kv_load(const char *path, bool missing_ok, kv_set_h *set, void *arg, char *err,
	    size_t errlen)
{
	char buf[512], msg[256];
	unsigned n = 0;
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f) {
		int e = errno;

		if (missing_ok && e == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *line, *eq;

		n++;
		if (!strchr(buf, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, n);
			ret = -EINVAL;
			break;
		}
		line = trim(buf);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, n);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		if (set(arg, trim(line), trim(eq + 1), msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%u: %s", path, n, msg);
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret;
}
