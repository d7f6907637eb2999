/* duration — the durations of ipad's configuration.
 *
 * Accepted: a plain number of seconds ("90"), or a sequence of
 * number+unit pairs in Go/Prometheus style: "90s", "5m", "1m30s", "1h",
 * "250ms". Fractions are allowed on plain seconds ("0.5"). */
#ifndef IPAD_DURATION_H
#define IPAD_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parse text into milliseconds (>= 0). Returns 0, or -EINVAL with a
 * sentence in err ("\"5 minutes\" is not a duration; use 90, 90s or 5m"),
 * or -ERANGE when it exceeds 30 days. */
int duration_parse_ms(const char *text, int64_t *ms, char *err, size_t errlen);

/* Format milliseconds compactly ("90s", "5m", "1m30s", "250ms"). Returns buf. */
char *duration_format(int64_t ms, char *buf, size_t len);

#endif
