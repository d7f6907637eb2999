/* Unit tests for config.c (ipad.conf) and the diag.c helpers it uses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tempfiles.h"

/* Not "config.h": in a build directory that name is autoconf's. */
#include "config.h"
#include "diag.h"

#define DATA TEST_DATA_DIR "/config/"

struct loaded {
	struct ipad_config cfg;
	struct diag d;
	int rc;
};

static void load(struct loaded *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	l->rc = config_load(path, &l->cfg, &l->d);
}

static void unload(struct loaded *l)
{
	config_free(&l->cfg);
	diag_free(&l->d);
}

/* Assert that d holds exactly the messages of want (NULL-terminated). */
static void assert_messages(const struct diag *d, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	for (size_t i = 0; i < d->count || i < n; i++) {
		const char *got = i < d->count ? d->messages[i] : "(none)";
		const char *exp = i < n ? want[i] : "(none)";
		if (strcmp(got, exp) != 0)
			fail_msg("message %zu:\n  got      %s\n  expected %s", i,
				 got, exp);
	}
}

static const char *write_text(const char *name, const char *text)
{
	return write_temp(name, text, strlen(text));
}

static void test_defaults(void **state)
{
	(void)state;
	struct ipad_config cfg;
	assert_int_equal(config_defaults(&cfg), 0);
	assert_true(cfg.interval_ms == 60000);
	assert_string_equal(cfg.state_directory, LOCALSTATEDIR "/lib/ipad");
	assert_false(cfg.dry_run);
	assert_int_equal(cfg.concurrency, 4);
	assert_string_equal(cfg.targets, SYSCONFDIR "/ipad/ipa.d");
	assert_int_equal(cfg.log_target, LOG_AUTO);
	assert_int_equal(cfg.log_format, LOG_LOGFMT);
	assert_int_equal(cfg.min_replicas, 1);
	assert_int_equal(cfg.max_replicas, 10);
	assert_int_equal(cfg.advisor, ADVISOR_BUILTIN);
	assert_true(cfg.advisor_timeout_ms == 20000);
	assert_null(cfg.advisor_url);
	assert_true(cfg.target_cpu_utilization == 70);
	assert_true(cfg.tolerance == 0.1);
	assert_int_equal(cfg.cluster_count, 0);
	assert_null(cfg.clusters);
	config_free(&cfg);
	assert_null(cfg.targets);
	assert_string_equal(advisor_type_name(ADVISOR_BUILTIN), "builtin");
	assert_string_equal(advisor_type_name(ADVISOR_IPA_AGENT), "ipa-agent");
}

static void test_full(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, DATA "full.conf");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	const struct ipad_config *c = &l.cfg;
	assert_string_equal(c->path, DATA "full.conf");
	assert_true(c->interval_ms == 90000);
	assert_string_equal(c->state_directory, TEST_DATA_DIR "/config/state");
	assert_true(c->dry_run);
	assert_int_equal(c->concurrency, 8);
	assert_string_equal(c->targets, TEST_DATA_DIR "/config/ipa.d");
	assert_int_equal(c->log_target, LOG_STDERR);
	assert_int_equal(c->log_format, LOG_JSON);
	assert_int_equal(c->min_replicas, 2);
	assert_int_equal(c->max_replicas, 20);
	assert_int_equal(c->advisor, ADVISOR_IPA_AGENT);
	assert_true(c->advisor_timeout_ms == 90000);
	assert_string_equal(c->advisor_url, "http://agent.example.org:8080");
	assert_true(c->target_cpu_utilization == 65.5);
	assert_true(c->tolerance == 0.05);
	assert_int_equal(c->cluster_count, 1);
	assert_string_equal(c->clusters[0].name, "eu-west");
	assert_string_equal(c->clusters[0].kubeconfig, "/etc/ipad/eu.kubeconfig");
	assert_string_equal(c->clusters[0].context, "eu-admin");
	assert_string_equal(c->clusters[0].prometheus,
			    "https://prometheus.eu.example.org");
	assert_true(c->clusters[0].request_timeout_ms == 2500);
	unload(&l);
}

static void test_minimal_and_relative_path(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, DATA "minimal.conf");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	assert_string_equal(l.cfg.clusters[0].name, "default");
	assert_string_equal(l.cfg.clusters[0].kubeconfig, DATA "kubeconfig");
	assert_null(l.cfg.clusters[0].context);
	assert_null(l.cfg.clusters[0].prometheus);
	assert_true(l.cfg.clusters[0].request_timeout_ms == 10000);
	assert_true(l.cfg.interval_ms == 60000);
	unload(&l);

	/* A relative configuration path: relative to the working directory. */
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(TEST_DATA_DIR), 0);
	load(&l, "config/minimal.conf");
	char here[4096], want[4200];
	assert_non_null(getcwd(here, sizeof(here)));
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(l.rc, 0);
	snprintf(want, sizeof(want), "%s/config/kubeconfig", here);
	assert_string_equal(l.cfg.clusters[0].kubeconfig, want);
	unload(&l);
}

