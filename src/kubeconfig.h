/* kubeconfig — load kubeconfig files the way client-go does and resolve
 * one context into what a client needs to connect.
 *
 * Several files (a $KUBECONFIG-style ':' list) are merged with client-go's
 * rules: clusters, users and contexts are maps by name and the first file
 * that defines a name wins the whole entry; the first non-empty
 * current-context wins; a missing file of a list is skipped (a single
 * file must exist). Relative paths (certificate-authority,
 * client-certificate, client-key, tokenFile, an exec command with a '/')
 * resolve against the directory of the file that defined them. UTF-8 and
 * UTF-16 byte-order marks and null lists are accepted.
 *
 * cluster: server, certificate-authority(-data), insecure-skip-tls-verify
 * (with a CA: client-go's error), tls-server-name, proxy-url (http, https,
 * socks5), disable-compression, the extension client.authentication.k8s.io/exec
 * (spec.cluster.config for exec plugins). user: token, tokenFile (trimmed; empty is
 * an error), client-certificate(-data) + client-key(-data),
 * username/password (with a token: an error), as/as-groups/as-uid, exec
 * (client.authentication.k8s.io/v1 or v1beta1; skipped when a token, basic
 * auth or a client certificate is set), auth-provider (oidc with an
 * id-token that has not expired; gcp and azure get client-go's advice to
 * use their exec plugins). *-data fields are standard base64 (line breaks
 * tolerated) and override the matching path field. TLS material stays in
 * memory. Nothing is run here: exec plugins run in execcred.c.
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
	char *token_file;      /* absolute tokenFile the token came from, or NULL */
	char *username;        /* basic authentication, or NULL */
	char *password;
	char *tls_server_name; /* SNI and certificate name, or NULL */
	char *proxy_url;       /* http://, https:// or socks5:// URL, or NULL */
	bool disable_compression;
	char *impersonate_user;      /* as, or NULL */
	char *impersonate_uid;       /* as-uid, or NULL */
	char **impersonate_groups;   /* as-groups, NULL-terminated, or NULL */
	struct kube_exec *exec;      /* the credential plugin to run, or NULL */
	char *exec_cluster_config;   /* the cluster's extension named
					client.authentication.k8s.io/exec as
					JSON text (spec.cluster.config of
					KUBERNETES_EXEC_INFO), or NULL */
};

/* users[].user.exec: a client-go credential plugin. */
struct kube_exec {
	char *api_version;     /* client.authentication.k8s.io/v1 or /v1beta1 */
	char *command;         /* absolute when it held a '/', else a PATH name */
	char **argv;           /* command, then args; NULL-terminated */
	char **env;            /* "NAME=value", NULL-terminated (may be empty) */
	bool provide_cluster_info;
	char *install_hint;    /* or NULL */
	char *user;            /* the kubeconfig user, for messages */
};

/* Load path (one file, or files separated by ':') and resolve context
 * (NULL or "": current-context) into out.
 * Returns 0, or a negative errno with one sentence in err (never containing
 * a token or key). out is always safe to pass to kubeconfig_free(). */
int kubeconfig_load(const char *path, const char *context,
		    struct kube_credentials *out, char *err, size_t errlen);

/* Read a tokenFile: its content without leading and trailing white
 * space, malloc'ed into *token. Returns 0, or -errno / -EINVAL (empty)
 * with a sentence in err naming the file. */
int kubeconfig_read_token_file(const char *path, char **token, char *err,
			       size_t errlen);

/* Free and wipe (explicit_bzero) secrets; resets *c. */
void kubeconfig_free(struct kube_credentials *c);

#endif
