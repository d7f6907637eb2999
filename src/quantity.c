/* quantity — Kubernetes resource quantities <-> integers, exactly.
 *
 * A quantity is sign, digits, optional fraction and a suffix. Its value is
 * D * 10^s * 2^b for the integer D made of all its digits. We multiply D by
 * 2^b in decimal, then shift the decimal point by s: no floating point, so
 * "9334m" is 9334 millicores and not 9333.999... */
#include "quantity.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

/* Longer text is refused: no one writes such quantities, and it bounds the
 * work of the exact arithmetic below. */
#define QUANTITY_MAX_LEN 256
/* |exponent| beyond this is out of range (or rounds to 0/1) anyway. */
#define EXPONENT_CLAMP 100000

struct suffix {
	const char *name;
	int exp10;
	int exp2;
};

static const struct suffix suffixes[] = {
	{ "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 }, { "", 0, 0 },
	{ "k", 3, 0 },  { "M", 6, 0 },  { "G", 9, 0 },  { "T", 12, 0 },
	{ "P", 15, 0 }, { "E", 18, 0 },
	{ "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 },
	{ "Pi", 0, 50 }, { "Ei", 0, 60 },
};

struct kind {
	int unit_exp10;      /* 3: millicores, 0: bytes */
	const char *unit;    /* for messages */
	const char *example;
};

static const struct kind cpu = { 3, "millicores", "250m, 0.5 or 2" };
static const struct kind memory = { 0, "bytes", "512Mi, 1Gi or 1G" };

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* "TEXT is not a Kubernetes quantity (DETAIL); write e.g. EXAMPLES" */
static int not_a_quantity(const char *text, const char *detail,
			  const struct kind *k, char *err, size_t errlen)
{
	char q[DIAG_QUOTE_BUFSZ];
	return fail(-EINVAL, err, errlen,
		    "%s is not a Kubernetes quantity%s; write e.g. %s",
		    diag_quote(text, q, sizeof(q)), detail, k->example);
}

static int too_large(const char *text, const struct kind *k,
		     char *err, size_t errlen)
{
	char q[DIAG_QUOTE_BUFSZ];
	return fail(-ERANGE, err, errlen,
		    "%s is too large (more than 9223372036854775807 %s)",
		    diag_quote(text, q, sizeof(q)), k->unit);
}

/* Parse the suffix s; fills exp10/exp2 or returns false. */
static bool parse_suffix(const char *s, int *exp10, int *exp2)
{
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(s, suffixes[i].name) == 0) {
			*exp10 = suffixes[i].exp10;
			*exp2 = suffixes[i].exp2;
			return true;
		}
	}
	if (*s != 'e' && *s != 'E')
		return false;
	s++;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	int e = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (e < EXPONENT_CLAMP)
			e = e * 10 + (*s - '0');
	}
	*exp10 = neg ? -e : e;
	*exp2 = 0;
	return true;
}

static int parse(const char *text, const struct kind *k, int64_t *out,
		 char *err, size_t errlen)
{
	if (!text || !*text)
		return not_a_quantity("", "", k, err, errlen);
	size_t len = strlen(text);
	if (len > QUANTITY_MAX_LEN)
		return not_a_quantity(text, " (it is too long)", k, err, errlen);

	/* Room for every digit and for the up to 19 digits 2^60 adds. */
	unsigned char digits[QUANTITY_MAX_LEN + 20];
	size_t n = 0, frac = 0;
	const char *p = text;
	bool negative = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits[n++] = (unsigned char)(*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, frac++)
			digits[n++] = (unsigned char)(*p - '0');
	}
	if (n == 0)
		return not_a_quantity(text, " (it does not start with a number)",
				      k, err, errlen);

	int exp10, exp2;
	if (!parse_suffix(p, &exp10, &exp2)) {
		char detail[DIAG_QUOTE_BUFSZ + 32], q[DIAG_QUOTE_BUFSZ];
		bool letters = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		snprintf(detail, sizeof(detail), " (%s %s)",
			 letters ? "unknown suffix" : "unexpected",
			 diag_quote(p, q, sizeof(q)));
		return not_a_quantity(text, detail, k, err, errlen);
	}

	/* Drop leading zeros; zero is zero whatever the suffix. */
	size_t lead = 0;
	while (lead < n && digits[lead] == 0)
		lead++;
	memmove(digits, digits + lead, n - lead);
	n -= lead;
	if (n == 0) {
		*out = 0;
		return 0;
	}

	/* Multiply by 2^exp2 (<= 2^60): 9 * 2^60 + carry fits in 64 bits. */
	if (exp2) {
		unsigned long long carry = 0;
		for (size_t i = n; i-- > 0;) {
			unsigned long long v = ((unsigned long long)digits[i] << exp2) + carry;
			digits[i] = (unsigned char)(v % 10);
			carry = v / 10;
		}
		unsigned char head[20];
		size_t h = 0;
		for (; carry; carry /= 10)
			head[h++] = (unsigned char)(carry % 10);
		memmove(digits + h, digits, n);
		for (size_t i = 0; i < h; i++)
			digits[i] = head[h - 1 - i];
		n += h;
	}

	/* Shift the decimal point: value = digits * 10^shift, rounded up. */
	long shift = (long)exp10 + k->unit_exp10 - (long)frac;
	size_t whole = n;
	bool remainder = false;
	if (shift < 0) {
		size_t drop = (size_t)-shift;
		if (drop > n)
			drop = n;
		for (size_t i = n - drop; i < n; i++)
			remainder |= digits[i] != 0;
		whole = n - drop;
	}
	if (whole + (shift > 0 ? (size_t)shift : 0) > 19)
		return too_large(text, k, err, errlen);
	unsigned long long mag = 0;
	for (size_t i = 0; i < whole; i++)
		mag = mag * 10 + digits[i];
	for (long i = 0; i < shift; i++)
		mag *= 10;
	mag += remainder;
	if (mag > (unsigned long long)INT64_MAX)
		return too_large(text, k, err, errlen);
	*out = negative ? -(int64_t)mag : (int64_t)mag;
	return 0;
}

int quantity_parse_millicores(const char *text, int64_t *millicores,
			      char *err, size_t errlen)
{
	return parse(text, &cpu, millicores, err, errlen);
}

int quantity_parse_bytes(const char *text, int64_t *bytes,
			 char *err, size_t errlen)
{
	return parse(text, &memory, bytes, err, errlen);
}

char *quantity_format_millicores(int64_t millicores, char *buf, size_t len)
{
	if (millicores % 1000 == 0)
		snprintf(buf, len, "%lld", (long long)(millicores / 1000));
	else
		snprintf(buf, len, "%lldm", (long long)millicores);
	return buf;
}

char *quantity_format_bytes(int64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = { "Ei", "Pi", "Ti", "Gi", "Mi", "Ki" };
	unsigned long long mag = bytes < 0 ? 0ULL - (unsigned long long)bytes
					   : (unsigned long long)bytes;
	for (int i = 0; i < 6 && mag; i++) {
		unsigned long long unit = 1ULL << (60 - 10 * i);
		if (mag % unit == 0) {
			snprintf(buf, len, "%s%llu%s", bytes < 0 ? "-" : "",
				 mag / unit, names[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%lld", (long long)bytes);
	return buf;
}
