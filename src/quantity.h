/* quantity — Kubernetes resource quantities <-> integers.
 *
 * Implements the serialization format of k8s.io/apimachinery
 * pkg/api/resource.Quantity: <sign><digits>[.<digits>][<suffix>] where the
 * suffix is a binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix
 * (n u m "" k M G T P E) or a decimal exponent (e3, E-2).
 *
 * Inside ipad CPU is always an integer number of millicores and memory an
 * integer number of bytes. Like Kubernetes, values that are not whole in
 * the target unit are rounded up (0.1m CPU -> 1m; 0.5 bytes -> 1). */
#ifndef IPAD_QUANTITY_H
#define IPAD_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

/* Parse a CPU quantity ("250m", "1", "1.5", "2e3", "0.1") into millicores.
 * Negative values are parsed (the sign is kept); deciding whether they are
 * allowed is the caller's business.
 * Returns 0, -EINVAL for text that is not a quantity (err says why, e.g.
 * "\"1.5.2\" is not a Kubernetes quantity"), -ERANGE when the value does not
 * fit in int64 millicores. err may be NULL. */
int quantity_parse_millicores(const char *text, int64_t *millicores,
			      char *err, size_t errlen);

/* Parse a memory quantity ("256Mi", "1G", "1e9", "129e6", "128974848") into
 * bytes. Same errors as quantity_parse_millicores. "1G" is 10^9 and "1Gi"
 * 2^30: they are different and both valid. "256MB" is not a quantity. */
int quantity_parse_bytes(const char *text, int64_t *bytes,
			 char *err, size_t errlen);

/* Format millicores the way kubectl shows them: "250m", "2" for whole cores.
 * Returns buf. buf must hold at least QUANTITY_BUFSZ bytes. */
#define QUANTITY_BUFSZ 32
char *quantity_format_millicores(int64_t millicores, char *buf, size_t len);

/* Format bytes with the largest exact binary suffix ("256Mi", "1Gi",
 * "1536Ki"), or plain bytes when none divides evenly. Returns buf. */
char *quantity_format_bytes(int64_t bytes, char *buf, size_t len);

#endif
