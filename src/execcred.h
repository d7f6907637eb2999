/* execcred — run a kubeconfig's exec credential plugin the way client-go
 * does (client.authentication.k8s.io v1 and v1beta1), as a daemon must.
 *
 * The plugin is started with posix_spawn, never through a shell: argv is
 * the kubeconfig's command and args; a command without '/' is looked up in
 * ipad's PATH (kubeconfig.c already made a command with '/' absolute,
 * relative to the kubeconfig's directory). Its environment is ipad's own,
 * then the kubeconfig's env list, then KUBERNETES_EXEC_INFO: an
 * ExecCredential of the configured apiVersion with spec.interactive false
 * and, only with provideClusterInfo, spec.cluster (server,
 * certificate-authority-data, tls-server-name, insecure-skip-tls-verify,
 * proxy-url, disable-compression, config). stdin is /dev/null; no signal
 * is blocked or ignored in it; it runs in a process group of its own and
 * inherits no descriptor of ipad beyond 0-2.
 *
 * stdout (at most EXECCRED_MAX_OUTPUT bytes) is read through a pipe, never
 * logged nor quoted in errors, and wiped once parsed. stderr is logged as
 * lifecycle records "exec plugin CMD (user "U"): LINE" (at most
 * EXECCRED_MAX_STDERR_LINES lines of at most 512 bytes each per run). A
 * plugin that runs longer than the time limit, or while ipad is stopping
 * (http_cancelled()), is killed with its process group (SIGKILL).
 *
 * Errors read like client-go's, naming the kubeconfig, context, user and
 * command: "kubeconfig /etc/ipad/eks.yaml: context \"prod\": user \"admin\":
 * exec plugin aws: exited with status 255". */
#ifndef IPAD_EXECCRED_H
#define IPAD_EXECCRED_H

#include <stddef.h>
#include <time.h>

#include "kubeconfig.h"

#define EXECCRED_MAX_OUTPUT (1u << 20)     /* bytes of stdout */
#define EXECCRED_MAX_STDERR_LINES 20
#define EXECCRED_MIN_TIMEOUT_MS 5000L      /* bounds of the time limit */
#define EXECCRED_MAX_TIMEOUT_MS 30000L

/* What a plugin returned: a bearer token, or a client certificate and key
 * (PEM text). Every pointer is owned; secrets are wiped by
 * execcred_free(). */
struct execcred {
	char *token;              /* or NULL */
	char *client_cert_pem;    /* NUL-terminated PEM, or NULL */
	size_t client_cert_pem_len;
	char *client_key_pem;     /* NUL-terminated PEM, or NULL */
	size_t client_key_pem_len;
	time_t expiry;            /* status.expirationTimestamp (s since the
				     epoch), 0: none (valid until refused) */
};

/* Run c->exec (c must have one) for c's cluster and user, for at most
 * timeout_ms (clamped to EXECCRED_MIN/MAX_TIMEOUT_MS), and validate its
 * output into *out (emptied first). Returns 0, or a negative errno with a
 * sentence in err: -ENOENT (command not found; the installHint follows),
 * -ETIMEDOUT (killed at the limit), -ECANCELED (ipad is stopping), -EIO
 * (exit status not 0, or killed by a signal), -EBADMSG (output not a valid
 * ExecCredential, see execcred_parse()), -ENOMEM, or another errno of
 * posix_spawn. Thread-safe; the caller serializes runs per cluster. */
int execcred_run(const struct kube_credentials *c, long timeout_ms,
		 struct execcred *out, char *err, size_t errlen);

/* Validate a plugin's stdout (len bytes, need not be NUL-terminated):
 * one JSON object, kind ExecCredential, apiVersion api_version, and in
 * status either token, or clientCertificateData and clientKeyData (PEM),
 * optionally expirationTimestamp (RFC 3339). Returns 0 with *out filled,
 * or -EBADMSG (-ENOMEM) with the reason in err, which never quotes the
 * token, the key nor the output itself; e.g. "invalid apiVersion
 * \"client.authentication.k8s.io/v1beta1\" (the kubeconfig asks for
 * client.authentication.k8s.io/v1)", "returned an ExecCredential with
 * neither token nor client certificate". */
int execcred_parse(const char *api_version, const char *text, size_t len,
		   struct execcred *out, char *err, size_t errlen);

/* The KUBERNETES_EXEC_INFO value for c (malloc'ed JSON, or NULL when out
 * of memory). */
char *execcred_exec_info(const struct kube_credentials *c);

/* A deep copy of src into *dst (emptied first). 0 or -ENOMEM. */
int execcred_copy(struct execcred *dst, const struct execcred *src);

/* Wipe and free; resets *e. */
void execcred_free(struct execcred *e);

#endif
