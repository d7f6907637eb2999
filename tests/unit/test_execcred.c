/* Unit tests of execcred.c: the validation of a plugin's output, the
 * KUBERNETES_EXEC_INFO it gets, and real runs of small shell scripts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "execcred.h"
#include "tempfiles.h"

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"
#define PEM_CERT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define PEM_KEY "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"

static int parse(const char *api, const char *text, struct execcred *out, char *err,
		 size_t errlen)
{
	return execcred_parse(api, text, strlen(text), out, err, errlen);
}

static void expect_bad(const char *api, const char *text, const char *want)
{
	struct execcred c;
	char err[512];
	int rc = parse(api, text, &c, err, sizeof err);
	assert_int_equal(rc, -EBADMSG);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	/* never the output itself */
	assert_null(strstr(err, "s3cr3t"));
	assert_null(c.token);
	assert_null(c.client_key_pem);
}

static void test_token_v1(void **state)
{
	struct execcred c;
	char err[256];
	assert_int_equal(parse(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
			       "\"status\":{\"token\":\"abc\"}}", &c, err, sizeof err), 0);
	assert_string_equal(c.token, "abc");
	assert_null(c.client_cert_pem);
	assert_int_equal(c.expiry, 0);
	execcred_free(&c);
	assert_null(c.token);
}

static void test_gke_multiline_v1beta1(void **state)
{
	struct execcred c;
	char err[256];
	const char *out = "{\n    \"kind\": \"ExecCredential\",\n    \"apiVersion\": \""
			  V1BETA1 "\",\n    \"spec\": {\n        \"interactive\": false\n    },\n"
			  "    \"status\": {\n        \"expirationTimestamp\": "
			  "\"2026-11-30T02:04:09Z\",\n        \"token\": \"ya29.x\"\n    }\n}\n";
	assert_int_equal(parse(V1BETA1, out, &c, err, sizeof err), 0);
	assert_string_equal(c.token, "ya29.x");
	assert_int_equal(c.expiry, 1796004249);  /* date -d 2026-11-30T02:04:09Z +%s */
	execcred_free(&c);
}

static void test_timestamps(void **state)
{
	static const struct { const char *ts; long long want; } cases[] = {
		{ "2026-11-30T02:04:09.123456Z", 1796004249 },
		{ "2026-11-30T03:04:09+01:00", 1796004249 },
		{ "2026-11-30t01:34:09-00:30", 1796004249 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct execcred c;
		char text[256], err[256];
		snprintf(text, sizeof text, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
			 "\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"%s\"}}", cases[i].ts);
		assert_int_equal(parse(V1, text, &c, err, sizeof err), 0);
		assert_int_equal((long long)c.expiry, cases[i].want);
		execcred_free(&c);
	}
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
		   "{\"token\":\"s3cr3t\",\"expirationTimestamp\":\"tomorrow\"}}",
		   "status.expirationTimestamp \"tomorrow\" is not an RFC 3339 time");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
		   "{\"token\":\"s3cr3t\",\"expirationTimestamp\":\"2026-13-01T00:00:00Z\"}}",
		   "not an RFC 3339 time");
}

static void test_client_certificate(void **state)
{
	struct execcred c, copy;
	char err[256];
	assert_int_equal(parse(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
			       "\"status\":{\"clientCertificateData\":\"" PEM_CERT "\","
			       "\"clientKeyData\":\"" PEM_KEY "\"}}", &c, err, sizeof err), 0);
	assert_null(c.token);
	assert_string_equal(c.client_cert_pem, PEM_CERT);
	assert_int_equal(c.client_cert_pem_len, strlen(PEM_CERT));
	assert_string_equal(c.client_key_pem, PEM_KEY);
	assert_int_equal(execcred_copy(&copy, &c), 0);
	assert_string_equal(copy.client_key_pem, PEM_KEY);
	assert_ptr_not_equal(copy.client_key_pem, c.client_key_pem);
	execcred_free(&c);
	execcred_free(&copy);
}

static void test_broken_outputs(void **state)
{
	expect_bad(V1, "", "printed nothing");
	expect_bad(V1, "token: s3cr3t", "is not a JSON object");
	expect_bad(V1, "[\"s3cr3t\"]", "is not a JSON object");
	expect_bad(V1, "{\"apiVersion\":\"" V1BETA1 "\",\"kind\":\"ExecCredential\","
		   "\"status\":{\"token\":\"s3cr3t\"}}",
		   "invalid apiVersion \"" V1BETA1 "\" in its ExecCredential (the kubeconfig "
		   "asks for " V1 ")");
	expect_bad(V1, "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"s3cr3t\"}}",
		   "invalid apiVersion \"\"");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"Secret\","
		   "\"status\":{\"token\":\"s3cr3t\"}}", "invalid kind \"Secret\"");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\"}",
		   "returned an ExecCredential without status");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}",
		   "returned an ExecCredential with neither token nor client certificate");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
		   "{\"token\":\"\"}}", "with neither token nor client certificate");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
		   "{\"token\":42}}", "status.token must be a string");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
		   "{\"clientCertificateData\":\"" PEM_CERT "\"}}",
		   "returned clientCertificateData without clientKeyData");
	expect_bad(V1, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
		   "{\"clientCertificateData\":\"" PEM_CERT "\",\"clientKeyData\":\"s3cr3t\"}}",
		   "returned clientKeyData that is not PEM text");
}

/* A kubeconfig in the temp directory whose user runs the script plugin.sh
 * (a relative command: resolved against the kubeconfig's directory). */
