/* Unit tests for ipa.c: IPA YAML files -> targets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tempfiles.h"

#include "ipa.h"

#define DATA TEST_DATA_DIR "/ipa/"
#define API "apiVersion: ipa.shafinhasnat.me/v1alpha1\nkind: IPA\n"

/* A configuration as config_load() would make it, with one cluster. */
static void make_config(struct ipad_config *cfg, const char *prometheus)
{
	assert_int_equal(config_defaults(cfg), 0);
	cfg->path = strdup("/etc/ipad/ipad.conf");
	cfg->clusters = calloc(1, sizeof(*cfg->clusters));
	assert_non_null(cfg->clusters);
	cfg->cluster_count = 1;
	cfg->clusters[0].name = strdup("eu");
	cfg->clusters[0].prometheus = prometheus ? strdup(prometheus) : NULL;
	cfg->clusters[0].request_timeout_ms = 10000;
}

struct loaded {
	struct ipad_config cfg;
	struct target_list targets;
	struct diag d;
	int rc;
};

static void load_file(struct loaded *l, const char *path, const char *prometheus)
{
	memset(l, 0, sizeof(*l));
	make_config(&l->cfg, prometheus);
	l->rc = ipa_load_file(path, &l->cfg, &l->targets, &l->d);
}

static void unload(struct loaded *l)
{
	target_list_free(&l->targets);
	config_free(&l->cfg);
	diag_free(&l->d);
}

/* d holds exactly want (NULL-terminated); "W " marks a warning. */
static void assert_messages_of(const char *label, const struct diag *d,
			       const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	for (size_t i = 0; i < d->count || i < n; i++) {
		char got[2048];
		if (i < d->count)
			snprintf(got, sizeof(got), "%s%s", d->is_warning[i] ? "W " : "",
				 d->messages[i]);
		else
			snprintf(got, sizeof(got), "(none)");
		const char *exp = i < n ? want[i] : "(none)";
		if (strcmp(got, exp) != 0)
			fail_msg("%smessage %zu:\n  got      %s\n  expected %s",
				 label, i, got, exp);
	}
}

#define assert_messages(d, want) assert_messages_of("", d, want)

static void assert_target(const struct target *t, const char *source,
			  const char *ipa_name, const char *namespace,
			  const char *deployment, const char *ingress,
			  const char *container, const char *prometheus,
			  const char *agent, int min, int max)
{
#define STR_OR_NULL(got, want) do { \
		if (want) assert_non_null(got), assert_string_equal(got, want); \
		else assert_null(got); } while (0)
	assert_string_equal(t->source, source);
	assert_string_equal(t->cluster, "eu");
	assert_string_equal(t->ipa_name, ipa_name);
	assert_string_equal(t->namespace, namespace);
	assert_string_equal(t->deployment, deployment);
	STR_OR_NULL(t->ingress, ingress);
	STR_OR_NULL(t->container, container);
	assert_string_equal(t->prometheus_uri, prometheus);
	STR_OR_NULL(t->llm_agent, agent);
	assert_int_equal(t->min_replicas, min);
	assert_int_equal(t->max_replicas, max);
#undef STR_OR_NULL
}

/* The README's example loads verbatim; its placeholders are warnings. */
static void test_readme_example(void **state)
{
	(void)state;
	static const char *const want[] = {
		"W " DATA "readme-example.yaml:4:9: metadata.name: \"<IPA name>\" is not a valid Kubernetes name (at most 253 lower-case letters, digits, '.' and '-'); is it a placeholder?",
		"W " DATA "readme-example.yaml:7:20: spec.metadata.prometheusUri: \"<Prometheus service FQDN>\" is not a usable URL (it contains blanks or one of <>\"{}|\\^`); is it a placeholder?",
		"W " DATA "readme-example.yaml:10:19: spec.metadata.ipaGroup[0].deployment: \"<Deployment name>\" is not a valid Kubernetes name (at most 253 lower-case letters, digits, '.' and '-'); is it a placeholder?",
		"W " DATA "readme-example.yaml:11:18: spec.metadata.ipaGroup[0].namespace: \"<Deployment namespace>\" is not a valid Kubernetes name (at most 63 lower-case letters, digits and '-'); is it a placeholder?",
		"W " DATA "readme-example.yaml:12:16: spec.metadata.ipaGroup[0].ingress: \"<Ingress name>\" is not a valid Kubernetes name (at most 253 lower-case letters, digits, '.' and '-'); is it a placeholder?",
		NULL,
	};
	struct loaded l;
	load_file(&l, DATA "readme-example.yaml", NULL);
	assert_int_equal(l.rc, 0);
	assert_messages(&l.d, want);
	assert_int_equal(diag_errors(&l.d), 0);
	assert_int_equal(l.targets.count, 1);
	assert_target(&l.targets.items[0], DATA "readme-example.yaml:10:7",
		      "<IPA name>", "<Deployment namespace>", "<Deployment name>",
		      "<Ingress name>", NULL, "http://<Prometheus service FQDN>",
		      "https://ipaagent.example.org", 1, 10);
	char key[128];
	assert_string_equal(target_key(&l.targets.items[0], key, sizeof(key)),
			    "<Deployment namespace>/<Deployment name>");
	unload(&l);
}

