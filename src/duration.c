/* duration — "90", "0.5", "90s", "5m", "1m30s", "1.5h", "250ms" <-> ms. */
#include "duration.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

#define MAX_MS (30LL * 24 * 3600 * 1000)

struct unit {
	const char *name;
	int64_t ms;
};

/* Longest name first where one is a prefix of another ("ms" before "m"). */
static const struct unit units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	{ "d", 86400000 },
};

static int not_a_duration(const char *text, const char *why,
			  char *err, size_t errlen)
{
	char q[DIAG_QUOTE_BUFSZ];
	if (err && errlen)
		snprintf(err, errlen, "%s is not a duration%s; use 90, 90s or 5m",
			 diag_quote(text, q, sizeof(q)), why);
	return -EINVAL;
}

static int too_long(const char *text, char *err, size_t errlen)
{
	char q[DIAG_QUOTE_BUFSZ];
	if (err && errlen)
		snprintf(err, errlen, "%s is too long; durations are at most 30d",
			 diag_quote(text, q, sizeof(q)));
	return -ERANGE;
}

int duration_parse_ms(const char *text, int64_t *ms, char *err, size_t errlen)
{
	const char *p = text ? text : "";
	int64_t total = 0;

	if (!*p)
		return not_a_duration(p, " (it is empty)", err, errlen);
	while (*p) {
		bool first = p == text;
		/* <digits>[.<digits>] */
		int64_t whole = 0, frac = 0, scale = 1;
		bool digits = false, overflow = false;
		for (; *p >= '0' && *p <= '9'; p++, digits = true) {
			whole = whole * 10 + (*p - '0');
			overflow |= whole > MAX_MS;
			if (overflow)
				whole = MAX_MS + 1;
		}
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
				/* A non-zero digit past the 10th is never a
				 * whole millisecond, whatever the unit (a day
				 * is 2^10 3^3 5^5 ms), and frac * 1d then still
				 * fits in int64. */
				if (scale < 10000000000LL) {
					frac = frac * 10 + (*p - '0');
					scale *= 10;
				} else if (*p != '0') {
					return not_a_duration(text,
						" (finer than a millisecond)",
						err, errlen);
				}
			}
		}
		if (!digits)
			return not_a_duration(text, "", err, errlen);

		const struct unit *u = NULL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);
			if (strncmp(p, units[i].name, n) == 0) {
				u = &units[i];
				p += n;
				break;
			}
		}
		if (!u) {
			/* Junk, or "1m30": a number without a unit. */
			if (*p || !first)
				return not_a_duration(text, "", err, errlen);
			u = &units[1]; /* a plain number is seconds */
		}
		if (overflow)
			return too_long(text, err, errlen);
		if ((frac * u->ms) % scale)
			return not_a_duration(text, " (finer than a millisecond)",
					      err, errlen);
		/* whole <= MAX_MS + 1 and u->ms <= 1 day: no int64 overflow. */
		total += whole * u->ms + frac * u->ms / scale;
		if (total > MAX_MS)
			return too_long(text, err, errlen);
	}
	*ms = total;
	return 0;
}

char *duration_format(int64_t ms, char *buf, size_t len)
{
	size_t o = 0;
	if (len)
		buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	unsigned long long rest = ms < 0 ? 0ULL - (unsigned long long)ms
					 : (unsigned long long)ms;
	if (ms < 0 && len > 1)
		buf[o++] = '-';
	for (size_t i = sizeof(units) / sizeof(units[0]); i-- > 0;) {
		/* units[0] is "ms": it comes last, as intended. */
		unsigned long long u = (unsigned long long)units[i].ms;
		if (rest < u)
			continue;
		int n = snprintf(buf + o, o < len ? len - o : 0, "%llu%s",
				 rest / u, units[i].name);
		rest %= u;
		if (n < 0 || (size_t)n >= len - o) { /* cut whole parts only */
			if (o < len)
				buf[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
	return buf;
}