static void test_errors(void **state)
{
	(void)state;
	static const char *const want[] = {
		DATA "errors.conf:2: interval: belongs in the [ipad] section, but comes before any section header",
		DATA "errors.conf:4: [ipad] interval: \"5 minutes\" is not a duration; use 90, 90s or 5m",
		DATA "errors.conf:5: [ipad] intervall: unknown key; did you mean interval? (valid in [ipad]: interval, metrics-window, state-directory, dry-run, concurrency, targets, log-target, log-format, leader-election, lease-namespace, lease-name, lease-duration, identity)",
		DATA "errors.conf:6: [ipad] concurrency: \"0\" is out of range; use a value from 1 to 256",
		DATA "errors.conf:7: [ipad] concurrency: is set twice (also on line 6); keep one",
		DATA "errors.conf:8: [ipad] dry-run: \"maybe\" is not a boolean; use true or false (or yes/no, on/off, 1/0)",
		DATA "errors.conf:9: [ipad] log-target: \"syslog\" is not one of auto, journal, stderr",
		DATA "errors.conf:10: [ipad] prometheus: belongs in the [cluster] section",
		DATA "errors.conf:11: [ipad] state-directory: is empty; give a path",
		DATA "errors.conf:12: [ipad] interval: is set twice (also on line 4); keep one",
		DATA "errors.conf:13: [Defaults]: unknown section; did you mean [defaults]? (valid: [ipad], [defaults], [advisor], [cluster NAME])",
		DATA "errors.conf:16: [defaults] min-replicas: \"-1\" is out of range; use a value from 0 to 100000",
		DATA "errors.conf:17: [defaults] max-replicas: \"100001\" is out of range; use a value from 1 to 100000",
		DATA "errors.conf:19: [advisor] type: \"chatgpt\" is not one of builtin, ipa-agent, gemini, openai",
		DATA "errors.conf:20: [advisor] target-cpu-utilization: \"0\" is out of range; use a value more than 0 and at most 1000",
		DATA "errors.conf:21: [advisor] tolerance: \"1\" is out of range; use a value at least 0 and less than 1",
		DATA "errors.conf:22: [advisor] url: \"ftp://agent\": the scheme \"ftp\" is not supported; use http:// or https://",
		DATA "errors.conf:23: [advisor] replica: unknown key (valid in [advisor]: type, timeout, url, model, api-key-file, api-key-credential, target-cpu-utilization, tolerance)",
		DATA "errors.conf:26: [cluster eu] prometheus: \"<Prometheus service FQDN>\" is not a usable URL (it contains blanks or one of <>\"{}|\\^`); is it a placeholder?",
		DATA "errors.conf:24: [cluster eu] kubeconfig: is required; give the kubeconfig file for this cluster, e.g. \"kubeconfig = /etc/ipad/kubeconfig\"",
		DATA "errors.conf:27: [cluster eu]: cluster eu is defined twice (also on line 24); keep one section per cluster",
		NULL,
	};
	struct loaded l;
	load(&l, DATA "errors.conf");
	assert_int_equal(l.rc, -EINVAL);
	assert_messages(&l.d, want);
	assert_int_equal(diag_errors(&l.d), l.d.count);
	unload(&l);
}

