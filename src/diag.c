/* diag — collected user-facing problems, and helpers to word them. */
#include "diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Stands in for a message that could not be allocated. Never freed. */
static char oom_message[] = "out of memory while recording a problem";
/* Used when not even the first array could be allocated. Never freed. */
static char *oom_messages[1] = { oom_message };
static unsigned char oom_is_warning[1];

static bool is_static(const struct diag *d)
{
	return d->messages == oom_messages;
}

/* Record msg (owned, may be NULL after an allocation failure). */
static void diag_add(struct diag *d, char *msg, bool warning)
{
	if (!msg)
		warning = false; /* an unrecorded problem must count */
	if (!is_static(d)) {
		char **m = realloc(d->messages, (d->count + 1) * sizeof(*m));
		if (m)
			d->messages = m;
		unsigned char *w = m ? realloc(d->is_warning, d->count + 1) : NULL;
		if (w)
			d->is_warning = w;
		if (m && w) {
			d->messages[d->count] = msg ? msg : oom_message;
			d->is_warning[d->count] = warning;
			d->count++;
			d->warnings += warning;
			return;
		}
	}
	/* No room: the caller must still see that something went wrong. */
	free(msg);
	if (d->count == 0) {
		free(d->messages);
		free(d->is_warning);
		d->messages = oom_messages;
		d->is_warning = oom_is_warning;
		d->count = 1;
		d->warnings = 0;
		return;
	}
	if (is_static(d))
		return;
	size_t last = d->count - 1;
	if (d->messages[last] != oom_message)
		free(d->messages[last]);
	d->messages[last] = oom_message;
	d->warnings -= d->is_warning[last];
	d->is_warning[last] = 0;
}

static void diag_vadd(struct diag *d, bool warning, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	char *msg = n < 0 ? NULL : malloc((size_t)n + 1);
	if (msg)
		vsnprintf(msg, (size_t)n + 1, fmt, again);
	va_end(again);
	diag_add(d, msg, warning);
}

void diag_error(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, false, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, true, fmt, ap);
	va_end(ap);
}

size_t diag_errors(const struct diag *d)
{
	return d->count - d->warnings;
}

void diag_free(struct diag *d)
{
	if (!is_static(d)) {
		for (size_t i = 0; i < d->count; i++)
			if (d->messages[i] != oom_message)
				free(d->messages[i]);
		free(d->messages);
		free(d->is_warning);
	}
	memset(d, 0, sizeof(*d));
}

/* Length of the valid UTF-8 sequence at s (2..4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *diag_quote(const char *text, char *buf, size_t len)
{
	enum { MAX_CHARS = 64 };
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	char out[DIAG_QUOTE_BUFSZ];
	size_t o = 0;
	int chars = 0;

	out[o++] = '"';
	for (; *s && chars < MAX_CHARS; chars++) {
		size_t n = utf8_len(s);
		if (n) {
			memcpy(out + o, s, n);
			o += n;
			s += n;
			continue;
		}
		unsigned char c = *s++;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			memcpy(out + o, "\\n", 2);
			o += 2;
		} else if (c == '\t') {
			memcpy(out + o, "\\t", 2);
			o += 2;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	if (*s) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	snprintf(buf, len, "%s", out);
	return buf;
}

/* Optimal string alignment distance, ignoring case; gives up (returns
 * limit + 1) for long words, which are never "obvious" typos anyway. */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
	enum { MAXW = 64 };
	size_t la = strlen(a), lb = strlen(b);
	if (la >= MAXW || lb >= MAXW)
		return limit + 1;
	size_t d[MAXW][MAXW];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb;
			size_t best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

char *diag_suggest(const char *word, const char *const *valid,
		   char *buf, size_t len)
{
	const char *best = NULL;
	size_t best_distance = 3; /* "obvious": at most two edits */
	size_t wl = strlen(word);

	/* Very short words are two edits away from almost anything. */
	if (wl >= 3) {
		for (size_t i = 0; valid[i]; i++) {
			size_t dist = edit_distance(word, valid[i], 2);
			if (dist < best_distance && dist < wl) {
				best = valid[i];
				best_distance = dist;
			}
		}
	}
	if (best) {
		snprintf(buf, len, "; did you mean %s?", best);
		return buf;
	}

	const char *found[2] = { NULL, NULL };
	size_t nfound = 0;
	if (wl >= 4) {
		for (size_t i = 0; valid[i]; i++) {
			if (!contains_nocase(valid[i], word))
				continue;
			if (nfound == 2) { /* more than two: not obvious */
				nfound = 0;
				break;
			}
			found[nfound++] = valid[i];
		}
	}
	if (nfound == 1)
		snprintf(buf, len, "; did you mean %s?", found[0]);
	else if (nfound == 2)
		snprintf(buf, len, "; did you mean %s or %s?", found[0], found[1]);
	else if (len)
		buf[0] = '\0';
	return buf;
}

char *diag_join(const char *const *list, char *buf, size_t len)
{
	size_t o = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; list[i] && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", list[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return buf;
}
