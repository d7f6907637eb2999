/* ipad — the Intelligent Pod Autoscaler daemon: the command line; the
 * service's life is runtime.c. See ipad(8). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "check.h"
#include "config.h"
#include "http.h"
#include "runtime.h"

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

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct runtime_options ro;
	struct ipad_setup *su = NULL;
	struct diag d = { 0 };
	char what[160];
	int rc;

	rc = parse_args(argc, argv, &opt);
	if (rc)
		return rc;
	if (http_global_init() < 0) {
		fprintf(stderr, "ipad: libcurl could not be initialised\n");
		return EX_SOFTWARE;
	}
	rc = setup_load(opt.config, opt.check_config, &su, &d) == 0 ? EX_OK : EX_CONFIG;
	print_diag(&d);
	diag_free(&d);
	if (rc == EX_OK && opt.check_config)
		printf("%s\n", setup_summary(su, NULL, what, sizeof(what)));
	if (rc == EX_OK && opt.online)
		rc = check_online(&su->cfg, &su->targets, su->clusters, stdout);
	if (rc != EX_OK || opt.check_config) {
		setup_free(su);
	} else {
		ro = (struct runtime_options){ .config = opt.config, .once = opt.once,
					       .dry_run = opt.dry_run };
		rc = runtime_run(&ro, su);
	}
	http_global_cleanup();
	return rc;
}