static void test_multi_document(void **state)
{
	(void)state;
	struct loaded l;
	load_file(&l, DATA "multi.yaml", "http://prom.eu:9090");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	assert_int_equal(l.targets.count, 3);
	assert_target(&l.targets.items[0], DATA "multi.yaml:24:7", "shop", "shop",
		      "web", "web", "app", "http://prometheus.monitoring:9090",
		      "https://agent.example.org", 2, 8);
	assert_target(&l.targets.items[1], DATA "multi.yaml:30:7", "shop", "shop",
		      "worker", NULL, NULL, "http://prometheus.monitoring:9090",
		      "https://agent.example.org", 1, 10);
	assert_target(&l.targets.items[2], DATA "multi.yaml:41:30", "blog", "blog",
		      "blog", NULL, NULL, "http://prom.eu:9090", NULL, 1, 3);
	unload(&l);

	/* Without a cluster prometheus the last document fails alone. */
	static const char *const want[] = {
		DATA "multi.yaml:41:18: spec.metadata.prometheusUri: is required, because [cluster eu] in /etc/ipad/ipad.conf sets no prometheus",
		NULL,
	};
	load_file(&l, DATA "multi.yaml", NULL);
	assert_int_equal(l.rc, -EINVAL);
	assert_messages(&l.d, want);
	assert_int_equal(l.targets.count, 2);
	unload(&l);
}

static void test_advisor_settings(void **state)
{
	(void)state;
	const char *yaml = API "metadata: {name: a}\nspec:\n  metadata:\n"
		"    ipaGroup: [{deployment: a, namespace: b}]\n";
	const char *path = write_temp("agent.yaml", yaml, strlen(yaml));
	struct loaded l;

	memset(&l, 0, sizeof(l));
	make_config(&l.cfg, "http://prom:1");
	l.cfg.advisor = ADVISOR_IPA_AGENT;
	l.rc = ipa_load_file(path, &l.cfg, &l.targets, &l.d);
	assert_int_equal(l.rc, -EINVAL);
	char want[512];
	snprintf(want, sizeof(want), "%s:6:5: spec.metadata.llmAgent: is required with [advisor] type = ipa-agent, unless [advisor] url is set", path);
	const char *const wanted[] = { want, NULL };
	assert_messages(&l.d, wanted);
	assert_int_equal(l.targets.count, 0);
	unload(&l);

	/* [advisor] url is every target's agent. */
	memset(&l, 0, sizeof(l));
	make_config(&l.cfg, "http://prom:1");
	l.cfg.advisor = ADVISOR_IPA_AGENT;
	l.cfg.advisor_url = strdup("http://agent:5000");
	l.rc = ipa_load_file(path, &l.cfg, &l.targets, &l.d);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.targets.count, 1);
	assert_string_equal(l.targets.items[0].llm_agent, "http://agent:5000");
	assert_string_equal(l.targets.items[0].prometheus_uri, "http://prom:1");
	unload(&l);
}

/* Guardrail overrides of an item (HPA behavior, VPA resource policy) over
 * the [defaults]. */
static void test_guardrails(void **state)
{
	(void)state;
	const char *yaml = API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n"
		"    - deployment: a\n      namespace: b\n      mode: Recommend\n"
		"      fallback: hold\n      controlledValues: RequestsOnly\n"
		"      minAllowed: {cpu: 50m, memory: 64Mi}\n      maxAllowed: {cpu: 2, memory: 1G}\n"
		"      memoryMarginPercent: 20\n      resizeThresholdPercent: 5\n"
		"      resizeCooldownSeconds: 600\n"
		"      behavior:\n        scaleDown:\n          stabilizationWindowSeconds: 60\n"
		"          selectPolicy: Min\n          policies:\n"
		"          - {type: Pods, value: 1, periodSeconds: 60}\n"
		"    - {deployment: c, namespace: b}\n";
	const char *path = write_temp("guard.yaml", yaml, strlen(yaml));
	struct loaded l;

	memset(&l, 0, sizeof(l));
	make_config(&l.cfg, "http://prom:1");
	l.cfg.defaults.resize_cooldown_ms = 60000;
	l.rc = ipa_load_file(path, &l.cfg, &l.targets, &l.d);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.targets.count, 2);
	const struct guardrails *g = &l.targets.items[0].guard;
	assert_int_equal(g->mode, MODE_RECOMMEND);
	assert_int_equal(g->fallback, FALLBACK_HOLD);
	assert_int_equal(g->controlled, CONTROLLED_REQUESTS_ONLY);
	assert_int_equal(g->min_cpu_m, 50);
	assert_int_equal(g->max_cpu_m, 2000);
	assert_int_equal(g->min_memory_b, 64 * 1024 * 1024);
	assert_int_equal(g->max_memory_b, 1000000000);
	assert_int_equal(g->memory_margin_percent, 20);
	assert_int_equal(g->resize_threshold_percent, 5);
	assert_int_equal(g->resize_cooldown_ms, 600000);
	assert_int_equal(g->down.stabilization_ms, 60000);
	assert_int_equal(g->down.select, SELECT_MIN);
	assert_int_equal(g->down.pods, 1);
	assert_int_equal(g->down.pods_period_ms, 60000);
	assert_int_equal(g->down.percent, 0);   /* given policies replace the defaults */
	assert_int_equal(g->up.pods, 4);        /* scaleUp untouched */
	assert_int_equal(g->up.percent, 100);
	/* the second item has the defaults */
	g = &l.targets.items[1].guard;
	assert_int_equal(g->mode, MODE_AUTO);
	assert_int_equal(g->resize_cooldown_ms, 60000);
	assert_int_equal(g->down.stabilization_ms, 300000);
	assert_int_equal(g->min_cpu_m, RESOURCE_UNSET);
	unload(&l);
}

