/* check — the online checks of --check-config --online (see check.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "http.h"
#include "ipa.h"

#define SSAR_PATH "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

struct permission {
	const char *verb, *group, *resource, *subresource, *column;
};

/* The permissions ipad needs on the Deployments of a namespace. */
static const struct permission permissions[] = {
	{ "get", "apps", "deployments", NULL, "GET" },
	{ "patch", "apps", "deployments", NULL, "PATCH" },
	{ "get", "apps", "deployments", "scale", "GET-SCALE" },
	{ "patch", "apps", "deployments", "scale", "PATCH-SCALE" },
};
#define NPERM (sizeof(permissions) / sizeof(permissions[0]))

/* With watch-ipas: on the IPA objects of the watched namespaces. */
static const struct permission ipa_permissions[] = {
	{ "list", "ipa.shafinhasnat.me", "ipas", NULL, NULL },
	{ "watch", "ipa.shafinhasnat.me", "ipas", NULL, NULL },
	{ "patch", "ipa.shafinhasnat.me", "ipas", "status", NULL },
};

/* With leader-election: on the Leases of the lease namespace. */
static const struct permission lease_permissions[] = {
	{ "get", "coordination.k8s.io", "leases", NULL, NULL },
	{ "create", "coordination.k8s.io", "leases", NULL, NULL },
	{ "update", "coordination.k8s.io", "leases", NULL, NULL },
};
#define NEXTRA 3

/* Problems are printed after the table. */
struct problems {
	char *text;
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void add_problem(struct problems *p, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	char *grown = realloc(p->text, p->len + n + 2);
	if (!grown)
		return;
	p->text = grown;
	memcpy(p->text + p->len, line, n);
	p->text[p->len + n] = '\n';
	p->len += n + 1;
	p->text[p->len] = '\0';
}

/* One SelfSubjectAccessReview: 1 allowed, 0 denied, or a negative errno
 * (err set) when it could not be asked. */
static int can_i(struct kube_cluster *k, struct http_client *hc, const char *ns,
		 const struct permission *perm, char *err, size_t errlen)
{
	cJSON *body = cJSON_CreateObject(), *ra = NULL;
	bool ok = body &&
		  cJSON_AddStringToObject(body, "apiVersion", "authorization.k8s.io/v1") &&
		  cJSON_AddStringToObject(body, "kind", "SelfSubjectAccessReview") &&
		  (ra = cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "spec"),
						"resourceAttributes")) &&
		  cJSON_AddStringToObject(ra, "namespace", ns) &&
		  cJSON_AddStringToObject(ra, "verb", perm->verb) &&
		  cJSON_AddStringToObject(ra, "group", perm->group) &&
		  cJSON_AddStringToObject(ra, "resource", perm->resource) &&
		  (!perm->subresource ||
		   cJSON_AddStringToObject(ra, "subresource", perm->subresource));
	char *text = ok ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct kube_result r;
	int rc = kube_request(k, hc, "POST", SSAR_PATH, "application/json", text, 0,
			      &r, err, errlen);
	free(text);
	if (rc == 0) {
		const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(r.object, "status"), "allowed");
		if (cJSON_IsBool(allowed))
			rc = cJSON_IsTrue(allowed) ? 1 : 0;
		else {
			snprintf(err, errlen, "POST " SSAR_PATH ": the answer has no "
				 "status.allowed");
			rc = -EBADMSG;
		}
	} else if (r.status == 401) {
		rc = -EKEYREJECTED;
	}
	kube_result_free(&r);
	return rc;
}

/* The distinct namespaces of cluster name's targets, in target order. */
static size_t namespaces_of(const struct target_list *targets, const char *name,
			    const char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < targets->count; i++) {
		const struct target *t = &targets->items[i];
		bool seen = strcmp(t->cluster, name) != 0;
		for (size_t j = 0; !seen && j < n; j++)
			seen = strcmp(out[j], t->namespace) == 0;
		if (!seen)
			out[n++] = t->namespace;
	}
	return n;
}

/* The permissions of perms (NEXTRA of them) in namespace ns ("": all
 * namespaces), each denied one or failed review a problem line
 * "CLUSTER: WHAT: VERB RESOURCE[/SUB] in NS: denied". Returns 0 or
 * -EACCES; -EHOSTUNREACH when the credentials were refused. */
static int check_extra(struct kube_cluster *k, struct http_client *hc, const char *what,
		       const struct permission *perms, const char *ns, struct problems *p)
{
	char err[1024];
	int worst = 0;

	for (size_t j = 0; j < NEXTRA; j++) {
		int ok = can_i(k, hc, ns, &perms[j], err, sizeof(err));

		if (ok == 1)
			continue;
		if (ok == -EKEYREJECTED) {
			add_problem(p, "%s: %s", k->name, err);
			return -EHOSTUNREACH;
		}
		if (ok == 0)
			add_problem(p, "%s: %s: %s %s%s%s in %s%s: denied", k->name, what,
				    perms[j].verb, perms[j].resource,
				    perms[j].subresource ? "/" : "",
				    perms[j].subresource ? perms[j].subresource : "",
				    *ns ? "namespace " : "all namespaces", ns);
		else
			add_problem(p, "%s: %s: %s", k->name, what, err);
		worst = -EACCES;
	}
	return worst;
}

