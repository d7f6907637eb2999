/* Unit tests of kubeconfig.c against the fixtures in data/kubeconfig/.
 * The PEM files there are a throwaway test CA, client certificate and key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kubeconfig.h"

#define DIR TEST_DATA_DIR "/kubeconfig/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(65536);
	assert_non_null(buf);
	*len = fread(buf, 1, 65535, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void assert_pem_equals_file(const char *pem, size_t pem_len, const char *file)
{
	size_t len;
	char *want = slurp(file, &len);
	assert_non_null(pem);
	assert_int_equal(pem_len, len);
	assert_memory_equal(pem, want, len);
	assert_int_equal(pem[pem_len], '\0');
	free(want);
}

static void load_ok(const char *path, const char *context, struct kube_credentials *c)
{
	char err[512];
	int rc = kubeconfig_load(path, context, c, err, sizeof err);
	if (rc != 0)
		fail_msg("kubeconfig_load(%s, %s) = %d: %s", path,
			 context ? context : "NULL", rc, err);
}

/* Load must fail with rc and exactly "kubeconfig PATH<suffix>", leaving
 * the credentials empty. */
static void expect_error(const char *path, const char *context, int want_rc,
			 const char *suffix)
{
	struct kube_credentials c;
	char err[1024], want[1024];
	memset(&c, 0x5a, sizeof c);
	int rc = kubeconfig_load(path, context, &c, err, sizeof err);
	snprintf(want, sizeof want, "kubeconfig %s%s", path, suffix);
	assert_string_equal(err, want);
	assert_int_equal(rc, want_rc);
	struct kube_credentials zero;
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&c, &zero, sizeof c);
}

/* ---- what a good file gives -------------------------------------------- */

static void test_token_current_context(void **state)
{
	struct kube_credentials c;
	load_ok(DIR "token.yaml", NULL, &c);
	assert_string_equal(c.path, DIR "token.yaml");
	assert_string_equal(c.context, "dev");
	assert_string_equal(c.cluster, "dev-cluster");
	assert_string_equal(c.user, "dev-user");
	assert_string_equal(c.namespace, "shop");
	assert_string_equal(c.server, "https://127.0.0.1:6443");
	assert_true(c.insecure_skip_tls_verify);
	assert_string_equal(c.token, "dev-token-123");
	assert_null(c.ca_pem);
	assert_int_equal(c.ca_pem_len, 0);
	assert_null(c.client_cert_pem);
	assert_null(c.client_key_pem);
	kubeconfig_free(&c);
	assert_null(c.token);
	assert_null(c.path);
	kubeconfig_free(&c); /* a freed struct may be freed again */
}

static void test_named_context(void **state)
{
	struct kube_credentials c;
	load_ok(DIR "token.yaml", "prod", &c);
	assert_string_equal(c.context, "prod");
	assert_string_equal(c.cluster, "prod-cluster");
	assert_null(c.user);
	assert_null(c.token);
	assert_string_equal(c.namespace, "default");
	assert_string_equal(c.server, "https://prod.example.test:443/k8s");
	assert_false(c.insecure_skip_tls_verify);
	kubeconfig_free(&c);

	/* "" means the current context, like NULL */
	load_ok(DIR "token.yaml", "", &c);
	assert_string_equal(c.context, "dev");
	kubeconfig_free(&c);
}

static void test_data_fields(void **state)
{
	struct kube_credentials c;
	/* certificate-authority-data wins over a certificate-authority path
	 * that does not even exist */
	load_ok(DIR "data.yaml", NULL, &c);
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	assert_pem_equals_file(c.client_cert_pem, c.client_cert_pem_len, DIR "client.crt");
	assert_pem_equals_file(c.client_key_pem, c.client_key_pem_len, DIR "client.key");
	assert_null(c.token);
	assert_false(c.insecure_skip_tls_verify);
	kubeconfig_free(&c);
}

static void test_data_with_line_breaks(void **state)
{
	struct kube_credentials c;
	/* literal block scalars keep newlines, the folded one turns them into
	 * spaces: both are tolerated */
	load_ok(DIR "data-wrapped.yaml", NULL, &c);
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	assert_pem_equals_file(c.client_cert_pem, c.client_cert_pem_len, DIR "client.crt");
	assert_pem_equals_file(c.client_key_pem, c.client_key_pem_len, DIR "client.key");
	kubeconfig_free(&c);
}

