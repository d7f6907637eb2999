/* base64 — standard base64 (RFC 4648 section 4) for kubeconfig *-data
 * fields, HTTP basic authentication and the certificate-authority-data of
 * an exec plugin's KUBERNETES_EXEC_INFO. */
#ifndef IPAD_BASE64_H
#define IPAD_BASE64_H

#include <stddef.h>

/* The base64 text of len bytes of in, with padding, NUL-terminated and
 * malloc'ed (the caller frees it; wipe it first when in was a secret), or
 * NULL when out of memory. */
char *base64_encode(const char *in, size_t len);

/* Decode base64 with padding, ignoring ASCII white space (line-wrapped
 * YAML block scalars carry it). On 0, *out is a malloc'ed buffer of
 * *outlen bytes plus a NUL. Returns -EINVAL for anything else than
 * base64, -ENOMEM; *out is untouched then. */
int base64_decode(const char *in, size_t inlen, char **out, size_t *outlen);

#endif