static void load_plugin(const char *script, const char *exec_extra,
			const char *cluster_extra, struct kube_credentials *c)
{
	char yaml[2048], err[512];
	const char *path = write_temp("plugin.sh", script, strlen(script));
	assert_int_equal(chmod(path, 0700), 0);
	snprintf(yaml, sizeof yaml,
		 "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
		 "clusters:\n- name: cl\n  cluster:\n    server: https://127.0.0.1:6443\n%s"
		 "contexts:\n- name: x\n  context: {cluster: cl, user: u}\n"
		 "users:\n- name: u\n  user:\n    exec:\n      apiVersion: " V1 "\n"
		 "      interactiveMode: Never\n      command: ./plugin.sh\n%s",
		 cluster_extra, exec_extra);
	path = write_temp("kubeconfig.yaml", yaml, strlen(yaml));
	int rc = kubeconfig_load(path, NULL, c, err, sizeof err);
	if (rc != 0)
		fail_msg("kubeconfig_load: %s", err);
}

static void test_exec_info(void **state)
{
	struct kube_credentials c;
	load_plugin("#!/bin/sh\n", "      provideClusterInfo: true\n",
		    "    tls-server-name: api.example\n    insecure-skip-tls-verify: true\n"
		    "    extensions:\n    - name: other\n      extension: {a: 1}\n"
		    "    - name: client.authentication.k8s.io/exec\n"
		    "      extension: {audience: sts, n: 3, on: true, s: \"7\"}\n", &c);
	char *info = execcred_exec_info(&c);
	assert_non_null(info);
	assert_string_equal(info, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
			    "\"spec\":{\"interactive\":false,\"cluster\":{\"server\":"
			    "\"https://127.0.0.1:6443\",\"tls-server-name\":\"api.example\","
			    "\"insecure-skip-tls-verify\":true,\"config\":{\"audience\":\"sts\","
			    "\"n\":3,\"on\":true,\"s\":\"7\"}}}}");
	free(info);
	kubeconfig_free(&c);

	/* without provideClusterInfo: no cluster */
	load_plugin("#!/bin/sh\n", "", "", &c);
	info = execcred_exec_info(&c);
	assert_string_equal(info, "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
			    "\"spec\":{\"interactive\":false}}");
	free(info);
	kubeconfig_free(&c);
}

static void test_run_ok_with_env_and_args(void **state)
{
	struct kube_credentials c;
	struct execcred out;
	char err[512];
	/* the token is made of what the plugin got: args (one with a space
	 * and a shell character), env, exec info, stdin */
	load_plugin("#!/bin/sh\n"
		    "read line && exit 9\n"
		    "echo \"to stderr\" >&2\n"
		    "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 8;; esac\n"
		    "printf '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		    "\"status\":{\"token\":\"%s|%s|%s\"}}' \"$1\" \"$2\" \"$REGION\"\n",
		    "      args: [\"a b\", \"$HOME;x\"]\n      env:\n      - {name: REGION, value: eu-1}\n",
		    "", &c);
	int rc = execcred_run(&c, 5000, &out, err, sizeof err);
	if (rc != 0)
		fail_msg("execcred_run: %s", err);
	assert_string_equal(out.token, "a b|$HOME;x|eu-1");
	execcred_free(&out);
	kubeconfig_free(&c);
}

static void test_run_failures(void **state)
{
	struct kube_credentials c;
	struct execcred out;
	char err[1024], want[1024];

	load_plugin("#!/bin/sh\necho 'no credentials here' >&2\nexit 3\n", "", "", &c);
	assert_int_equal(execcred_run(&c, 5000, &out, err, sizeof err), -EIO);
	snprintf(want, sizeof want, "kubeconfig %s: context \"x\": user \"u\": exec plugin "
		 "%s: exited with status 3 (its stderr is in the log)", c.path, c.exec->command);
	assert_string_equal(err, want);
	kubeconfig_free(&c);

	load_plugin("#!/bin/sh\necho '{\"token\": \"s3cr3t\"'\n", "", "", &c);
	assert_int_equal(execcred_run(&c, 5000, &out, err, sizeof err), -EBADMSG);
	assert_non_null(strstr(err, ": exec plugin "));
	assert_non_null(strstr(err, "is not a JSON object"));
	assert_null(strstr(err, "s3cr3t"));
	kubeconfig_free(&c);

	load_plugin("#!/bin/sh\nkill -9 $$\n", "", "", &c);
	assert_int_equal(execcred_run(&c, 5000, &out, err, sizeof err), -EIO);
	assert_non_null(strstr(err, "killed by signal 9"));
	kubeconfig_free(&c);

	/* a bare name is looked up in PATH */
	load_plugin("#!/bin/sh\n", "      installHint: |\n        install it\n        from x\n",
		    "", &c);
	free(c.exec->command);
	c.exec->command = strdup("ipad-no-such-plugin");
	assert_int_equal(execcred_run(&c, 5000, &out, err, sizeof err), -ENOENT);
	snprintf(want, sizeof want, "kubeconfig %s: context \"x\": user \"u\": exec plugin "
		 "ipad-no-such-plugin: executable ipad-no-such-plugin not found; install it "
		 "from x ", c.path);
	assert_string_equal(err, want);
	kubeconfig_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_v1),
		cmocka_unit_test(test_gke_multiline_v1beta1),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_client_certificate),
		cmocka_unit_test(test_broken_outputs),
		cmocka_unit_test(test_exec_info),
		cmocka_unit_test(test_run_ok_with_env_and_args),
		cmocka_unit_test(test_run_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