static void test_relative_paths(void **state)
{
	struct kube_credentials c;
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof cwd));

	/* relative to the kubeconfig's directory, not the working directory */
	assert_int_equal(chdir("/"), 0);
	load_ok(DIR "relative.yaml", NULL, &c);
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	assert_pem_equals_file(c.client_cert_pem, c.client_cert_pem_len, DIR "client.crt");
	assert_pem_equals_file(c.client_key_pem, c.client_key_pem_len, DIR "client.key");
	assert_string_equal(c.namespace, "default"); /* namespace: "" */
	kubeconfig_free(&c);

	/* a kubeconfig named without a directory lives in the working one */
	assert_int_equal(chdir(DIR), 0);
	load_ok("relative.yaml", NULL, &c);
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	kubeconfig_free(&c);
	assert_int_equal(chdir(cwd), 0);
}

static void test_byte_order_mark(void **state)
{
	struct kube_credentials c;
	load_ok(DIR "bom.yaml", NULL, &c);
	assert_string_equal(c.context, "bom");
	assert_string_equal(c.server, "http://127.0.0.1:8080");
	assert_string_equal(c.token, "bom-token");
	kubeconfig_free(&c);
}

static void test_broken_entries_do_not_matter(void **state)
{
	struct kube_credentials c;
	load_ok(DIR "errors.yaml", "good", &c);
	assert_string_equal(c.token, "good-token");
	kubeconfig_free(&c);
}

static void test_depth_64_accepted(void **state)
{
	struct kube_credentials c;
	load_ok(DIR "deep-64.yaml", NULL, &c);
	assert_string_equal(c.cluster, "deep");
	kubeconfig_free(&c);
}

/* ---- client-go's errors ----------------------------------------------- */

static void test_context_not_found(void **state)
{
	expect_error(DIR "token.yaml", "staging", -ENOENT,
		     ": context was not found for specified context: staging");
}

static void test_cluster_not_found(void **state)
{
	expect_error(DIR "errors.yaml", "ghost-cluster", -ENOENT,
		     ": cluster \"ghost\" was not found for context \"ghost-cluster\"");
}

static void test_user_not_found(void **state)
{
	expect_error(DIR "errors.yaml", "ghost-user", -ENOENT,
		     ": user \"ghost\" was not found for context \"ghost-user\"");
}

static void test_cluster_not_specified(void **state)
{
	expect_error(DIR "errors.yaml", "no-cluster", -EINVAL,
		     ": cluster was not specified for context \"no-cluster\"");
}

static void test_no_server(void **state)
{
	expect_error(DIR "errors.yaml", "no-server", -EINVAL,
		     ": context \"no-server\": no server found for cluster \"serverless\"");
}

static void test_server_without_scheme(void **state)
{
	expect_error(DIR "errors.yaml", "no-scheme", -EINVAL,
		     ": context \"no-scheme\": cluster \"no-scheme\": server "
		     "\"127.0.0.1:6443\" must start with https:// or http://");
}

static void test_missing_ca_file(void **state)
{
	expect_error(DIR "errors.yaml", "missing-ca", -ENOENT,
		     ": context \"missing-ca\": unable to read certificate-authority "
		     DIR "missing/ca.crt for cluster \"missing-ca\": "
		     "No such file or directory");
}

static void test_missing_key_file(void **state)
{
	expect_error(DIR "errors.yaml", "missing-key-file", -ENOENT,
		     ": context \"missing-key-file\": unable to read client-key "
		     "/nonexistent/client.key for user \"missing-key-file\": "
		     "No such file or directory");
}

static void test_insecure_with_ca(void **state)
{
	expect_error(DIR "errors.yaml", "insecure-ca", -EINVAL,
		     ": context \"insecure-ca\": cluster \"insecure-ca\": specifying "
		     "a root certificates file with the insecure flag is not allowed");
}

static void test_insecure_not_boolean(void **state)
{
	expect_error(DIR "errors.yaml", "bad-insecure", -EINVAL,
		     ":40: insecure-skip-tls-verify must be true or false");
}

static void test_ca_data_bad_characters(void **state)
{
	expect_error(DIR "errors.yaml", "bad-ca-chars", -EINVAL,
		     ": context \"bad-ca-chars\": cluster \"bad-ca-chars\": "
		     "certificate-authority-data is not valid base64");
}

static void test_ca_data_bad_padding(void **state)
{
	expect_error(DIR "errors.yaml", "bad-ca-padding", -EINVAL,
		     ": context \"bad-ca-padding\": cluster \"bad-ca-padding\": "
		     "certificate-authority-data is not valid base64");
}

static void test_ca_data_not_pem(void **state)
{
	expect_error(DIR "errors.yaml", "not-pem", -EINVAL,
		     ": context \"not-pem\": cluster \"not-pem\": "
		     "certificate-authority-data holds no PEM data (\"-----BEGIN ...\")");
}