/* The IPA objects' and Leases' permissions of cluster c of cfg. */
static int check_watch_and_lease(const struct ipad_config *cfg, int c, struct kube_cluster *k,
				 struct http_client *hc, struct problems *p)
{
	const struct cluster_config *cc = &cfg->clusters[c];
	int worst = 0, rc;

	if (cc->watch_ipas && !cc->ipa_namespaces)
		worst = check_extra(k, hc, "IPA objects", ipa_permissions, "", p);
	if (cc->watch_ipas && cc->ipa_namespaces) {
		char *list = strdup(cc->ipa_namespaces), *save = NULL;

		if (!list)
			return -ENOMEM;
		for (char *ns = strtok_r(list, " \t,", &save); ns && worst != -EHOSTUNREACH;
		     ns = strtok_r(NULL, " \t,", &save))
			if ((rc = check_extra(k, hc, "IPA objects", ipa_permissions, ns, p)) < 0)
				worst = rc;
		free(list);
	}
	if (cfg->leader_election && worst != -EHOSTUNREACH &&
	    (rc = check_extra(k, hc, "leader election", lease_permissions,
			      cfg->lease_namespace, p)) < 0)
		worst = rc;
	return worst;
}

/* The targets of the IPA objects of one collection path (their own
 * problems are the daemon's to report), appended to out. 404: the CRD is
 * missing, a problem line. Returns 0, -EACCES (problem added), -ENOMEM,
 * or 1 when the list could not be had for another reason (the rest of
 * the check says why: unreachable, forbidden). */
static int list_watched(const struct ipad_config *cfg, int c, struct kube_cluster *k,
			struct http_client *hc, const char *path, struct target_list *out,
			struct problems *p)
{
	struct kube_result r;
	char err[1024];
	const cJSON *item;
	int rc = kube_request(k, hc, "GET", path, NULL, NULL, 0, &r, err, sizeof(err));

	if (rc == -ENOENT) {
		add_problem(p, "%s: IPA objects: the IPA CustomResourceDefinition is not installed "
			    "(GET %s: 404); kubectl apply -f /usr/share/ipad/manifests/ipa-crd.yaml",
			    k->name, path);
		rc = -EACCES;
	} else if (rc < 0) {
		rc = 1;
	}
	const cJSON *items = rc == 0 ? cJSON_GetObjectItemCaseSensitive(r.object, "items") : NULL;

	cJSON_ArrayForEach(item, items) {
		struct diag d = { 0 };
		char *text;
		cJSON *copy = cJSON_Duplicate(item, true);

		if (!copy || !cJSON_AddStringToObject(copy, "apiVersion",
						      "ipa.shafinhasnat.me/v1alpha1") ||
		    !cJSON_AddStringToObject(copy, "kind", "IPA") ||
		    !(text = cJSON_PrintUnformatted(copy))) {
			cJSON_Delete(copy);
			rc = -ENOMEM;
			break;
		}
		cJSON_Delete(copy);
		if (ipa_load_object(text, cfg, &cfg->clusters[c], out, &d) == -ENOMEM)
			rc = -ENOMEM;
		diag_free(&d);
		free(text);
	}
	kube_result_free(&r);
	return rc;
}

/* With watch-ipas: the targets of cluster c's IPA objects (in its
 * ipa-namespaces, or all) appended to out. Returns as list_watched(). */
static int watched_targets(const struct ipad_config *cfg, int c, struct kube_cluster *k,
			   struct http_client *hc, struct target_list *out, struct problems *p)
{
	const struct cluster_config *cc = &cfg->clusters[c];
	char *list, *save = NULL, *path;
	int rc = 0;

	if (!cc->watch_ipas)
		return 0;
	if (!cc->ipa_namespaces)
		return list_watched(cfg, c, k, hc, "/apis/ipa.shafinhasnat.me/v1alpha1/ipas", out, p);
	if (!(list = strdup(cc->ipa_namespaces)))
		return -ENOMEM;
	for (char *ns = strtok_r(list, " \t,", &save); ns && rc == 0;
	     ns = strtok_r(NULL, " \t,", &save)) {
		path = kube_path("/apis/ipa.shafinhasnat.me/v1alpha1", ns, "ipas", NULL, NULL);
		rc = path ? list_watched(cfg, c, k, hc, path, out, p) : -ENOMEM;
		free(path);
	}
	free(list);
	return rc;
}