static void test_types(void **state)
{
	(void)state;
	static const struct {
		const char *line;   /* in [ipad] unless it starts with '[' */
		const char *message; /* NULL: accepted */
	} cases[] = {
		{ "interval = 0.5", "[ipad] interval: \"0.5\" is out of range; use a value from 1s to 1d" },
		{ "interval = 1s", NULL },
		{ "interval = 1d", NULL },
		{ "interval = 25h", "[ipad] interval: \"25h\" is out of range; use a value from 1s to 1d" },
		{ "interval = 31d", "[ipad] interval: \"31d\" is too long; durations are at most 30d" },
		{ "interval = ", "[ipad] interval: \"\" is not a duration (it is empty); use 90, 90s or 5m" },
		{ "concurrency = 4.0", "[ipad] concurrency: \"4.0\" is not a whole number; use one from 1 to 256" },
		{ "concurrency = 0x10", "[ipad] concurrency: \"0x10\" is not a whole number; use one from 1 to 256" },
		{ "concurrency = 99999999999999999999", "[ipad] concurrency: \"99999999999999999999\" is not a whole number; use one from 1 to 256" },
		{ "concurrency = 256", NULL },
		{ "dry-run = Off", NULL },
		{ "dry-run = 1", NULL },
		{ "dry-run = ja", "[ipad] dry-run: \"ja\" is not a boolean; use true or false (or yes/no, on/off, 1/0)" },
		{ "log-format = jsn", "[ipad] log-format: \"jsn\" is not one of logfmt, json; did you mean json?" },
		{ "log-format = json ; inline comment", NULL },
		{ "log-format: json", NULL },
		{ "targets = ipa.d # not a comment", NULL },
		{ "targets = .", NULL },
		{ "[advisor]\ntarget-cpu-utilization = 70%", "[advisor] target-cpu-utilization: \"70%\" is not a number; use one more than 0 and at most 1000" },
		{ "[advisor]\ntarget-cpu-utilization = nan", "[advisor] target-cpu-utilization: \"nan\" is not a number; use one more than 0 and at most 1000" },
		{ "[advisor]\ntarget-cpu-utilization = 1000", NULL },
		{ "[advisor]\ntolerance = .5", NULL },
		{ "[advisor]\ntimeout = 50ms", "[advisor] timeout: \"50ms\" is out of range; use a value from 100ms to 10m" },
		{ "[advisor]\nurl =", NULL },
		{ "[advisor]\nurl = http://", "[advisor] url: \"http://\" has no host name" },
		{ "[advisor]\nurl = HTTPS://Agent/", NULL },
		{ "[defaults]\nmin-replicas = 0", NULL },
		{ "[defaults]\nmin-replicas = 11", "[defaults] min-replicas: 11 is more than max-replicas (10, the default); set max-replicas too" },
		{ "[defaults]\nmin-replicas = 5\nmax-replicas = 3", "[defaults] max-replicas: 3 is less than min-replicas (5)" },
		{ "[defaults]\nmin-allowed-cpu = 2\nmax-allowed-cpu = 500m", "[defaults] max-allowed-cpu: is below min-allowed-cpu; every target would be refused" },
		{ "[defaults]\nmin-allowed-memory = 1Gi\nmax-allowed-memory = 1024Mi", NULL },
		{ "[defaults]\nmin-allowed-memory = 65Mi\nmax-allowed-memory = 64Mi", "[defaults] max-allowed-memory: is below min-allowed-memory; every target would be refused" },
		{ "[ipad]]", NULL },
		{ "[ ipad ]", NULL },
		{ "[cluster eu west]", "[cluster eu west]: \"eu west\" is not a valid cluster name; use up to 63 letters, digits, '.', '_' and '-'" },
		{ "[\x01" "cluster]", "[\"\\x01cluster\"]: unknown section; did you mean [cluster]? (valid: [ipad], [defaults], [advisor], [cluster NAME])" },
		{ "[ipad", "\"[ipad\" is neither \"[section]\" nor \"key = value\"" },
		{ "just words", "\"just words\" is neither \"[section]\" nor \"key = value\"" },
		{ "= value", "\"= value\" has no key before the '='" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512], want[1024];
		const char *line = cases[i].line;
		/* The last line of the case is the one with the problem. */
		bool header = line[0] == '[';
		bool cluster = strncmp(line, "[cluster", 8) == 0;
		snprintf(text, sizeof(text), "%s%s\n%skubeconfig = /k\n",
			 header ? "" : "[ipad]\n", line, cluster ? "" : "[cluster]\n");
		const char *path = write_text("types.conf", text);
		int lineno = header ? 1 : 2;
		for (const char *p = line; *p; p++)
			lineno += *p == '\n';
		struct loaded l;
		load(&l, path);
		if (!cases[i].message) {
			if (l.rc != 0)
				fail_msg("%s: %s", line, l.d.messages[0]);
			assert_int_equal(l.d.count, 0);
		} else {
			snprintf(want, sizeof(want), "%s:%d: %s", path, lineno,
				 cases[i].message);
			const char *const wanted[] = { want, NULL };
			if (l.rc != -EINVAL)
				fail_msg("%s: accepted", line);
			assert_messages(&l.d, wanted);
		}
		unload(&l);
	}
}

