/* kubeconfig — load a kubeconfig file the way client-go does and resolve
 * one context into what a client needs to connect.
 *
 * Supported (this version: one file): current-context or a named context;
 * cluster server, certificate-authority, certificate-authority-data,
 * insecure-skip-tls-verify; user token, client-certificate(-data),
 * client-key(-data). Relative paths resolve against the kubeconfig's own
 * directory. *-data fields are standard base64 (line breaks tolerated) and
 * override the matching path field. insecure-skip-tls-verify together with a
 * CA is client-go's error. TLS material stays in memory.
 * Errors use client-go's words and name the file, context, cluster and user:
 *   "kubeconfig /etc/ipad/kube.yaml: context was not found for specified
 *    context: prod" */
#ifndef IPAD_KUBECONFIG_H
#define IPAD_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct kube_credentials {
	char *path;            /* the kubeconfig file */
	char *context;         /* context name used */
	char *cluster;         /* cluster name of that context */
	char *user;            /* user name of that context (may be NULL) */
	char *namespace;       /* context namespace, "default" when empty */
	char *server;          /* https://host:port[/prefix], no trailing '/' */
	char *ca_pem;          /* CA bundle (PEM), NULL: system trust store */
	size_t ca_pem_len;
	bool insecure_skip_tls_verify;
	char *client_cert_pem; /* PEM, or NULL */
	size_t client_cert_pem_len;
	char *client_key_pem;  /* PEM, or NULL */
	size_t client_key_pem_len;
	char *token;           /* bearer token, or NULL */
};

/* Load path and resolve context (NULL or "": current-context) into out.
 * Returns 0, or a negative errno with one sentence in err (never containing
 * a token or key). out is always safe to pass to kubeconfig_free(). */
int kubeconfig_load(const char *path, const char *context,
		    struct kube_credentials *out, char *err, size_t errlen);

/* Free and wipe (explicit_bzero) secrets; resets *c. */
void kubeconfig_free(struct kube_credentials *c);

#endif