/* Small documents with one problem each: the exact message and where. */
static void test_problems(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		const char *message; /* after "FILE:" */
		const char *message2; /* a second one, or NULL */
	} cases[] = {
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - deployment: a\n      namespace: b\n      replica: 3\n",
		  "9:7: spec.metadata.ipaGroup[0].replica: unknown field; did you mean minReplicas or maxReplicas? (valid in spec.metadata.ipaGroup[0]: deployment, namespace, ingress, container, minReplicas, maxReplicas, mode, fallback, behavior, minAllowed, maxAllowed, controlledValues, memoryMarginPercent, resizeThresholdPercent, resizeCooldownSeconds)", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - deployment: a\n      namspace: b\n",
		  "8:7: spec.metadata.ipaGroup[0].namspace: unknown field; did you mean namespace? (valid in spec.metadata.ipaGroup[0]: deployment, namespace, ingress, container, minReplicas, maxReplicas, mode, fallback, behavior, minAllowed, maxAllowed, controlledValues, memoryMarginPercent, resizeThresholdPercent, resizeCooldownSeconds)",
		  "7:7: spec.metadata.ipaGroup[0].namespace: is required" },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, image: x}\n",
		  "7:37: spec.metadata.ipaGroup[0].image: unknown field (valid in spec.metadata.ipaGroup[0]: deployment, namespace, ingress, container, minReplicas, maxReplicas, mode, fallback, behavior, minAllowed, maxAllowed, controlledValues, memoryMarginPercent, resizeThresholdPercent, resizeCooldownSeconds)", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    prometheusURI: x\n    ipaGroup: [{deployment: a, namespace: b}]\n",
		  "6:5: spec.metadata.prometheusURI: unknown field; did you mean prometheusUri? (valid in spec.metadata: prometheusUri, llmAgent, ipaGroup)", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup: [{deployment: a, namespace: b}]\n  replicas: 3\n",
		  "7:3: spec.replicas: unknown field (valid in spec: metadata)", NULL },
		{ API "metadata: {name: a, labelz: {}}\nspec:\n  metadata:\n    ipaGroup: [{deployment: a, namespace: b}]\n",
		  "3:21: metadata.labelz: unknown field; did you mean labels? (valid in metadata: name, namespace, labels, annotations, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, managedFields, finalizers, ownerReferences, generateName, selfLink)", NULL },
		{ API "metadata: {name: a}\nspecs: {}\n",
		  "4:1: specs: unknown field; did you mean spec? (valid at the top level: apiVersion, kind, metadata, spec, status)",
		  "1:1: spec: is required" },
		{ "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
		  "1:13: apiVersion: is \"apps/v1\"; an IPA object needs apiVersion: ipa.shafinhasnat.me/v1alpha1", NULL },
		{ "kind: IPA\nmetadata: {name: a}\n",
		  "1:1: apiVersion: is missing; an IPA object needs apiVersion: ipa.shafinhasnat.me/v1alpha1", NULL },
		{ "apiVersion: ipa.shafinhasnat.me/v1alpha1\nkind: Ipa\n",
		  "2:7: kind: is \"Ipa\"; an IPA object needs kind: IPA", NULL },
		{ "apiVersion: ipa.shafinhasnat.me/v1alpha1\n",
		  "1:1: kind: is missing; an IPA object needs kind: IPA", NULL },
		{ API "spec:\n  metadata:\n    ipaGroup: [{deployment: a, namespace: b}]\n",
		  "1:1: metadata: is required (with a name)", NULL },
		{ API "metadata: {namespace: x}\nspec:\n  metadata:\n    ipaGroup: [{deployment: a, namespace: b}]\n",
		  "3:11: metadata.name: is required", NULL },
		{ API "metadata: {name: ''}\nspec:\n  metadata:\n    ipaGroup: [{deployment: a, namespace: b}]\n",
		  "3:18: metadata.name: is empty", NULL },
		{ API "metadata: {name: a}\n",
		  "1:1: spec: is required", NULL },
		{ API "metadata: {name: a}\nspec: {}\n",
		  "4:7: spec.metadata: is required (with an ipaGroup)", NULL },
		{ API "metadata: {name: a}\nspec: [1]\n",
		  "4:7: spec: must be a mapping, not a list", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    llmAgent: http://x\n",
		  "6:5: spec.metadata.ipaGroup: is required: a list of items with deployment and namespace", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup: []\n",
		  "6:15: spec.metadata.ipaGroup: is empty; list at least one item with deployment and namespace", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup: {deployment: a}\n",
		  "6:15: spec.metadata.ipaGroup: must be a list, not a mapping", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup: [web]\n",
		  "6:16: spec.metadata.ipaGroup[0]: must be a mapping, not a scalar", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - namespace: b\n",
		  "7:7: spec.metadata.ipaGroup[0].deployment: is required", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - deployment: a\n      namespace:\n",
		  "8:17: spec.metadata.ipaGroup[0].namespace: is empty", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - deployment: [a]\n      namespace: b\n",
		  "7:19: spec.metadata.ipaGroup[0].deployment: must be text, not a list", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, minReplicas: 3, maxReplicas: 2}\n",
		  "7:66: spec.metadata.ipaGroup[0].maxReplicas: 2 is less than minReplicas (3)", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, minReplicas: 11}\n",
		  "7:50: spec.metadata.ipaGroup[0].minReplicas: 11 is more than maxReplicas (10, from [defaults] max-replicas); set maxReplicas too", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, maxReplicas: 0}\n",
		  "7:50: spec.metadata.ipaGroup[0].maxReplicas: must be at least 1", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, maxReplicas: \"5\"}\n",
		  "7:50: spec.metadata.ipaGroup[0].maxReplicas: \"5\" is not a whole number (it is quoted: write it without quotes)", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, maxReplicas: 2.5}\n",
		  "7:50: spec.metadata.ipaGroup[0].maxReplicas: \"2.5\" is not a whole number", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, minReplicas: -1}\n",
		  "7:50: spec.metadata.ipaGroup[0].minReplicas: \"-1\" is out of range; use a value from 0 to 100000", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, maxReplicas: 99999999999999999999}\n",
		  "7:50: spec.metadata.ipaGroup[0].maxReplicas: \"99999999999999999999\" is out of range; use a value from 0 to 100000", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    prometheusUri: ftp://p\n    ipaGroup: [{deployment: a, namespace: b}]\n",
		  "6:20: spec.metadata.prometheusUri: \"ftp://p\": the scheme \"ftp\" is not supported; use http:// or https://", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b}\n    - {deployment: a, namespace: b}\n",
		  "8:7: spec.metadata.ipaGroup[1]: b/a is already a target (FILE:7:7); one Deployment can have only one autoscaler", NULL },
		{ API "metadata: {name: a}\nmetadata: {name: b}\nspec: {metadata: {ipaGroup: [{deployment: a, namespace: b}]}}\n",
		  "4:1: metadata: is given twice (also at line 3); keep one", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, [x]: 1}\n",
		  "7:37: spec.metadata.ipaGroup[0]: keys must be plain names, not a list", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: \"a\\0b\", namespace: b}\n",
		  "7:20: spec.metadata.ipaGroup[0].deployment: contains a NUL character", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, mode: auto}\n",
		  "7:43: spec.metadata.ipaGroup[0].mode: \"auto\" is not one of Auto, Recommend, ReplicasOnly, ResourcesOnly; did you mean Auto?", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, minAllowed: {memory: 256MB}}\n",
		  "7:58: spec.metadata.ipaGroup[0].minAllowed.memory: \"256MB\" is not a Kubernetes quantity (unknown suffix \"MB\"); write e.g. 512Mi, 1Gi or 1G", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, minAllowed: {cpu: 2}, maxAllowed: {cpu: 1}}\n",
		  "7:71: spec.metadata.ipaGroup[0].maxAllowed: is below minAllowed", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, behavior: {scaleUp: {policies: [{type: Pods}]}}}\n",
		  "7:69: spec.metadata.ipaGroup[0].behavior.scaleUp.policies[0]: value is required", NULL },
		{ API "metadata: {name: a}\nspec:\n  metadata:\n    ipaGroup:\n    - {deployment: a, namespace: b, behavior: {scaleDown: {stabilizationWindowSeconds: 7200}}}\n",
		  "7:88: spec.metadata.ipaGroup[0].behavior.scaleDown.stabilizationWindowSeconds: \"7200\" is out of range; use a value from 0 to 3600", NULL },
		{ "- 1\n- 2\n",
		  "1:1: an IPA object must be a mapping with apiVersion, kind, metadata and spec, not a list", NULL },
		{ "just text\n",
		  "1:1: an IPA object must be a mapping with apiVersion, kind, metadata and spec, not a scalar", NULL },
		{ API "metadata: &m {name: a}\n",
		  "3:11: YAML anchors and aliases (& and *) are not accepted; write the value out", NULL },
		{ "a: 1\nb: *x\n",
		  "2:4: YAML anchors and aliases (& and *) are not accepted; write the value out", NULL },
		{ "a: [\n",
		  "2:1: YAML syntax error: did not find expected node content (while parsing a flow node at line 2)", NULL },
		{ "a: b\n c: d\n",
		  "2:3: YAML syntax error: mapping values are not allowed in this context", NULL },
		{ "a: \x01\n",
		  "1:4: this is not YAML text: control characters are not allowed (byte 0x01)", NULL },
		{ "a: \xff\n",
		  "1:4: this is not YAML text: invalid leading UTF-8 octet (byte 0xff)", NULL },
		{ "apiVersion: v1\nkind: List\nitems:\n- " "apiVersion: ipa.shafinhasnat.me/v1alpha1\n  kind: IPA\n  metadata: {name: a}\n  spec: {metadata: {ipaGroup: [{deployment: a}]}}\n",
		  "7:32: items[0].spec.metadata.ipaGroup[0].namespace: is required", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_temp("case.yaml", cases[i].yaml,
					      strlen(cases[i].yaml));
		char want[2][2048];
		const char *messages[2] = { cases[i].message, cases[i].message2 };
		const char *wanted[3] = { NULL, NULL, NULL };
		for (size_t m = 0; m < 2 && messages[m]; m++) {
			/* FILE in a message stands for the file's path. */
			const char *msg = messages[m], *file = strstr(msg, "FILE");
			snprintf(want[m], sizeof(want[m]), "%s:%.*s%s%s", path,
				 file ? (int)(file - msg) : (int)strlen(msg), msg,
				 file ? path : "", file ? file + 4 : "");
			wanted[m] = want[m];
		}
		struct loaded l;
		load_file(&l, path, "http://prom");
		char label[32];
		snprintf(label, sizeof(label), "case %zu: ", i);
		if (l.rc != -EINVAL)
			fail_msg("%src %d", label, l.rc);
		assert_messages_of(label, &l.d, wanted);
		assert_int_equal(l.targets.count, 0); /* all or nothing */
		unload(&l);
	}
}

