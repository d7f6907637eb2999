/* config — the daemon's INI file (/etc/ipad/ipad.conf), parsed with inih.
 *
 * Layout (documented in ipad.conf(5)):
 *
 *   [ipad]
 *   interval = 60s            ; how often every target is evaluated
 *   metrics-window = 2m       ; range of PromQL rate() (>= 4 scrape intervals)
 *   state-directory = /var/lib/ipad
 *   dry-run = false           ; decide and record, never change a cluster
 *   concurrency = 4           ; worker threads (targets evaluated at once)
 *   targets = /etc/ipad/ipa.d ; directory of IPA YAML files (*.yaml, *.yml)
 *   log-target = auto         ; auto | journal | stderr
 *   log-format = logfmt       ; logfmt | json (stderr only)
 *
 *   [defaults]
 *   min-replicas = 1
 *   max-replicas = 10
 *   mode = Auto               ; Auto | Recommend | ReplicasOnly | ResourcesOnly
 *   fallback = builtin        ; builtin | hold (advisor failed or refused)
 *   scale-up-stabilization = 0s     scale-down-stabilization = 300s
 *   scale-up-pods = 4         ; Pods policy, per scale-up-pods-period (15s)
 *   scale-up-percent = 100    ; Percent policy, per scale-up-percent-period
 *   scale-up-select-policy = Max    ; Max | Min | Disabled
 *   scale-down-pods = 0, scale-down-percent = 100, ... likewise
 *   min-allowed-cpu, max-allowed-cpu, min-allowed-memory, max-allowed-memory
 *   controlled-values = RequestsAndLimits   ; or RequestsOnly
 *   memory-margin = 15        ; percent above the recent peak working set
 *   resize-threshold = 15     ; percent: smaller resource changes are skipped
 *   resize-cooldown = 30m     ; at most one resize per cooldown
 *
 *   [advisor]
 *   type = builtin            ; builtin | ipa-agent | gemini | openai
 *   timeout = 20s             ; per advisor call
 *   url =                     ; ipa-agent: overrides every IPA's llmAgent;
 *                             ; gemini: API base (default Google's);
 *                             ; openai: server base URL (required)
 *   model =                   ; gemini, openai: model name (required)
 *   api-key-file =            ; gemini, openai: file holding the API key
 *                             ; (mode 0600/0400; never the key itself here)
 *   api-key-credential =      ; or a systemd credential name, read from
 *                             ; $CREDENTIALS_DIRECTORY/NAME
 *   target-cpu-utilization = 70   ; builtin: percent of CPU requests
 *   tolerance = 0.1           ; builtin: no change within 1 +- tolerance
 *
 *   [cluster NAME]            ; one or more ("[cluster]" = "default")
 *   kubeconfig = /etc/ipad/kubeconfig   ; or a $KUBECONFIG-style list a:b:c
 *   context =                 ; empty: the kubeconfig's current-context
 *   prometheus = http://127.0.0.1:9090   ; default for IPAs without prometheusUri
 *   request-timeout = 10s     ; per Kubernetes / Prometheus request
 *   targets =                 ; IPA files of this cluster: directory, file or glob
 *   default = false           ; takes the files of [ipad] targets
 *   concurrency =             ; targets of this cluster evaluated at once
 *
 * The default cluster (default = true, or the only cluster) reads [ipad]
 * targets unless it has targets of its own; with several clusters every
 * other one needs targets.
 *
 * Keys are case-sensitive, lower-case, words joined by '-'. Unknown sections
 * and keys are errors. Relative paths resolve against the directory of the
 * configuration file. */
#ifndef IPAD_CONFIG_H
#define IPAD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "guardrails.h"

#define IPAD_DEFAULT_CONFIG SYSCONFDIR "/ipad/ipad.conf"

enum advisor_type {
	ADVISOR_BUILTIN = 0,
	ADVISOR_IPA_AGENT,
	ADVISOR_GEMINI,
	ADVISOR_OPENAI,
};

enum log_target { LOG_AUTO = 0, LOG_JOURNAL, LOG_STDERR };
enum log_format { LOG_LOGFMT = 0, LOG_JSON };