/* [defaults] guardrails: HPA behavior and VPA resource policy keys. */
static void test_guardrail_defaults(void **state)
{
	(void)state;
	struct loaded l;
	struct ipad_config d;
	assert_int_equal(config_defaults(&d), 0);
	assert_int_equal(d.defaults.down.stabilization_ms, 300000);
	assert_int_equal(d.defaults.up.stabilization_ms, 0);
	assert_int_equal(d.defaults.up.pods, 4);
	assert_int_equal(d.defaults.resize_cooldown_ms, 1800000);
	assert_int_equal(d.defaults.resize_threshold_percent, 15);
	assert_int_equal(d.defaults.fallback, FALLBACK_BUILTIN);
	config_free(&d);

	load(&l, write_text("guard.conf",
		"[defaults]\n"
		"mode = ReplicasOnly\nfallback = hold\n"
		"scale-up-stabilization = 30s\nscale-up-pods = 2\n"
		"scale-up-pods-period = 1m\nscale-up-select-policy = Min\n"
		"scale-down-percent = 10\nscale-down-percent-period = 60\n"
		"min-allowed-cpu = 50m\nmax-allowed-memory = 2Gi\n"
		"controlled-values = RequestsOnly\nmemory-margin = 25\n"
		"resize-threshold = 5\nresize-cooldown = 1h\n"
		"[cluster]\nkubeconfig = k\n"));
	assert_int_equal(l.rc, 0);
	const struct guardrails *g = &l.cfg.defaults;
	assert_int_equal(g->mode, MODE_REPLICAS_ONLY);
	assert_int_equal(g->fallback, FALLBACK_HOLD);
	assert_int_equal(g->up.stabilization_ms, 30000);
	assert_int_equal(g->up.pods, 2);
	assert_int_equal(g->up.pods_period_ms, 60000);
	assert_int_equal(g->up.select, SELECT_MIN);
	assert_int_equal(g->down.percent, 10);
	assert_int_equal(g->down.percent_period_ms, 60000);
	assert_int_equal(g->min_cpu_m, 50);
	assert_int_equal(g->max_cpu_m, RESOURCE_UNSET);
	assert_int_equal(g->max_memory_b, INT64_C(2) << 30);
	assert_int_equal(g->controlled, CONTROLLED_REQUESTS_ONLY);
	assert_int_equal(g->memory_margin_percent, 25);
	assert_int_equal(g->resize_threshold_percent, 5);
	assert_int_equal(g->resize_cooldown_ms, 3600000);
	unload(&l);

	load(&l, write_text("badguard.conf",
		"[defaults]\nmode = auto\nmax-allowed-memory = 1GB\nmin-allowed-cpu = 0\n"
		"[cluster]\nkubeconfig = k\n"));
	assert_int_equal(l.rc, -EINVAL);
	char w[3][512];
	snprintf(w[0], sizeof(w[0]), "%s:2: [defaults] mode: \"auto\" is not one of Auto, Recommend, ReplicasOnly, ResourcesOnly; did you mean Auto?", l.cfg.path);
	snprintf(w[1], sizeof(w[1]), "%s:3: [defaults] max-allowed-memory: \"1GB\" is not a Kubernetes quantity (unknown suffix \"GB\"); write e.g. 512Mi, 1Gi or 1G", l.cfg.path);
	snprintf(w[2], sizeof(w[2]), "%s:4: [defaults] min-allowed-cpu: \"0\" is out of range; use a CPU quantity from 1m", l.cfg.path);
	const char *const want[] = { w[0], w[1], w[2], NULL };
	assert_messages(&l.d, want);
	unload(&l);
}

static void test_values_of_types(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, write_text("values.conf",
		"\xef\xbb\xbf[ipad]\r\n"
		"  dry-run = Off\r\n"
		"targets = ./../x//\r\n"
		"[cluster  eu ]\r\n"
		"kubeconfig = k\r\n"
		"context =\r\n"
		"prometheus = prom:9090//\r\n"));
	assert_int_equal(l.rc, 0);
	assert_false(l.cfg.dry_run);
	char want[256];
	snprintf(want, sizeof(want), "%.*s/../x//", /* "./" dropped, rest kept */
		 (int)(strrchr(l.cfg.path, '/') - l.cfg.path), l.cfg.path);
	assert_string_equal(l.cfg.targets, want);
	assert_string_equal(l.cfg.clusters[0].name, "eu");
	assert_null(l.cfg.clusters[0].context);
	assert_string_equal(l.cfg.clusters[0].prometheus, "http://prom:9090");
	unload(&l);

	/* "." is the configuration's directory itself. */
	load(&l, write_text("dot.conf", "[ipad]\ntargets = ./\n[cluster]\nkubeconfig = .//k\n"));
	assert_int_equal(l.rc, 0);
	snprintf(want, sizeof(want), "%.*s", (int)(strrchr(l.cfg.path, '/') - l.cfg.path),
		 l.cfg.path);
	assert_string_equal(l.cfg.targets, want);
	strcat(want, "/k");
	assert_string_equal(l.cfg.clusters[0].kubeconfig, want);
	unload(&l);
}

