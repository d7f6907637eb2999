/* diag — a list of user-facing problems, collected rather than stopping at
 * the first one, so that --check-config can name every mistake at once.
 *
 * Each entry is one complete sentence that names where the problem is
 * ("/etc/ipad/ipad.conf:12: interval: ..."), what is wrong and, where it
 * helps, what to do. */
#ifndef IPAD_DIAG_H
#define IPAD_DIAG_H

#include <stddef.h>

struct diag {
	char **messages;  /* owned; each a NUL-terminated sentence */
	size_t count;
	size_t warnings;  /* how many of the messages are warnings only */
	unsigned char *is_warning; /* parallel to messages */
};

/* Append an error (printf-style). Allocation failure is ignored after
 * counting: the caller still sees count > 0. */
void diag_error(struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append a warning: reported, but does not make the configuration invalid. */
void diag_warning(struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Number of errors (messages that are not warnings). */
size_t diag_errors(const struct diag *d);

/* Free every message; the struct itself is the caller's and is reset. */
void diag_free(struct diag *d);

/* Helpers for composing messages about text a user wrote. */

/* Buffer size that always holds a diag_quote() result. */
#define DIAG_QUOTE_BUFSZ 280

/* Write text into buf in double quotes, with '"', '\\' and bytes that
 * are not printable ASCII or UTF-8 escaped (\n, \xNN), cut after 64
 * characters with "..." so that one message stays one readable line.
 * text may be NULL ("(null)" is not printed: "\"\"" is). Returns buf. */
char *diag_quote(const char *text, char *buf, size_t len);

/* Suggest the entry of valid (a NULL-terminated list) that word was
 * obviously meant to be: equal but for case, or at most two edits
 * (insert, delete, replace, swap) away; else the entries that contain
 * word, ignoring case ("replica" -> minReplicas or maxReplicas). Writes
 * "; did you mean X?" / "; did you mean X or Y?" into buf, or "" when
 * nothing is obvious. Returns buf. */
char *diag_suggest(const char *word, const char *const *valid,
		   char *buf, size_t len);

/* Join a NULL-terminated list as "a, b, c" into buf (cut if too long).
 * Returns buf. */
char *diag_join(const char *const *list, char *buf, size_t len);

#endif
