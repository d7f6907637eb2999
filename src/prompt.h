/* prompt — the compact, human-readable description of one target that an
 * LLM advisor reads. Lines of "what: values" with units spelled out; never
 * raw Prometheus JSON, never credentials. Its size is bounded (at most
 * PROMPT_MAX_CONTAINERS containers are described; the rest are counted).
 * The stable line prefixes are listed in docs/contracts.md. */
#ifndef IPAD_PROMPT_H
#define IPAD_PROMPT_H

#include "observe.h"
#include "target.h"

#define PROMPT_MAX_CONTAINERS 8

/* Returns a malloc'ed NUL-terminated text, or NULL on allocation failure. */
char *prompt_render(const struct target *t, const struct observation *o);

#endif