static void test_file_problems(void **state)
{
	(void)state;
	struct loaded l;
	char want[1024];

	load(&l, DATA "does-not-exist.conf");
	assert_int_equal(l.rc, -ENOENT);
	const char *const missing[] = {
		DATA "does-not-exist.conf: cannot open: No such file or directory", NULL };
	assert_messages(&l.d, missing);
	unload(&l);

	load(&l, DATA);
	assert_int_equal(l.rc, -EISDIR);
	unload(&l);

	const char *path = write_text("empty.conf", "");
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	snprintf(want, sizeof(want), "%s: there is no [cluster] section; add one, "
		 "for example \"[cluster]\" with \"kubeconfig = /etc/ipad/kubeconfig\" "
		 "and \"prometheus = http://127.0.0.1:9090\" below it", path);
	const char *const empty[] = { want, NULL };
	assert_messages(&l.d, empty);
	unload(&l);

	path = write_temp("nul.conf", "[ipad]\0\n", 8);
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	snprintf(want, sizeof(want), "%s: contains NUL bytes; ipad.conf must be a text file", path);
	const char *const nul[] = { want, NULL };
	assert_messages(&l.d, nul);
	unload(&l);

	/* Many problems: the first 100 are listed. */
	char *many = malloc(150 * 209 + 1);
	assert_non_null(many);
	for (int i = 0; i < 150; i++)
		snprintf(many + 209 * i, 210, "k = %0204d\n", i);
	path = write_text("many.conf", many);
	free(many);
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	assert_int_equal(l.d.count, 101);
	snprintf(want, sizeof(want), "%s:100: the line is 208 bytes long; lines of "
		 "ipad.conf can be at most 198 bytes (a limit of the inih library)", path);
	assert_string_equal(l.d.messages[99], want);
	snprintf(want, sizeof(want), "%s: too many problems; not listing more", path);
	assert_string_equal(l.d.messages[100], want);
	unload(&l);

	/* A file too large to be a configuration. */
	size_t big = 2 * 1024 * 1024;
	char *junk = malloc(big);
	assert_non_null(junk);
	memset(junk, 'x', big);
	path = write_temp("big.conf", junk, big);
	free(junk);
	load(&l, path);
	assert_int_equal(l.rc, -EFBIG);
	snprintf(want, sizeof(want), "%s: is larger than 1 MiB; is it the right file?", path);
	const char *const large[] = { want, NULL };
	assert_messages(&l.d, large);
	unload(&l);
}

/* Lines longer than inih's 200-byte buffer are reported with their number
 * and skipped; they do not shift the numbers of the lines after them. */
static void test_long_lines(void **state)
{
	(void)state;
	char text[2048], want[4][512];
	char a187[188], a188[189];
	memset(a187, 'a', 187);
	a187[187] = '\0';
	memset(a188, 'a', 188);
	a188[188] = '\0';
	snprintf(text, sizeof(text),
		 "[ipad]\n"
		 "#%s%s\n"                 /* 2: a long comment is fine */
		 "targets = /%s\n"         /* 3: 198 bytes: the longest line */
		 "state-directory = /%s%s\n" /* 4: too long */
		 "[cluster %s%s]\n"        /* 5: too long: a header */
		 "kubeconfig = /k\n"       /* 6: skipped with its section */
		 "intervall = 5\n"         /* 7: skipped with its section */
		 "[ipad]\n"
		 "log-target = x\n",       /* 9 */
		 a187, a187, a187, a187, a188, a187, a187);
	const char *path = write_text("long.conf", text);
	struct loaded l;
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	snprintf(want[0], sizeof(want[0]), "%s:4: the line is 394 bytes long; lines of ipad.conf can be at most 198 bytes (a limit of the inih library)", path);
	snprintf(want[1], sizeof(want[1]), "%s:5: the line is 384 bytes long; lines of ipad.conf can be at most 198 bytes (a limit of the inih library)", path);
	snprintf(want[2], sizeof(want[2]), "%s:9: [ipad] log-target: \"x\" is not one of auto, journal, stderr", path);
	snprintf(want[3], sizeof(want[3]), "%s: there is no [cluster] section; add one, for example \"[cluster]\" with \"kubeconfig = /etc/ipad/kubeconfig\" and \"prometheus = http://127.0.0.1:9090\" below it", path);
	const char *const wanted[] = { want[0], want[1], want[2], want[3], NULL };
	assert_messages(&l.d, wanted);
	unload(&l);
}