/* Check one cluster; returns 0, -EHOSTUNREACH or -EACCES. */
static int check_cluster(struct kube_cluster *k, struct http_client *hc,
			 const struct target_list *targets, FILE *out,
			 struct problems *p)
{
	char err[1024], version[64] = "-";
	struct kube_result r;
	const char **ns = calloc(targets->count + 1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	size_t n = namespaces_of(targets, k->name, ns);
	int worst = 0;
	int rc = kube_request(k, hc, "GET", "/version", NULL, NULL, 0, &r, err, sizeof(err));
	const char *server = "-";
	if (rc == 0) {
		const char *v = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(r.object, "gitVersion"));
		snprintf(version, sizeof(version), "%s", v ? v : "?");
	} else if (r.status == 0 || r.status == 401) {
		add_problem(p, "%s: %s", k->name, err);
		snprintf(version, sizeof(version), "%s",
			 r.status == 401 ? "unauthorized" : "unreachable");
		worst = -EHOSTUNREACH;
	}
	/* (another answer to /version, e.g. 403, still proves the way there) */
	kube_result_free(&r);
	char server_buf[256];
	kube_cluster_server(k, server_buf, sizeof(server_buf));
	server = server_buf[0] ? server_buf : server;
	if (n == 0)
		fprintf(out, "%-12s %-16s %-36s %-20s %s\n", k->name, "-", server,
			version, "(no targets)");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-12s %-16s %-36s %-20s", k->name, ns[i], server, version);
		for (size_t j = 0; j < NPERM; j++) {
			int ok = worst == -EHOSTUNREACH ? -EHOSTUNREACH
				 : can_i(k, hc, ns[i], &permissions[j], err, sizeof(err));
			const char *verdict = ok == 1 ? "yes" : ok == 0 ? "no" : "?";
			fprintf(out, " %-*s", (int)strlen(permissions[j].column), verdict);
			if (ok == 1)
				continue;
			if (ok == -EKEYREJECTED) {
				add_problem(p, "%s: %s", k->name, err);
				worst = -EHOSTUNREACH;
			} else if (ok == 0) {
				add_problem(p, "%s: %s: %s deployments%s%s: denied", k->name,
					    ns[i], permissions[j].verb,
					    permissions[j].subresource ? "/" : "",
					    permissions[j].subresource ? permissions[j].subresource : "");
			} else if (ok != -EHOSTUNREACH) {
				add_problem(p, "%s: %s: %s", k->name, ns[i], err);
			}
			if (ok != -EHOSTUNREACH && worst == 0)
				worst = -EACCES;
		}
		fputc('\n', out);
	}
	free(ns);
	return worst;
}

int check_online(const struct ipad_config *cfg, const struct target_list *targets,
		 struct kube_cluster *clusters, FILE *out)
{
	struct http_pool *pool = http_pool_new();
	struct http_client *hc = pool ? http_client_new(pool) : NULL;
	struct problems p = { 0 };
	int worst = 0;
	if (!hc) {
		http_pool_free(pool);
		fprintf(out, "ipad: out of memory\n");
		return EX_OSERR;
	}
	fprintf(out, "%-12s %-16s %-36s %-20s", "CLUSTER", "NAMESPACE", "SERVER", "VERSION");
	for (size_t j = 0; j < NPERM; j++)
		fprintf(out, " %s", permissions[j].column);
	fputc('\n', out);
	for (int i = 0; i < cfg->cluster_count; i++) {
		/* The files' targets and those of the IPA objects watched. */
		struct target_list all = { 0 };
		int wrc = 0, rc = 0;

		for (size_t t = 0; t < targets->count && rc == 0; t++) {
			struct target copy;
			if (strcmp(targets->items[t].cluster, cfg->clusters[i].name) != 0)
				continue;
			if (target_copy(&copy, &targets->items[t]) < 0 ||
			    target_list_append(&all, &copy) < 0)
				rc = -ENOMEM;
		}
		if (rc == 0)
			wrc = watched_targets(cfg, i, &clusters[i], hc, &all, &p);
		if (rc == 0 && wrc != -ENOMEM)
			rc = check_cluster(&clusters[i], hc, &all, out, &p);
		target_list_free(&all);
		if (wrc == -ENOMEM || (wrc == -EACCES && rc == 0))
			rc = wrc;
		if (rc == 0 || rc == -EACCES) {
			int xrc = check_watch_and_lease(cfg, i, &clusters[i], hc, &p);
			if (xrc < 0 && (rc == 0 || xrc != -EACCES))
				rc = xrc;
		}
		if (rc == -ENOMEM || (rc < 0 && worst != -ENOMEM && worst != -EHOSTUNREACH))
			worst = rc;
	}
	if (p.text)
		fputs(p.text, out);
	free(p.text);
	http_client_free(hc);
	http_pool_free(pool);
	return worst == 0 ? EX_OK : worst == -EHOSTUNREACH ? EX_UNAVAILABLE
	       : worst == -EACCES ? EX_NOPERM : EX_OSERR;
}
