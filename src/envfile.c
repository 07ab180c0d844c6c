/* envfile.c - KEY=VALUE lines read as data; shell syntax is an error, not code. */
#include "flywheel/envfile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

#define FIX_LITERAL "the file is read as data, never run: write the literal value, in single quotes if it has spaces"

struct line_ctx {
	const char *path;
	unsigned lineno;
	char key[ENVFILE_MAX_KEY + 1];
	struct fw_error *err;
};

static int line_error(struct line_ctx *l, const char *fix, const char *what)
{
	char subject[FW_ERROR_SUBJECT_MAX];
	if (l->key[0])
		snprintf(subject, sizeof(subject), "%s from %s:%u", l->key, l->path, l->lineno);
	else
		snprintf(subject, sizeof(subject), "%s:%u", l->path, l->lineno);
	return fw_error_set(l->err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject, fix, "%s", what);
}

static bool is_key_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_key_char(char c)
{
	return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Characters that make a bare word mean something else to a shell. */
static const char *bare_problem(char c)
{
	switch (c) {
	case '$': return "value contains '$', which a shell would expand (command substitution or variable)";
	case '`': return "value contains a backquote command substitution";
	case '(': case ')': return "value contains '(' or ')', shell syntax";
	case ';': case '&': case '|': return "value contains ';', '&' or '|', which would run another command";
	case '<': case '>': return "value contains a redirection";
	case '\\': return "value contains a backslash escape";
	case '"': case '\'': return "value has a quote in the middle of a word";
	case '*': case '?': case '[': return "value contains a glob character";
	case '~': return "value starts with '~', which a shell would expand";
	default: return NULL;
	}
}

/* Parse the value part starting at p (line is NUL-terminated, no newline).
 * Writes the decoded value into out (capacity ENVFILE_MAX_LINE + 1). */
static int parse_value(struct line_ctx *l, const char *p, char *out)
{
	size_t n = 0;
	if (*p == '\'') {
		p++;
		while (*p && *p != '\'')
			out[n++] = *p++;
		if (*p != '\'')
			return line_error(l, "close the quote on the same line", "unterminated single quote");
		p++;
	} else if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`')) {
				out[n++] = p[1];
				p += 2;
				continue;
			}
			if (*p == '$')
				return line_error(l, FIX_LITERAL,
						  "value contains '$' inside double quotes, which a shell would expand");
			if (*p == '`')
				return line_error(l, FIX_LITERAL, "value contains a backquote command substitution");
			out[n++] = *p++;
		}
		if (*p != '"')
			return line_error(l, "close the quote on the same line", "unterminated double quote");
		p++;
	} else {
		if (*p == '~')
			return line_error(l, "write the absolute path", bare_problem('~'));
		while (*p && *p != ' ' && *p != '\t') {
			const char *why = *p == '~' ? NULL : bare_problem(*p);
			if (why)
				return line_error(l, FIX_LITERAL, why);
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && *p != '#')
		return line_error(l, "quote the whole value ('a b'), or put a comment after ' #'",
				  "text after the value would be run by a shell as a command");
	return 0;
}

static int parse_line(struct line_ctx *l, char *line, envfile_cb cb, void *userdata)
{
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	const char *after = str_after(p, "export");
	if (after && (*after == ' ' || *after == '\t')) {
		p = (char *)after;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (!is_key_start(*p))
		return line_error(l, "each line is KEY=VALUE, export KEY=VALUE or a # comment",
				  "not an assignment");
	size_t k = 0;
	while (is_key_char(p[k]))
		k++;
	if (k > ENVFILE_MAX_KEY)
		return line_error(l, "use a shorter name", "variable name too long");
	memcpy(l->key, p, k);
	l->key[k] = '\0';
	p += k;
	if (*p != '=') {
		const char *q = p + strspn(p, " \t");
		if (q != p && *q == '=')
			return line_error(l, "write KEY=VALUE with no spaces around '='", "space before '='");
		l->key[0] = '\0';
		return line_error(l, "each line is KEY=VALUE, export KEY=VALUE or a # comment; commands are never run",
				  "not an assignment");
	}
	p++;
	if (*p == ' ' || *p == '\t')
		return line_error(l, "write KEY=VALUE with no spaces around '='",
				  "space after '=' (a shell would run the value as a command)");
	char value[ENVFILE_MAX_LINE + 1];
	int r = parse_value(l, p, value);
	if (r < 0)
		return r;
	return cb(userdata, l->key, value, l->lineno, l->err);
}

int envfile_parse(const char *data, size_t len, const char *path, envfile_cb cb,
		  void *userdata, struct fw_error *err)
{
	struct line_ctx l = { .path = path, .err = err };
	if (len > ENVFILE_MAX_SIZE) {
		l.lineno = 0;
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path, "keep it under 64 KiB",
				    "file too large");
	}
	size_t i = 0;
	/* skip a UTF-8 byte order mark */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		l.lineno++;
		l.key[0] = '\0';
		const char *start = data + i;
		const char *nl = memchr(start, '\n', len - i);
		size_t n = nl ? (size_t)(nl - start) : len - i;
		i += n + (nl ? 1 : 0);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n > ENVFILE_MAX_LINE)
			return line_error(&l, "split the value or shorten it", "line too long");
		if (memchr(start, '\0', n))
			return line_error(&l, "remove the NUL byte", "line contains a NUL byte");
		char line[ENVFILE_MAX_LINE + 1];
		memcpy(line, start, n);
		line[n] = '\0';
		int r = parse_line(&l, line, cb, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}