/* Kubernetes' own objects (a List from kubectl get -o yaml, metadata of a
 * live object, status) load. */
static void test_kubectl_list(void **state)
{
	(void)state;
	const char *yaml =
		"apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n"
		"- apiVersion: ipa.shafinhasnat.me/v1alpha1\n  kind: IPA\n"
		"  metadata: {name: a, namespace: x, uid: u, generation: 1}\n"
		"  spec: {metadata: {prometheusUri: 'https://p', ipaGroup: [{deployment: a, namespace: b}]}}\n"
		"  status: {status: Success}\n"
		"- apiVersion: ipa.shafinhasnat.me/v1alpha1\n  kind: IPA\n"
		"  metadata: {name: b}\n"
		"  spec: {metadata: {ipaGroup: [{deployment: c, namespace: d}]}}\n";
	const char *path = write_temp("list.yaml", yaml, strlen(yaml));
	struct loaded l;
	load_file(&l, path, "http://p:1");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	assert_int_equal(l.targets.count, 2);
	assert_string_equal(l.targets.items[0].prometheus_uri, "https://p");
	assert_string_equal(l.targets.items[1].prometheus_uri, "http://p:1");
	assert_string_equal(l.targets.items[1].ipa_name, "b");
	unload(&l);
}

/* One document's error does not cost the others their targets. */
static void test_all_or_nothing_per_document(void **state)
{
	(void)state;
	const char *yaml =
		API "metadata: {name: a}\nspec: {metadata: {ipaGroup: [{deployment: a, namespace: n}, {deployment: b, namespace: n}]}}\n"
		"---\n"
		API "metadata: {name: b}\nspec: {metadata: {ipaGroup: [{deployment: c, namespace: n}, {deployment: d}]}}\n"
		"---\n"
		API "metadata: {name: c}\nspec: {metadata: {ipaGroup: [{deployment: e, namespace: n}]}}\n"
		"---\n"
		"a: [\n";
	const char *path = write_temp("mixed.yaml", yaml, strlen(yaml));
	struct loaded l;
	load_file(&l, path, "p");
	assert_int_equal(l.rc, -EINVAL);
	assert_int_equal(l.d.count, 2);
	assert_non_null(strstr(l.d.messages[0], ":9:61: spec.metadata.ipaGroup[1].namespace: is required"));
	assert_non_null(strstr(l.d.messages[1], ":17:1: YAML syntax error"));
	assert_int_equal(l.targets.count, 3);
	assert_string_equal(l.targets.items[0].deployment, "a");
	assert_string_equal(l.targets.items[1].deployment, "b");
	assert_string_equal(l.targets.items[2].deployment, "e");
	unload(&l);
}