/* [advisor] keys of the LLM advisors: what each type needs, one key
 * source, a credential name that is not a path. */
static void test_llm_advisor_keys(void **state)
{
	struct loaded l;
	char want[5][512];
	const char *path;

	(void)state;
	path = write_text("gemini.conf", "[advisor]\ntype = gemini\nmodel = gemini-2.5-flash\n"
			  "api-key-credential = advisor\n[cluster]\nkubeconfig = /k\n");
	load(&l, path);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.cfg.advisor, ADVISOR_GEMINI);
	assert_string_equal(l.cfg.advisor_model, "gemini-2.5-flash");
	assert_string_equal(l.cfg.advisor_key_credential, "advisor");
	assert_string_equal(advisor_type_name(l.cfg.advisor), "gemini");
	unload(&l);

	path = write_text("openai.conf", "[advisor]\ntype = openai\nmodel = q\n"
			  "url = http://127.0.0.1:8000\napi-key-file = key\n"
			  "[cluster]\nkubeconfig = /k\n");
	load(&l, path);
	assert_int_equal(l.rc, 0);
	assert_string_equal(advisor_type_name(l.cfg.advisor), "openai");
	assert_non_null(strstr(l.cfg.advisor_key_file, "/key"));
	assert_int_equal(l.cfg.advisor_key_file[0], '/');
	unload(&l);

	path = write_text("llmbad.conf", "[advisor]\ntype = openai\n"
			  "api-key-file = key\napi-key-credential = ../x\n"
			  "[cluster]\nkubeconfig = /k\n");
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	snprintf(want[0], sizeof(want[0]), "%s:2: [advisor] model: is required with type = openai; for example \"model = qwen2.5-7b-instruct\"", path);
	snprintf(want[1], sizeof(want[1]), "%s:2: [advisor] url: is required with type = openai; give the server's base URL, for example \"url = http://127.0.0.1:8000\" (vLLM, llama-server) or \"url = http://localhost:11434\" (Ollama)", path);
	snprintf(want[2], sizeof(want[2]), "%s:4: [advisor] api-key-credential: api-key-file is set too (line 3); keep one of them", path);
	snprintf(want[3], sizeof(want[3]), "%s:4: [advisor] api-key-credential: is a credential name (a file name in $CREDENTIALS_DIRECTORY), not a path; for a path use api-key-file", path);
	const char *const wanted[] = { want[0], want[1], want[2], want[3], NULL };
	assert_messages(&l.d, wanted);
	unload(&l);

	path = write_text("keyless.conf", "[advisor]\ntype = gemini\nmodel = g\n"
			  "[cluster]\nkubeconfig = /k\n");
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	assert_non_null(strstr(l.d.messages[0], ":2: [advisor] type = gemini needs an API key"));
	unload(&l);

	path = write_text("ipakey.conf", "[advisor]\ntype = ipa-agent\nmodel = g\n"
			  "[cluster]\nkubeconfig = /k\n");
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	snprintf(want[4], sizeof(want[4]), "%s:3: [advisor] model: is only used with type = gemini or openai (type is ipa-agent)", path);
	assert_string_equal(l.d.messages[0], want[4]);
	unload(&l);
}

static void test_base_url(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		const char *url;
		const char *err;
	} cases[] = {
		{ "prometheus:9090", 0, "http://prometheus:9090", "" },
		{ "http://p:9090/", 0, "http://p:9090", "" },
		{ "https://p/prom///", 0, "https://p/prom", "" },
		{ "p.example.org/a://b", 0, "http://p.example.org/a://b", "" },
		{ "10.0.0.1", 0, "http://10.0.0.1", "" },
		{ "<Prometheus service FQDN>", 0, "http://<Prometheus service FQDN>",
		  "\"<Prometheus service FQDN>\" is not a usable URL (it contains blanks or one of <>\"{}|\\^`); is it a placeholder?" },
		{ "", -EINVAL, NULL, "the URL is empty" },
		{ "ftp://p", -EINVAL, NULL, "\"ftp://p\": the scheme \"ftp\" is not supported; use http:// or https://" },
		{ "https:///x", -EINVAL, NULL, "\"https:///x\" has no host name" },
		{ "/", -EINVAL, NULL, "\"/\" has no host name" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *url = (char *)"untouched";
		char err[256] = "x";
		int rc = config_base_url(cases[i].text, &url, err, sizeof(err));
		assert_int_equal(rc, cases[i].rc);
		if (cases[i].url)
			assert_string_equal(url, cases[i].url);
		else
			assert_null(url);
		assert_string_equal(err, cases[i].err);
		free(url);
	}
}