static void test_cert_without_key(void **state)
{
	expect_error(DIR "errors.yaml", "no-key", -EINVAL,
		     ": context \"no-key\": client-key-data or client-key must be "
		     "specified for \"cert-only\" to use the clientCert "
		     "authentication method.");
}

static void test_key_data_invalid_and_secrets_not_shown(void **state)
{
	struct kube_credentials c;
	char err[1024];
	expect_error(DIR "errors.yaml", "bad-key", -EINVAL,
		     ": context \"bad-key\": user \"bad-key\": client-key-data "
		     "is not valid base64");
	assert_int_equal(kubeconfig_load(DIR "errors.yaml", "bad-key", &c, err,
					 sizeof err), -EINVAL);
	assert_null(strstr(err, "secret-token"));
	assert_null(strstr(err, "c2VjcmV0"));
}

static void test_exec_errors(void **state)
{
	expect_error(DIR "errors.yaml", "exec", -EINVAL,
		     ":95: context \"exec\": user \"exec-user\": exec plugin: "
		     "interactiveMode must be specified for exec-user to use exec "
		     "authentication plugin");
}

/* ---- several files, client-go's merge ----------------------------------- */

#define MERGE DIR "merge/first.yaml:" DIR "merge/missing.yaml:" DIR "merge/sub/second.yaml"

static void test_merge(void **state)
{
	struct kube_credentials c;
	/* current-context: the first non-empty one (second.yaml's) */
	load_ok(MERGE, NULL, &c);
	assert_string_equal(c.context, "from-second");
	/* the first file defining first-cluster wins the whole entry */
	assert_string_equal(c.server, "https://first.example:6443");
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	assert_string_equal(c.tls_server_name, "api.internal.example");
	assert_string_equal(c.proxy_url, "socks5://proxy.example:1080");
	assert_true(c.disable_compression);
	assert_string_equal(c.username, "admin");
	assert_string_equal(c.password, "s3cret");
	assert_null(c.token);
	assert_null(c.exec);
	kubeconfig_free(&c);

	/* context "shared" of first.yaml; its user from second.yaml, whose
	 * tokenFile is relative to second.yaml; the token is trimmed */
	load_ok(MERGE, "shared", &c);
	assert_string_equal(c.cluster, "first-cluster");
	assert_string_equal(c.token, "tok-from-file");
	assert_string_equal(c.token_file, DIR "merge/sub/token");
	kubeconfig_free(&c);

	load_ok(MERGE, "impersonate", &c);
	assert_string_equal(c.impersonate_user, "jane");
	assert_string_equal(c.impersonate_uid, "1234");
	assert_string_equal(c.impersonate_groups[0], "developers");
	assert_string_equal(c.impersonate_groups[1], "system:authenticated");
	assert_null(c.impersonate_groups[2]);
	kubeconfig_free(&c);

	load_ok(MERGE, "oidc", &c);
	assert_non_null(c.token);
	assert_int_equal(strncmp(c.token, "eyJ", 3), 0);
	kubeconfig_free(&c);
}