static void test_nasty_files(void **state)
{
	(void)state;
	struct loaded l;
	char want[512];

	/* Empty files and comment-only files: nothing, with a warning. */
	const char *path = write_temp("empty.yaml", "", 0);
	load_file(&l, path, "p");
	assert_int_equal(l.rc, 0);
	snprintf(want, sizeof(want), "W %s: holds no YAML document", path);
	const char *const empty[] = { want, NULL };
	assert_messages(&l.d, empty);
	unload(&l);

	path = write_temp("nulls.yaml", "---\n---\n~\n---\nnull\n...\n", 22);
	load_file(&l, path, "p");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	unload(&l);

	/* Nesting: 64 levels are fine, 65 are not. */
	char deep[300];
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	strcpy(deep + 128, "\n");
	path = write_temp("deep64.yaml", deep, strlen(deep));
	load_file(&l, path, "p");
	assert_int_equal(l.d.count, 1);
	assert_non_null(strstr(l.d.messages[0], ":1:1: an IPA object must be a mapping"));
	unload(&l);
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	strcpy(deep + 130, "\n");
	path = write_temp("deep65.yaml", deep, strlen(deep));
	load_file(&l, path, "p");
	snprintf(want, sizeof(want), "%s:1:65: nesting deeper than 64 levels is not accepted; the rest of the file is not read", path);
	const char *const deeper[] = { want, NULL };
	assert_messages(&l.d, deeper);
	unload(&l);

	/* Very deep nesting does not exhaust the stack. */
	size_t n = 1000000;
	char *big = malloc(2 * n + 2);
	assert_non_null(big);
	memset(big, '[', n);
	memset(big + n, ']', n);
	strcpy(big + 2 * n, "\n");
	path = write_temp("deeper.yaml", big, 2 * n + 1);
	load_file(&l, path, "p");
	assert_int_equal(l.rc, -EINVAL);
	assert_int_equal(l.d.count, 1);
	unload(&l);

	/* A 10 MB line. */
	big = realloc(big, 10 * 1024 * 1024 + 32);
	assert_non_null(big);
	strcpy(big, "apiVersion: ");
	memset(big + 12, 'x', 10 * 1024 * 1024);
	strcpy(big + 12 + 10 * 1024 * 1024, "\n");
	path = write_temp("long.yaml", big, strlen(big));
	load_file(&l, path, "p");
	assert_int_equal(l.rc, -EINVAL);
	assert_int_equal(l.d.count, 1);
	assert_non_null(strstr(l.d.messages[0], ":1:13: apiVersion: is \"xxxx"));
	assert_true(strlen(l.d.messages[0]) < 300);
	unload(&l);

	/* Too many values: the file is not read further. */
	big = realloc(big, 2 * 100001 + 8);
	assert_non_null(big);
	big[0] = '[';
	for (size_t i = 0; i < 100001; i++)
		memcpy(big + 1 + 2 * i, "0,", 2);
	strcpy(big + 1 + 2 * 100001 - 1, "]\n");
	path = write_temp("values.yaml", big, strlen(big));
	load_file(&l, path, "p");
	assert_int_equal(l.rc, -EINVAL);
	snprintf(want, sizeof(want), "%s:1:200000: a document with more than 100000 "
		 "values is not an IPA object; the rest of the file is not read", path);
	const char *const values[] = { want, NULL };
	assert_messages(&l.d, values);
	unload(&l);

	/* Many problems: the first 100 are listed. */
	size_t o = (size_t)sprintf(big, API);
	for (int i = 0; i < 2000; i++)
		o += (size_t)sprintf(big + o, "k%d: 1\n", i);
	path = write_temp("keys.yaml", big, o);
	load_file(&l, path, "p");
	assert_int_equal(l.rc, -EINVAL);
	assert_int_equal(l.d.count, 101);
	assert_non_null(strstr(l.d.messages[0], ":3:1: k0: unknown field"));
	assert_non_null(strstr(l.d.messages[99], ":102:1: k99: unknown field"));
	assert_non_null(strstr(l.d.messages[100], ":103:1: too many problems in this document; not listing more"));
	unload(&l);

	/* Binary junk. */
	for (size_t i = 0; i < 65536; i++)
		big[i] = (char)((i * 2654435761u) >> 13);
	path = write_temp("junk.yaml", big, 65536);
	load_file(&l, path, "p");
	assert_int_equal(l.rc, -EINVAL);
	assert_int_equal(l.d.count, 1);
	free(big);
	unload(&l);

	/* Not a file. */
	load_file(&l, DATA "does-not-exist.yaml", "p");
	assert_int_equal(l.rc, -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
		 DATA "does-not-exist.yaml");
	const char *const missing[] = { want, NULL };
	assert_messages(&l.d, missing);
	unload(&l);

	load_file(&l, TEST_DATA_DIR, "p");
	assert_int_equal(l.rc, -EISDIR);
	unload(&l);

	/* No cluster: nothing can be loaded. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(config_defaults(&l.cfg), 0);
	assert_int_equal(ipa_load_file(DATA "multi.yaml", &l.cfg, &l.targets, &l.d),
			 -EINVAL);
	const char *const no_cluster[] = { DATA "multi.yaml: not loaded: there is no cluster in the configuration to put its targets in", NULL };
	assert_messages(&l.d, no_cluster);
	unload(&l);
}

static void test_directory(void **state)
{
	(void)state;
	char dir[128], path[320];
	snprintf(dir, sizeof(dir), "%s/dir", temp_dir());
	assert_int_equal(mkdir(dir, 0700), 0);
	static const struct { const char *name, *deployment; } files[] = {
		{ "b.yml", "b" }, { "a.yaml", "a" }, { "c.yaml.bak", "x" },
		{ ".hidden.yaml", "y" }, { "d.yaml", NULL }, { "e.yaml", "e" },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), API "metadata: {name: n}\nspec: {metadata: "
			 "{ipaGroup: [{deployment: %s, namespace: n}]}}\n",
			 files[i].deployment ? files[i].deployment : "[broken]");
		snprintf(path, sizeof(path), "dir/%s", files[i].name);
		write_temp(path, yaml, strlen(yaml));
	}
	struct loaded l;
	memset(&l, 0, sizeof(l));
	make_config(&l.cfg, "p");
	l.rc = ipa_load_directory(dir, &l.cfg, &l.targets, &l.d);
	assert_int_equal(l.rc, -EINVAL);
	snprintf(path, sizeof(path), "%s/d.yaml:4:43: spec.metadata.ipaGroup[0]."
		 "deployment: must be text, not a list", dir);
	const char *const wanted[] = { path, NULL };
	assert_messages(&l.d, wanted);
	assert_int_equal(l.targets.count, 3);
	assert_string_equal(l.targets.items[0].deployment, "a");
	assert_string_equal(l.targets.items[1].deployment, "b");
	assert_string_equal(l.targets.items[2].deployment, "e");
	snprintf(path, sizeof(path), "%s/e.yaml:4:30", dir);
	assert_string_equal(l.targets.items[2].source, path);
	unload(&l);

	memset(&l, 0, sizeof(l));
	make_config(&l.cfg, "p");
	snprintf(path, sizeof(path), "%s/missing", temp_dir());
	assert_int_equal(ipa_load_directory(path, &l.cfg, &l.targets, &l.d), -ENOENT);
	assert_int_equal(l.d.count, 1);
	assert_non_null(strstr(l.d.messages[0], "/missing: cannot open the directory of IPA files: No such file or directory"));
	unload(&l);
}

/* The example shipped in etc/ipa.d loads without a word. */
/* Targets of several clusters: [ipad] targets into the default cluster,
 * a glob, a single file; the same Deployment in two clusters. */
static void test_cluster_targets(void **state)
{
	(void)state;
	char path[320];
	static const char *const files[][2] = {
		{ "main/web.yaml", "web" }, { "gke/a.yaml", "web" },
		{ "gke/b.yaml", "api" }, { "gke/b.yaml.bak", "old" },
		{ "one.yaml", "db" },
	};
	char base[128];
	snprintf(base, sizeof(base), "%s/multi", temp_dir());
	assert_int_equal(mkdir(base, 0700), 0);
	for (const char *sub[] = { "main", "gke" }, **p = sub; p < sub + 2; p++) {
		snprintf(path, sizeof(path), "%s/%s", base, *p);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), API "metadata: {name: n}\nspec: {metadata: "
			 "{ipaGroup: [{deployment: %s, namespace: n}]}}\n", files[i][1]);
		snprintf(path, sizeof(path), "multi/%s", files[i][0]);
		write_temp(path, yaml, strlen(yaml));
	}
	struct loaded l;
	memset(&l, 0, sizeof(l));
	make_config(&l.cfg, "p");
	struct ipad_config *cfg = &l.cfg;
	struct cluster_config *c = realloc(cfg->clusters, 3 * sizeof(*c));
	assert_non_null(c);
	cfg->clusters = c;
	cfg->cluster_count = 3;
	c[1] = (struct cluster_config){ .name = strdup("gke"), .prometheus = strdup("http://g") };
	c[2] = (struct cluster_config){ .name = strdup("k3s"), .prometheus = strdup("http://k") };
	c[0].is_default = true;
	free(cfg->targets);
	assert_true(asprintf(&cfg->targets, "%s/main", base) > 0);
	assert_true(asprintf(&c[1].targets, "%s/gke/*.yaml", base) > 0);
	assert_true(asprintf(&c[2].targets, "%s/one.yaml", base) > 0);
	l.rc = ipa_load_targets(cfg, &l.targets, &l.d);
	if (l.rc != 0)
		fail_msg("%s", l.d.messages[0]);
	assert_int_equal(l.targets.count, 4);
	static const char *const want[][2] = {
		{ "eu", "web" }, { "gke", "web" }, { "gke", "api" }, { "k3s", "db" },
	};
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(l.targets.items[i].cluster, want[i][0]);
		assert_string_equal(l.targets.items[i].deployment, want[i][1]);
	}
	assert_string_equal(l.targets.items[1].prometheus_uri, "http://g");
	target_list_free(&l.targets);

	/* a pattern that matches nothing is a warning; no default cluster:
	 * [ipad] targets is not read */
	c[0].is_default = false;
	free(c[1].targets);
	assert_true(asprintf(&c[1].targets, "%s/none/*.yaml", base) > 0);
	diag_free(&l.d);
	memset(&l.d, 0, sizeof(l.d));
	if (ipa_load_targets(cfg, &l.targets, &l.d) != 0)
		fail_msg("%s", l.d.messages[0]);
	assert_int_equal(l.targets.count, 1);
	assert_int_equal(l.d.count, 1);
	assert_int_equal(diag_errors(&l.d), 0);
	assert_non_null(strstr(l.d.messages[0], "[cluster gke] targets: "));
	assert_non_null(strstr(l.d.messages[0], "/none/*.yaml matches no file"));
	unload(&l);
}

