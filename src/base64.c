/* base64 — RFC 4648 base64 (see base64.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

char *base64_encode(const char *in, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)in;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int base64_decode(const char *in, size_t inlen, char **out, size_t *outlen)
{
	size_t cap = inlen / 4 * 3 + 4;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	uint32_t quad = 0;
	size_t o = 0;
	int have = 0, pad = 0;
	bool done = false;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		int v = b64_value(c);
		if (done || (c == '=' ? have < 2 : v < 0 || pad > 0))
			goto invalid;
		pad += c == '=';
		quad = quad << 6 | (uint32_t)(c == '=' ? 0 : v);
		if (++have < 4)
			continue;
		buf[o++] = (char)(quad >> 16);
		if (pad < 2)
			buf[o++] = (char)(quad >> 8);
		if (pad < 1)
			buf[o++] = (char)quad;
		done = pad > 0;
		have = 0;
		quad = 0;
	}
	if (have != 0)
		goto invalid;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
invalid:
	explicit_bzero(buf, cap);
	free(buf);
	return -EINVAL;
}
