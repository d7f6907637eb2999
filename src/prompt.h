/* prompt — the compact, human-readable description of one target that an
 * LLM advisor reads. Lines of "what: values" with units spelled out; never
 * raw Prometheus JSON, never credentials. Its size is bounded (at most
 * PROMPT_MAX_CONTAINERS containers are described; the rest are counted).
 * The stable line prefixes are listed in docs/contracts.md. */
#ifndef IPAD_PROMPT_H
#define IPAD_PROMPT_H

#include <stdint.h>

#include "history.h"
#include "observe.h"
#include "target.h"

#define PROMPT_MAX_CONTAINERS 8
/* The history block: samples of the last PROMPT_HISTORY_WINDOW_MS, at most
 * PROMPT_MAX_SAMPLES of them (evenly picked, the newest always kept). */
#define PROMPT_MAX_SAMPLES 10
#define PROMPT_HISTORY_WINDOW_MS (INT64_C(5) * 60 * 1000)
#define PROMPT_MAX_DECISIONS 5
/* The whole text never exceeds this many bytes (NUL excluded), whatever
 * the number of containers or the length of names. */
#define PROMPT_MAX_BYTES 8192

/* Describe target t as observed in o, with the recent samples and
 * decisions of h (may be NULL: no history yet); now_ms (Unix ms, the
 * history's clock) dates them. Returns a malloc'ed NUL-terminated text, or
 * NULL on allocation failure. */
char *prompt_render(const struct target *t, const struct observation *o,
		    const struct history *h, int64_t now_ms);

#endif