static void test_shipped_example(void **state)
{
	(void)state;
	struct loaded l;
	load_file(&l, TEST_DATA_DIR "/../../../etc/ipa.d/example.yaml", NULL);
	for (size_t i = 0; i < l.d.count; i++)
		print_message("%s\n", l.d.messages[i]);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.count, 0);
	assert_int_equal(l.targets.count, 2);
	assert_string_equal(l.targets.items[0].container, "app");
	assert_int_equal(l.targets.items[0].min_replicas, 2);
	assert_int_equal(l.targets.items[0].max_replicas, 12);
	unload(&l);
}

static void test_target_list(void **state)
{
	(void)state;
	struct target_list a = { 0 }, b = { 0 };
	struct target t = { .namespace = strdup("n"), .deployment = strdup("d") };
	assert_int_equal(target_list_append(&b, &t), 0);
	assert_null(t.namespace);
	assert_int_equal(target_list_splice(&a, &b), 0);
	assert_int_equal(a.count, 1);
	assert_int_equal(b.count, 0);
	assert_null(b.items);
	assert_int_equal(target_list_splice(&a, &b), 0); /* empty: no-op */
	assert_int_equal(a.count, 1);
	char key[8];
	assert_string_equal(target_key(&a.items[0], key, sizeof(key)), "n/d");
	target_list_free(&a);
	assert_int_equal(a.count, 0);
}

