/* advisor — asks the configured advisor about one observed target and
 * returns a validated advice. The one place that talks to an LLM. */
#ifndef IPAD_ADVISOR_H
#define IPAD_ADVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "advice.h"
#include "config.h"
#include "history.h"
#include "http.h"
#include "observe.h"
#include "target.h"

/* Advise on t. h (may be NULL) is the target's history and now_ms its
 * clock, for the prompt of the LLM advisors. timeout_ms bounds the advisor call (the cycle's remaining
 * time or the configured advisor timeout, whichever is shorter).
 * Returns 0 with a validated out, or a negative errno with err saying why
 * (the decision then holds). */
int advisor_advise(const struct ipad_config *cfg, const struct target *t,
		   const struct observation *o, const struct history *h,
		   int64_t now_ms, struct http_client *hc,
		   long timeout_ms, struct advice *out, char *err, size_t errlen);

#endif
