/* ipa — IPA objects (ipa.shafinhasnat.me/v1alpha1, kind IPA) from YAML
 * files, turned into targets.
 *
 * The schema is the original operator's (spec.metadata.{prometheusUri,
 * llmAgent, ipaGroup[]{deployment, namespace, ingress}}), and the example of
 * its README is accepted verbatim. ipad adds optional per-item fields:
 * minReplicas, maxReplicas (integers) and container (string). Unknown keys
 * are errors; a file may hold several '---' documents; empty documents are
 * skipped. Documented in ipad.ipa(5). */
#ifndef IPAD_IPA_H
#define IPAD_IPA_H

#include "config.h"
#include "diag.h"
#include "target.h"

/* Parse one YAML file and append its targets to out, resolved against cfg:
 * prometheusUri defaults to the cluster's prometheus (a URL without scheme
 * gets "http://"), min/maxReplicas to cfg's defaults, cluster to the first
 * cluster of cfg. Problems go to d as "FILE:LINE:COL: FIELD PATH: message"
 * (1-based line and column). Targets of a document with any error are not
 * appended (nothing half-loaded). Nesting deeper than 64 and aliases are
 * refused. Returns 0, -EINVAL (errors in d) or -errno (unreadable file). */
int ipa_load_file(const char *path, const struct ipad_config *cfg,
		  struct target_list *out, struct diag *d);

/* Load every *.yaml and *.yml file of dir in name order (other files are
 * ignored, a missing directory is an error). Errors of one file do not stop
 * the others. Returns 0 when no file had an error, else -EINVAL. */
int ipa_load_directory(const char *dir, const struct ipad_config *cfg,
		       struct target_list *out, struct diag *d);

#endif