/* Objects from the API server: the same schema from JSON, with the
 * object's identity, and messages without line numbers. */
static void test_api_object(void **state)
{
	(void)state;
	struct loaded l = { 0 };
	make_config(&l.cfg, "http://prom:9090");
	const char *good =
		"{\"apiVersion\":\"ipa.shafinhasnat.me/v1alpha1\",\"kind\":\"IPA\","
		"\"metadata\":{\"name\":\"shop-ipa\",\"namespace\":\"ops\",\"uid\":\"u-1\","
		"\"generation\":3,\"resourceVersion\":\"77\","
		"\"creationTimestamp\":\"2026-11-30T00:00:00Z\","
		"\"annotations\":{\"ipa.shafinhasnat.me/paused\":\"true\"},"
		"\"managedFields\":[{\"manager\":\"kubectl\",\"fieldsV1\":{\"f:spec\":{}}}]},"
		"\"spec\":{\"metadata\":{\"llmAgent\":\"http://agent:5000\",\"ipaGroup\":["
		"{\"deployment\":\"web\",\"namespace\":\"shop\",\"maxReplicas\":7},"
		"{\"deployment\":\"api\",\"namespace\":\"shop\",\"behavior\":{\"scaleDown\":"
		"{\"stabilizationWindowSeconds\":0}}}]}},"
		"\"status\":{\"status\":\"old\"}}";
	assert_int_equal(ipa_load_object(good, &l.cfg, &l.cfg.clusters[0], &l.targets, &l.d), 0);
	assert_int_equal(l.d.count, 0);
	assert_int_equal(l.targets.count, 2);
	const struct target *t = &l.targets.items[1];
	assert_string_equal(t->source, "cluster eu: IPA ops/shop-ipa: spec.metadata.ipaGroup[1]");
	assert_string_equal(t->ipa_namespace, "ops");
	assert_string_equal(t->ipa_name, "shop-ipa");
	assert_string_equal(t->ipa_uid, "u-1");
	assert_int_equal(t->ipa_generation, 3);
	assert_int_equal(t->ipa_item, 1);
	assert_true(t->paused);
	assert_string_equal(t->deployment, "api");
	assert_string_equal(t->prometheus_uri, "http://prom:9090");
	assert_int_equal(t->guard.down.stabilization_ms, 0);
	assert_int_equal(l.targets.items[0].max_replicas, 7);

	/* Not checked against out: the registry decides between claimants. */
	assert_int_equal(ipa_load_object(good, &l.cfg, &l.cfg.clusters[0], &l.targets, &l.d), 0);
	assert_int_equal(l.targets.count, 4);

	/* A wrong object adds nothing and says where, without a line. */
	const char *bad =
		"{\"apiVersion\":\"ipa.shafinhasnat.me/v1alpha1\",\"kind\":\"IPA\","
		"\"metadata\":{\"name\":\"b\",\"namespace\":\"ops\"},"
		"\"spec\":{\"metadata\":{\"llmAgent\":\"http://a\",\"ipaGroup\":["
		"{\"deployment\":\"ok\",\"namespace\":\"shop\"},"
		"{\"deployment\":\"w\",\"namespace\":\"shop\",\"maxReplicas\":1.5},"
		"{\"deployment\":\"ok\",\"namespace\":\"shop\"}]}}}";
	assert_int_equal(ipa_load_object(bad, &l.cfg, &l.cfg.clusters[0], &l.targets, &l.d), -EINVAL);
	assert_int_equal(l.targets.count, 4);
	const char *const want[] = {
		"cluster eu: IPA ops/b: spec.metadata.ipaGroup[1].maxReplicas: \"1.5\" is not a whole number",
		"cluster eu: IPA ops/b: spec.metadata.ipaGroup[2]: shop/ok is already a target "
		"(cluster eu: IPA ops/b: spec.metadata.ipaGroup[0]); one Deployment can have only "
		"one autoscaler",
		NULL };
	assert_messages(&l.d, want);
	diag_free(&l.d);
	memset(&l.d, 0, sizeof(l.d));
	assert_int_equal(ipa_load_object("{not json", &l.cfg, &l.cfg.clusters[0], &l.targets, &l.d),
			 -EINVAL);
	assert_int_equal(l.d.count, 1);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_example),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_advisor_settings),
		cmocka_unit_test(test_guardrails),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_kubectl_list),
		cmocka_unit_test(test_all_or_nothing_per_document),
		cmocka_unit_test(test_nasty_files),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_cluster_targets),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_target_list),
		cmocka_unit_test(test_api_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