static void test_merge_errors(void **state)
{
	static const struct { const char *context; int rc; const char *msg; } cases[] = {
		{ "oidc-expired", -EKEYEXPIRED, DIR "merge/sub/second.yaml:49: context "
		  "\"oidc-expired\": user \"oidc-expired\": auth-provider oidc: the "
		  "id-token has expired; ipad does not refresh OIDC tokens: use an exec "
		  "plugin such as kubelogin (\"kubectl oidc-login get-token\")" },
		{ "gcp", -ENOTSUP, DIR "merge/sub/second.yaml:53: context \"gcp\": user "
		  "\"gcp\": The gcp auth plugin has been removed. Please use the "
		  "\"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin "
		  "instead. See https://cloud.google.com/kubernetes-engine/docs/how-to/"
		  "cluster-access-for-kubectl#install_plugin for further details" },
		{ "azure", -ENOTSUP, NULL },
		{ "empty-token", -EINVAL, DIR "merge/sub/second.yaml: context "
		  "\"empty-token\": user \"empty-token\": tokenFile " DIR
		  "merge/sub/empty-token: the file is empty; it must hold a bearer token" },
		{ "basic-and-token", -EINVAL, DIR "merge/sub/second.yaml: context "
		  "\"basic-and-token\": user \"basic-and-token\": username/password or "
		  "bearer token may be set, but not both" },
		{ "bad-proxy", -EINVAL, DIR "merge/sub/second.yaml: context "
		  "\"bad-proxy\": cluster \"bad-proxy\": proxy-url: unsupported scheme "
		  "in \"ftp://proxy.example\", must be http, https, or socks5" },
		{ "nope", -ENOENT, MERGE ": context was not found for specified "
		  "context: nope" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kube_credentials c;
		char err[2048], want[2048];
		int rc = kubeconfig_load(MERGE, cases[i].context, &c, err, sizeof err);
		if (cases[i].msg) {
			snprintf(want, sizeof want, "kubeconfig %s", cases[i].msg);
			assert_string_equal(err, want);
		} else {
			assert_non_null(strstr(err, "The azure auth plugin has been removed"));
		}
		assert_int_equal(rc, cases[i].rc);
		assert_null(c.server);
	}
	/* a single file must exist; a list needs one that does */
	expect_error(DIR "merge/missing.yaml:" DIR "merge/gone.yaml", NULL, -ENOENT,
		     ": none of these files exists");
}

/* ---- what the providers hand out ---------------------------------------- */

static void test_providers(void **state)
{
	struct kube_credentials c;
	load_ok(DIR "providers/eks.yaml", NULL, &c);
	assert_string_equal(c.exec->api_version, "client.authentication.k8s.io/v1beta1");
	assert_string_equal(c.exec->command, "aws");  /* a PATH name */
	static const char *const eks_argv[] = { "aws", "--region", "eu-west-1", "eks",
		"get-token", "--cluster-name", "example", "--output", "json", NULL };
	for (size_t i = 0; i < sizeof eks_argv / sizeof eks_argv[0]; i++)
		if (eks_argv[i])
			assert_string_equal(c.exec->argv[i], eks_argv[i]);
		else
			assert_null(c.exec->argv[i]);
	assert_string_equal(c.exec->env[0], "AWS_PROFILE=example-profile");
	assert_null(c.exec->env[1]);
	assert_false(c.exec->provide_cluster_info);
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	kubeconfig_free(&c);

	load_ok(DIR "providers/gke.yaml", NULL, &c);
	assert_string_equal(c.exec->argv[0], "gke-gcloud-auth-plugin");
	assert_null(c.exec->argv[1]);        /* args: null */
	assert_null(c.exec->env[0]);         /* env: null */
	assert_true(c.exec->provide_cluster_info);
	assert_non_null(strstr(c.exec->install_hint, "gke-gcloud-auth-plugin"));
	kubeconfig_free(&c);

	load_ok(DIR "providers/aks.yaml", NULL, &c);
	assert_string_equal(c.exec->argv[0], "kubelogin");
	assert_string_equal(c.exec->argv[1], "get-token");
	kubeconfig_free(&c);
	/* the admin user: a client certificate and a token, no exec */
	load_ok(DIR "providers/aks.yaml", "example-aks-admin", &c);
	assert_null(c.exec);
	assert_string_equal(c.token, "0123456789abcdef0123456789abcdef");
	assert_pem_equals_file(c.client_key_pem, c.client_key_pem_len, DIR "client.key");
	kubeconfig_free(&c);

	static const char *const data[] = { "providers/k3s.yaml", "providers/kind.yaml" };
	for (size_t i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof path, DIR "%s", data[i]);
		load_ok(path, NULL, &c);
		assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
		assert_pem_equals_file(c.client_cert_pem, c.client_cert_pem_len, DIR "client.crt");
		assert_pem_equals_file(c.client_key_pem, c.client_key_pem_len, DIR "client.key");
		kubeconfig_free(&c);
	}

	load_ok(DIR "providers/openshift.yaml", NULL, &c);
	assert_true(c.insecure_skip_tls_verify);
	assert_string_equal(c.namespace, "example-project");
	assert_string_equal(c.token, "sha256~EXAMPLEexampleEXAMPLEexampleEXAMPLEexa");
	kubeconfig_free(&c);

	/* minikube writes absolute paths (and extensions) */
	size_t len;
	char *in = slurp(DIR "providers/minikube.yaml.in", &len), out[8192];
	size_t o = 0;
	const char *dir = TEST_DATA_DIR "/kubeconfig";
	for (char *p = in; *p && o < sizeof out - 256; p++) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			o += (size_t)snprintf(out + o, sizeof out - o, "%s", dir);
			p += 4;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	free(in);
	char path[64];
	snprintf(path, sizeof path, "/tmp/ipad-minikube-%d.yaml", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(out, f);
	fclose(f);
	load_ok(path, NULL, &c);
	unlink(path);
	assert_string_equal(c.server, "https://192.168.49.2:8443");
	assert_pem_equals_file(c.ca_pem, c.ca_pem_len, DIR "ca.crt");
	assert_pem_equals_file(c.client_key_pem, c.client_key_pem_len, DIR "client.key");
	kubeconfig_free(&c);
}

static void test_namespace_not_a_label(void **state)
{
	expect_error(DIR "errors.yaml", "bad-namespace", -EINVAL,
		     ": namespace \"Shop_1\" for context \"bad-namespace\" does not "
		     "conform to the kubernetes DNS_LABEL rules");
}

/* ---- the file itself -------------------------------------------------- */

static void test_missing_file(void **state)
{
	expect_error(DIR "nonexistent.yaml", NULL, -ENOENT,
		     ": cannot read the file: No such file or directory");
}

static void test_empty_file(void **state)
{
	expect_error(DIR "empty.yaml", NULL, -EINVAL,
		     ": invalid configuration: no configuration has been provided");
}

static void test_no_current_context(void **state)
{
	expect_error(DIR "no-current.yaml", NULL, -EINVAL,
		     ": no context chosen: current-context is not set and no "
		     "context was named");
	struct kube_credentials c;
	load_ok(DIR "no-current.yaml", "dev", &c);
	kubeconfig_free(&c);
}

static void test_syntax_error_line(void **state)
{
	expect_error(DIR "syntax.yaml", NULL, -EINVAL,
		     ":7:4: invalid YAML: did not find expected key "
		     "(while parsing a block mapping at line 4)");
}

static void test_alias_refused(void **state)
{
	expect_error(DIR "alias.yaml", NULL, -EINVAL,
		     ":8: YAML aliases (*shared) are not supported");
}

static void test_depth_65_refused(void **state)
{
	expect_error(DIR "deep-65.yaml", NULL, -EINVAL,
		     ":12: nesting deeper than 64 levels is not supported");
}

static void test_duplicate_name(void **state)
{
	expect_error(DIR "duplicate.yaml", NULL, -EINVAL,
		     ":7: clusters: duplicate name \"dev\"");
}

static void test_top_level_not_a_mapping(void **state)
{
	expect_error(DIR "list.yaml", NULL, -EINVAL,
		     ":1: the top level must be a mapping (clusters, users, "
		     "contexts, current-context), not a list");
}

static void test_wrong_type(void **state)
{
	expect_error(DIR "wrong-type.yaml", NULL, -EINVAL,
		     ":4: clusters must be a list, not a mapping");
}

static void test_no_path(void **state)
{
	struct kube_credentials c;
	char err[128];
	assert_int_equal(kubeconfig_load(NULL, NULL, &c, err, sizeof err), -EINVAL);
	assert_string_equal(err, "kubeconfig : no file name given");
}

static void test_small_error_buffer(void **state)
{
	struct kube_credentials c;
	char err[12];
	memset(err, 'x', sizeof err);
	assert_int_equal(kubeconfig_load(DIR "token.yaml", "staging", &c, err, 10),
			 -ENOENT);
	assert_string_equal(err, "kubeconfi");
	assert_int_equal(err[10], 'x');
	/* no buffer at all */
	assert_int_equal(kubeconfig_load(DIR "token.yaml", "staging", &c, NULL, 0),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_current_context),
		cmocka_unit_test(test_named_context),
		cmocka_unit_test(test_data_fields),
		cmocka_unit_test(test_data_with_line_breaks),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_broken_entries_do_not_matter),
		cmocka_unit_test(test_depth_64_accepted),
		cmocka_unit_test(test_context_not_found),
		cmocka_unit_test(test_cluster_not_found),
		cmocka_unit_test(test_user_not_found),
		cmocka_unit_test(test_cluster_not_specified),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_server_without_scheme),
		cmocka_unit_test(test_missing_ca_file),
		cmocka_unit_test(test_missing_key_file),
		cmocka_unit_test(test_insecure_with_ca),
		cmocka_unit_test(test_insecure_not_boolean),
		cmocka_unit_test(test_ca_data_bad_characters),
		cmocka_unit_test(test_ca_data_bad_padding),
		cmocka_unit_test(test_ca_data_not_pem),
		cmocka_unit_test(test_cert_without_key),
		cmocka_unit_test(test_key_data_invalid_and_secrets_not_shown),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_errors),
		cmocka_unit_test(test_providers),
		cmocka_unit_test(test_namespace_not_a_label),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_no_current_context),
		cmocka_unit_test(test_syntax_error_line),
		cmocka_unit_test(test_alias_refused),
		cmocka_unit_test(test_depth_65_refused),
		cmocka_unit_test(test_duplicate_name),
		cmocka_unit_test(test_top_level_not_a_mapping),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_no_path),
		cmocka_unit_test(test_small_error_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
