/* logcheck: the log lines a document quotes are lines the program can print.
 *
 *   logcheck DOC.md "## Heading" SOURCE.c...
 *
 * Every `code span` in the second column of the table under the heading is a quoted log
 * line ("..." stands for what varies). Each must match, whole, one of the format strings
 * in the sources: every C string literal (adjacent ones joined) with at least
 * LOGCHECK_MIN_FIXED characters that are not conversions, as a regular expression where
 * each conversion (%s, %u, %.1f, ...) matches anything. The program's name prefix
 * ("intercom: ") may be quoted too, and the config reader's "FILE:LINE: " before its
 * message. Prints each line that matches nothing and exits 1. */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGCHECK_MIN_FIXED 10
#define LOGCHECK_MAX_FMTS  4096

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *s;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "logcheck: cannot read %s\n", path);
		exit(2);
	}
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	s[n] = '\0';
	fclose(f);
	return s;
}

static regex_t fmts[LOGCHECK_MAX_FMTS];
static size_t nfmts;

/* A format string as an anchored extended regex; false when it has too little of its
 * own to tell one line from another. */
static bool to_regex(const char *lit, size_t len, regex_t *re)
{
	char *rx = malloc(len * 2 + 8), *o = rx;
	size_t fixed = 0;
	bool ok;

	*o++ = '^';
	for (size_t i = 0; i < len; i++) {
		if (lit[i] == '%' && i + 1 < len && lit[i + 1] == '%') {
			*o++ = '%';
			i++;
			fixed++;
		} else if (lit[i] == '%') {
			i += strspn(lit + i + 1, "-+ #0123456789.*lhzjt") + 1;
			*o++ = '.';
			*o++ = '*';
		} else {
			if (strchr(".[]()*+?{}|^$\\", lit[i]))
				*o++ = '\\';
			*o++ = lit[i];
			fixed++;
		}
	}
	*o++ = '$';
	*o = '\0';
	ok =
	    fixed >= LOGCHECK_MIN_FIXED && regcomp(re, rx, REG_EXTENDED | REG_NOSUB) == 0;
	free(rx);
	return ok;
}

/* Every string literal of a C source, adjacent ones joined, escapes taken as the
 * character they stand for (\n ends the line and is dropped). */
static void scan_source(const char *path)
{
	char *s = slurp(path), *p = s, lit[2048];
	size_t len = 0;
	bool in_lit = false;

	while (*p) {
		if (!in_lit && p[0] == '/' && p[1] == '*') {
			char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else if (!in_lit && p[0] == '/' && p[1] == '/') {
			p += strcspn(p, "\n");
		} else if (!in_lit && p[0] == '\'') {
			p += p[1] == '\\' ? 4 : 3; /* a character constant */
		} else if (p[0] == '"') {
			in_lit = !in_lit;
			p++;
		} else if (in_lit) {
			char c = *p++;

			if (c == '\\' && *p) {
				c = *p++;
				c = c == 'n' ? '\0' : c == 't' ? ' ' : c;
			}
			if (c && len < sizeof(lit) - 1)
				lit[len++] = c;
		} else if (strchr(" \t\r\n", *p)) {
			p++;
		} else {
			if (len && nfmts < LOGCHECK_MAX_FMTS &&
			    to_regex(lit, len, &fmts[nfmts]))
				nfmts++;
			len = 0;
			p++;
		}
	}
	free(s);
}

static bool any_format(const char *line)
{
	for (size_t i = 0; i < nfmts; i++) {
		if (regexec(&fmts[i], line, 0, NULL, 0) == 0)
			return true;
	}
	return false;
}

/* The line itself, or after the config reader's "FILE:LINE: ". */
static bool matches(const char *line)
{
	static regex_t where;
	static bool ready;
	regmatch_t m;

	if (!ready && regcomp(&where, "^[^ :]+:[0-9]+: ", REG_EXTENDED) == 0)
		ready = true;
	if (any_format(line))
		return true;
	return ready && regexec(&where, line, 1, &m, 0) == 0 &&
	       any_format(line + m.rm_eo);
}

/* The table under heading: each row's second column, its code spans checked. */
static int check_doc(const char *path, const char *heading, const char *prog)
{
	char *s = slurp(path), *p = strstr(s, heading), *end;
	int bad = 0, quoted = 0;

	if (!p) {
		fprintf(stderr, "logcheck: no '%s' in %s\n", heading, path);
		return 2;
	}
	end = strstr(p + strlen(heading), "\n## ");
	if (end)
		*end = '\0';
	for (char *row = strstr(p, "\n| "); row; row = strstr(row + 1, "\n| ")) {
		char *c1 = strstr(row + 3, " | "),
		     *c2 = c1 ? strstr(c1 + 3, " | ") : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		for (char *q = strchr(c1, '`'); q; q = strchr(q + 1, '`')) {
			char *e = strchr(q + 1, '`'), line[1024];
			bool hit = false;

			if (!e)
				break;
			*e = '\0';
			snprintf(line, sizeof(line), "%s", q + 1);
			if (!strncmp(line, prog, strlen(prog)))
				memmove(line, line + strlen(prog),
					strlen(line + strlen(prog)) + 1);
			hit = matches(line);
			if (!hit) {
				printf("%s: the program never prints: %s\n", path, q + 1);
				bad = 1;
			}
			quoted++;
			*e = '`';
			q = e;
		}
		*c2 = ' ';
	}
	printf("logcheck: %d quoted log lines in %s checked against %zu format strings\n",
	       quoted, path, nfmts);
	free(s);
	return bad || !quoted;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: logcheck DOC.md \"## Heading\" SOURCE.c...\n");
		return 2;
	}
	for (int i = 3; i < argc; i++)
		scan_source(argv[i]);
	return check_doc(argv[1], argv[2], "intercom: ");
}
