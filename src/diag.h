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

#endif
