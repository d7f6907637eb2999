/* ipad — the Intelligent Pod Autoscaler daemon: command line, lifecycle,
 * signals and systemd notifications. See ipad(8). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "check.h"
#include "config.h"
#include "http.h"
#include "ipa.h"
#include "journal.h"
#include "kube.h"
#include "scheduler.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ipad [OPTION]...\n"
		"Autoscale Kubernetes Deployments from Prometheus metrics and an advisor.\n\n"
		"  -c, --config=FILE   daemon configuration (default %s)\n"
		"      --check-config  validate the configuration and IPA files, then exit\n"
		"      --online        with --check-config: also connect to every cluster and\n"
		"                      check its credentials and permissions (a table)\n"
		"      --once          run one cycle over every target, then exit\n"
		"      --dry-run       decide and record, but change nothing in any cluster\n"
		"      --version       print the version and exit\n"
		"  -h, --help          print this help and exit\n\n"
		"Exit status: 0 success; 64 usage error; 75 (--once) a target could not be\n"
		"evaluated or its decision failed; 78 configuration error; with --online\n"
		"69 a cluster is unreachable or refuses the credentials, 77 a permission\n"
		"is missing.\n"
		"See ipad(8), ipad.conf(5) and ipad.ipa(5).\n", IPAD_DEFAULT_CONFIG);
}

struct options {
	const char *config;
	bool check_config, online, once, dry_run;
};

static int parse_args(int argc, char **argv, struct options *opt)
{
	enum { OPT_CHECK = 256, OPT_ONLINE, OPT_ONCE, OPT_DRY_RUN, OPT_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "online", no_argument, NULL, OPT_ONLINE },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opt->config = IPAD_DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt->config = optarg; break;
		case OPT_CHECK: opt->check_config = true; break;
		case OPT_ONLINE: opt->online = true; break;
		case OPT_ONCE: opt->once = true; break;
		case OPT_DRY_RUN: opt->dry_run = true; break;
		case OPT_VERSION: printf("ipad %s\n", PACKAGE_VERSION); exit(EX_OK);
		case 'h': usage(stdout); exit(EX_OK);
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (opt->online && !opt->check_config) {
		fprintf(stderr, "ipad: --online goes with --check-config\n");
		usage(stderr);
		return EX_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "ipad: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	return 0;
}

static void print_diag(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		fprintf(stderr, "%s%s\n", d->is_warning && d->is_warning[i] ? "warning: " : "",
			d->messages[i]);
}

/* Load everything a run needs; on failure print every problem. */
static int load(const struct options *opt, struct ipad_config *cfg,
		struct target_list *targets, struct kube_cluster **clusters)
{
	struct diag d = { 0 };
	char err[1024];
	int i, bad;

	if (config_load(opt->config, cfg, &d) == 0)
		ipa_load_targets(cfg, targets, &d);
	bad = diag_errors(&d) > 0;
	if (!bad) {
		*clusters = calloc((size_t)cfg->cluster_count, sizeof(**clusters));
		bad = !*clusters;
		for (i = 0; *clusters && i < cfg->cluster_count; i++) {
			struct kube_cluster *k = &(*clusters)[i];
			/* A kubeconfig that does not load is an error of the
			 * configuration for --check-config; the daemon starts
			 * anyway and holds that cluster's targets until it loads. */
			const char *name = cfg->clusters[i].name;
			if (kube_cluster_init(k, &cfg->clusters[i], err, sizeof(err)) < 0) {
				diag_error(&d, "%s", err);
				bad = 1;
			} else if (kube_cluster_load(k, err, sizeof(err)) < 0) {
				if (opt->check_config)
					diag_error(&d, "%s: [cluster %s] kubeconfig: %s",
						   cfg->path, name, err);
				else
					diag_warning(&d, "%s: [cluster %s] kubeconfig: %s; "
						     "its targets are held until it loads",
						     cfg->path, name, err);
				bad |= opt->check_config;
			}
		}
	}
	print_diag(&d);
	diag_free(&d);
	return bad ? EX_CONFIG : 0;
}

static void free_clusters(struct kube_cluster *clusters, int n)
{
	int i;

	for (i = 0; clusters && i < n; i++)
		kube_cluster_free(&clusters[i]);
	free(clusters);
}

static void sleep_until(double deadline)
{
	struct timespec now, ts;

	while (!stop_requested) {
		double left;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = deadline - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
		if (left <= 0)
			return;
		if (left > 0.5)
			left = 0.5;  /* stay responsive to signals and the watchdog */
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct ipad_config cfg = { 0 };  /* config_load() sets the defaults */
	struct target_list targets = { 0 };
	struct kube_cluster *clusters = NULL;
	struct scheduler *s = NULL;
	struct sigaction sa;
	struct cycle_stats st = { 0 };
	char err[512];
	int rc;

	rc = parse_args(argc, argv, &opt);
	if (rc)
		return rc;
	if (http_global_init() < 0) {
		fprintf(stderr, "ipad: libcurl could not be initialised\n");
		return EX_SOFTWARE;
	}
	rc = load(&opt, &cfg, &targets, &clusters);
	if (rc || opt.check_config) {
		if (!rc)
			printf("%zu target%s, %d cluster%s, advisor %s\n", targets.count,
			       targets.count == 1 ? "" : "s", cfg.cluster_count,
			       cfg.cluster_count == 1 ? "" : "s",
			       advisor_type_name(cfg.advisor));
		if (!rc && opt.online)
			rc = check_online(&cfg, &targets, clusters, stdout);
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	journal_open(cfg.log_target, cfg.log_format);
	s = scheduler_new(&cfg, &targets, clusters, cfg.cluster_count,
			  opt.dry_run || cfg.dry_run, &stop_requested, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "ipad: %s\n", err);
		rc = EX_OSERR;
		goto out;
	}
	journal_lifecycle(6, "ipad %s started: %zu target%s, %d cluster%s, advisor %s, "
			  "interval %llds%s", PACKAGE_VERSION, targets.count,
			  targets.count == 1 ? "" : "s", cfg.cluster_count,
			  cfg.cluster_count == 1 ? "" : "s", advisor_type_name(cfg.advisor),
			  (long long)(cfg.interval_ms / 1000),
			  opt.dry_run || cfg.dry_run ? ", dry run" : "");
	sd_notifyf(0, "READY=1\nSTATUS=%zu targets in %d cluster(s); first cycle running",
		   targets.count, cfg.cluster_count);
	for (;;) {
		double start = monotonic_s();

		scheduler_run_cycle(s, &st);
		sd_notifyf(0, "STATUS=%zu targets in %d cluster(s); last cycle %.1f s, "
			   "%zu changed, %zu failed", st.targets, cfg.cluster_count,
			   st.seconds, st.changed, st.failures);
		if (opt.once || stop_requested)
			break;
		sleep_until(start + (double)cfg.interval_ms / 1000.0);
		if (stop_requested)
			break;
	}
	sd_notify(0, "STOPPING=1");
	journal_lifecycle(6, "ipad stopping%s", stop_requested ? " on signal" : "");
	rc = opt.once && st.failures > 0 ? EX_TEMPFAIL : EX_OK;
out:
	scheduler_free(s);
	free_clusters(clusters, cfg.cluster_count);
	target_list_free(&targets);
	config_free(&cfg);
	http_global_cleanup();
	return rc;
}