struct cluster_config {
	char *name;            /* "default" for a bare [cluster] section */
	char *kubeconfig;      /* absolute paths joined by ':' (client-go's
				  $KUBECONFIG list: empty and repeated
				  entries dropped) */
	char *context;         /* NULL: current-context */
	char *prometheus;      /* default Prometheus base URL, NULL if none */
	int64_t request_timeout_ms; /* default 10000 */
	char *targets;         /* absolute directory, file or glob of IPA files,
				  NULL: none of its own */
	bool is_default;       /* default = true */
	int concurrency;       /* targets of this cluster at once; default
				  [ipad] concurrency / number of clusters,
				  rounded up */
	bool watch_ipas;       /* list+watch the cluster's IPA custom
				  resources (informer.h); default false */
	char *ipa_namespaces;  /* namespaces to watch them in, separated by
				  blanks or commas; NULL: all namespaces */
	int line;              /* of its section header */
};

struct ipad_config {
	char *path;                 /* the file this came from */
	int64_t interval_ms;        /* default 60000, range 1 s .. 1 day */
	int64_t metrics_window_ms;  /* rate() range, default 120000, 1 s .. 1 h */
	char *state_directory;      /* default LOCALSTATEDIR "/lib/ipad" */
	bool dry_run;               /* default false */
	int concurrency;            /* default 4, range 1..256 */
	char *targets;              /* default SYSCONFDIR "/ipad/ipa.d" */
	enum log_target log_target; /* default auto */
	enum log_format log_format; /* default logfmt */
	bool leader_election;       /* a Lease per cluster decides which ipad
				       acts (lease.h); default false */
	char *lease_namespace;      /* default "kube-system" */
	char *lease_name;           /* default "ipad" */
	int64_t lease_duration_ms;  /* default 15000, range 5 s .. 5 min */
	char *identity;             /* holderIdentity; NULL: the host name */

	int min_replicas;           /* default 1, range 0..100000 */
	int max_replicas;           /* default 10, >= max(1, min_replicas) */
	struct guardrails defaults; /* the other [defaults]: guardrails.h */

	enum advisor_type advisor;  /* default builtin */
	int64_t advisor_timeout_ms; /* default 20000 */
	char *advisor_url;          /* ipa-agent base URL override; gemini
				       or openai API base; or NULL */
	char *advisor_model;        /* gemini, openai: model name, or NULL */
	char *advisor_key_file;     /* absolute path of the API key file, or NULL */
	char *advisor_key_credential; /* systemd credential name, or NULL */
	double target_cpu_utilization; /* percent, default 70, range (0, 1000] */
	double tolerance;           /* default 0.1, range [0, 1) */

	struct cluster_config *clusters; /* at least 1 after a good load */
	int cluster_count;
};

/* Fill cfg with the defaults above (no clusters). Returns 0, or -ENOMEM
 * (cfg is then still safe to pass to config_free()). */
int config_defaults(struct ipad_config *cfg);

/* Load path into cfg (which is first set to defaults). Every problem is
 * appended to d as "PATH:LINE: [SECTION] KEY: what is wrong; what to do".
 * inih stops reading at a syntax error and Debian's inih rejects lines
 * longer than 200 bytes; both are reported with their line.
 * Returns 0 when there is no error (warnings allowed), -EINVAL when d holds
 * errors, -errno when the file cannot be read. cfg is always safe to pass
 * to config_free(). */
int config_load(const char *path, struct ipad_config *cfg, struct diag *d);

/* The cluster that takes the IPA files of [ipad] targets: the one with
 * default = true, else the only one; NULL when there is none. */
const struct cluster_config *config_default_cluster(const struct ipad_config *cfg);

/* Free everything cfg owns and reset it. */
void config_free(struct ipad_config *cfg);

/* Name of the advisor type as written in the INI ("builtin", "ipa-agent",
 * "gemini", "openai"). */
const char *advisor_type_name(enum advisor_type t);

/* The base URL of a service (Prometheus, an IPA agent) as ipad uses it:
 * "http://" is added when text has no scheme ("prometheus:9090" ->
 * "http://prometheus:9090") and trailing slashes are removed. *url is
 * malloc'd (the caller frees it).
 * Returns 0, or -EINVAL with a sentence in err (empty text, a scheme other
 * than http/https, no host) and *url NULL, or -ENOMEM. When 0 is returned
 * but the URL cannot be right (blanks, <placeholder> brackets, quotes),
 * err holds a sentence saying so, else err is "": the caller decides
 * whether that is an error (ipad.conf) or a warning (IPA files, whose
 * README example has placeholders). */
int config_base_url(const char *text, char **url, char *err, size_t errlen);

#endif