/* The example shipped in etc/ must always load. */
static void test_shipped_example(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, TEST_DATA_DIR "/../../../etc/ipad.conf");
	for (size_t i = 0; i < l.d.count; i++)
		print_message("%s\n", l.d.messages[i]);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	unload(&l);
}

static void test_diag(void **state)
{
	(void)state;
	static const char *const keys[] = { "deployment", "namespace", "ingress",
		"container", "minReplicas", "maxReplicas", NULL };
	static const struct {
		const char *word, *hint;
	} cases[] = {
		{ "deploymnet", "; did you mean deployment?" },
		{ "Namespace", "; did you mean namespace?" },
		{ "minreplicas", "; did you mean minReplicas?" },
		{ "replica", "; did you mean minReplicas or maxReplicas?" },
		{ "replicas", "; did you mean minReplicas or maxReplicas?" },
		{ "in", "" },
		{ "image", "" },
		{ "e", "" },
		{ "", "" },
	};
	char buf[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(diag_suggest(cases[i].word, keys, buf, sizeof(buf)),
				    cases[i].hint);
	assert_string_equal(diag_join(keys, buf, sizeof(buf)),
			    "deployment, namespace, ingress, container, minReplicas, maxReplicas");
	char q[DIAG_QUOTE_BUFSZ];
	assert_string_equal(diag_quote("a\"b\\c\n\t\x01\x7f\xc3\xa9\xff", q, sizeof(q)),
			    "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\xc3\xa9\\xff\"");
	assert_string_equal(diag_quote(NULL, q, sizeof(q)), "\"\"");
	char longtext[200];
	memset(longtext, '\xff', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	diag_quote(longtext, q, sizeof(q));
	assert_int_equal(strlen(q), 1 + 64 * 4 + 1 + 3);
	assert_string_equal(q + strlen(q) - 4, "\"...");

	struct diag d = { 0 };
	diag_warning(&d, "w %d", 1);
	diag_error(&d, "e %s", "x");
	assert_int_equal(d.count, 2);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(diag_errors(&d), 1);
	assert_string_equal(d.messages[0], "w 1");
	assert_true(d.is_warning[0]);
	assert_false(d.is_warning[1]);
	diag_free(&d);
	assert_int_equal(d.count, 0);
	assert_null(d.messages);
}

/* Several [cluster] sections: each with its own keys, one default. */
static void test_clusters(void **state)
{
	(void)state;
	struct loaded l;
	char dir[4096], want[8192];
	const char *path = write_text("clusters.conf",
		"[ipad]\nconcurrency = 5\n"
		"[cluster eks]\nkubeconfig = kube/eks.yaml::/etc/k.yaml:kube/eks.yaml\n"
		"context = arn\ntargets = eks.d\nconcurrency = 1\n"
		"[cluster gke]\nkubeconfig = /etc/gke.yaml\ntargets = gke/*.yaml\n"
		"prometheus = prom.gke:9090\n"
		"[cluster k3s]\nkubeconfig = /etc/k3s.yaml\ndefault = true\n");
	load(&l, path);
	if (l.rc != 0)
		fail_msg("%s", l.d.messages[0]);
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	assert_int_equal(l.cfg.cluster_count, 3);
	const struct cluster_config *c = l.cfg.clusters;
	assert_string_equal(c[0].name, "eks");
	snprintf(want, sizeof(want), "%s/kube/eks.yaml:/etc/k.yaml", dir);
	assert_string_equal(c[0].kubeconfig, want);
	assert_string_equal(c[0].context, "arn");
	snprintf(want, sizeof(want), "%s/eks.d", dir);
	assert_string_equal(c[0].targets, want);
	assert_int_equal(c[0].concurrency, 1);
	assert_false(c[0].is_default);
	assert_int_equal(c[0].line, 3);
	assert_string_equal(c[1].name, "gke");
	snprintf(want, sizeof(want), "%s/gke/*.yaml", dir);
	assert_string_equal(c[1].targets, want);
	assert_null(c[1].context);
	assert_string_equal(c[1].prometheus, "http://prom.gke:9090");
	assert_int_equal(c[1].concurrency, 2);  /* 5 workers / 3 clusters */
	assert_string_equal(c[2].name, "k3s");
	assert_true(c[2].is_default);
	assert_null(c[2].targets);
	assert_ptr_equal(config_default_cluster(&l.cfg), &c[2]);
	unload(&l);

	/* one cluster is the default without saying so */
	load(&l, write_text("one.conf", "[cluster]\nkubeconfig = /k\n"));
	assert_int_equal(l.rc, 0);
	assert_ptr_equal(config_default_cluster(&l.cfg), &l.cfg.clusters[0]);
	assert_int_equal(l.cfg.clusters[0].concurrency, 4);
	unload(&l);

	path = write_text("clusters-bad.conf",
		"[cluster a]\nkubeconfig = /a\ndefault = yes\n"
		"[cluster b]\nkubeconfig = /b\ndefault = on\n"
		"[cluster c]\nkubeconfig = :\n"
		"[cluster d]\nkubeconfig = /d\ntargets = /d\n");
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	char w[4][1024];
	snprintf(w[0], sizeof(w[0]), "%s:6: [cluster b] default: cluster a is the "
		 "default already (line 1); only one cluster can be", path);
	snprintf(w[1], sizeof(w[1]), "%s:8: [cluster c] kubeconfig: is empty; give "
		 "a path, or paths separated by ':'", path);
	snprintf(w[2], sizeof(w[2]), "%s:7: [cluster c] kubeconfig: is required; give "
		 "the kubeconfig file for this cluster, e.g. \"kubeconfig = "
		 "/etc/ipad/kubeconfig\"", path);
	snprintf(w[3], sizeof(w[3]), "%s:4: [cluster b] targets: is required: with "
		 "several clusters, give each its IPA files (a directory, file or "
		 "glob) or watch-ipas = true, or make it the one with default = true, "
		 "which reads [ipad] targets", path);
	const char *const bad[] = { w[0], w[1], w[2], w[3], NULL };
	/* b is not the default: a was first; c has no targets either */
	assert_int_equal(l.d.count, 5);
	for (size_t i = 0; bad[i]; i++)
		assert_string_equal(l.d.messages[i], bad[i]);
	unload(&l);
}

static void test_ipa_namespaces(void **state)
{
	(void)state;
	struct loaded l;
	const char *path = write_text("ipa-ns.conf",
		"[cluster a]\nkubeconfig = /a\nwatch-ipas = true\n"
		"ipa-namespaces = shop, web\tapi-2\n"
		"[cluster b]\nkubeconfig = /b\nwatch-ipas = true\n");
	load(&l, path);
	if (l.rc != 0)
		fail_msg("%s", l.d.messages[0]);
	assert_true(l.cfg.clusters[0].watch_ipas);
	assert_string_equal(l.cfg.clusters[0].ipa_namespaces, "shop, web\tapi-2");
	assert_null(l.cfg.clusters[1].ipa_namespaces);
	unload(&l);

	path = write_text("ipa-ns-bad.conf",
		"[cluster a]\nkubeconfig = /a\nwatch-ipas = true\n"
		"ipa-namespaces = shop,Web_1 -api ,\n"
		"[cluster b]\nkubeconfig = /b\nwatch-ipas = true\nipa-namespaces = ,\n"
		"[cluster c]\nkubeconfig = /c\ntargets = /c\nipa-namespaces = shop\n");
	load(&l, path);
	assert_int_equal(l.rc, -EINVAL);
	char w[4][1024];
	snprintf(w[0], sizeof(w[0]), "%s:4: [cluster a] ipa-namespaces: \"Web_1\" is "
		 "not a namespace name (a DNS-1123 label: at most 63 lowercase letters, "
		 "digits and '-', starting and ending with a letter or digit)", path);
	snprintf(w[1], sizeof(w[1]), "%s:4: [cluster a] ipa-namespaces: \"-api\" is "
		 "not a namespace name (a DNS-1123 label: at most 63 lowercase letters, "
		 "digits and '-', starting and ending with a letter or digit)", path);
	snprintf(w[2], sizeof(w[2]), "%s:8: [cluster b] ipa-namespaces: names no "
		 "namespace; give namespaces separated by blanks or commas, or leave "
		 "it out for all namespaces", path);
	snprintf(w[3], sizeof(w[3]), "%s:12: [cluster c] ipa-namespaces: is only "
		 "used with watch-ipas = true", path);
	const char *const want[] = { w[0], w[1], w[2], w[3], NULL };
	assert_messages(&l.d, want);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal_and_relative_path),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_ipa_namespaces),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_values_of_types),
		cmocka_unit_test(test_guardrail_defaults),
		cmocka_unit_test(test_file_problems),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_llm_advisor_keys),
		cmocka_unit_test(test_base_url),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_diag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
