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

/* The annotation that stops ipad from changing the targets of an IPA
 * object (on the IPA) or one Deployment (on the Deployment): "true". */
#define IPA_PAUSED_ANNOTATION "ipa.shafinhasnat.me/paused"

/* Parse one YAML file and append its targets to out, resolved against cfg:
 * prometheusUri defaults to the cluster's prometheus (a URL without scheme
 * gets "http://"), min/maxReplicas to cfg's defaults, cluster to the
 * default cluster of cfg (config_default_cluster(); none is an error),
 * llm_agent to cfg's [advisor] url when set, else to the
 * IPA's llmAgent. A document may also be a kubectl "List" of IPA objects.
 * Problems go to d as "FILE:LINE:COL: FIELD PATH: message" (1-based line
 * and column; e.g. "spec.metadata.ipaGroup[0].replica: unknown field; did
 * you mean minReplicas or maxReplicas? (valid in ...)"). Names that are
 * not valid Kubernetes names and URLs with blanks or <> are warnings only
 * (the README's placeholders). Targets of a document with any error are
 * not appended (nothing half-loaded); a Deployment already in out is an
 * error. Nesting deeper than 64, anchors and aliases are refused; a syntax
 * error or too deep nesting ends the reading of the file (earlier
 * documents are kept). Files over 16 MiB are refused.
 * Returns 0 (warnings allowed), -EINVAL (errors in d), -ENOMEM, or -errno
 * when the file cannot be opened or read (-EISDIR for a directory), also
 * reported in d. */
int ipa_load_file(const char *path, const struct ipad_config *cfg,
		  struct target_list *out, struct diag *d);

/* Load every *.yaml and *.yml file of dir in name order (hidden files and
 * other names are ignored). Errors of one file do not stop the others.
 * Returns 0 when no file had an error, -EINVAL when one had, -ENOMEM, or
 * -errno when dir cannot be opened (a missing directory is -ENOENT),
 * always with the reason in d. */
int ipa_load_directory(const char *dir, const struct ipad_config *cfg,
		       struct target_list *out, struct diag *d);

/* Every target of cfg: the directory [ipad] targets into the default
 * cluster (unless it has targets of its own), then each cluster's targets
 * (a directory as above, a glob(3) pattern whose matching files are read
 * in name order, or one file) into that cluster. A pattern matching
 * nothing is a warning. The same Deployment may be a target in two
 * clusters, not twice in one. Returns 0, -EINVAL (errors in d), -ENOMEM,
 * or the -errno of a directory that cannot be opened. */
/* One IPA object as the API server sent it (JSON text, e.g. from the
 * informer), in cluster, checked like a document of a file and appended
 * to out as targets carrying ipa_namespace, ipa_uid, ipa_generation and
 * ipa_item. Problems go to d as "cluster NAME: IPA NS/NAME: FIELD PATH:
 * message" (no line: the object has none). The same Deployment twice in
 * one object is an error; against the targets already in out it is not
 * checked (registry.h decides between claimants). The source of each
 * target is "cluster NAME: IPA NS/NAME: spec.metadata.ipaGroup[I]".
 * Returns 0, -EINVAL (errors in d, nothing appended) or -ENOMEM. */
int ipa_load_object(const char *json, const struct ipad_config *cfg,
		    const struct cluster_config *cluster, struct target_list *out,
		    struct diag *d);

int ipa_load_targets(const struct ipad_config *cfg, struct target_list *out,
		     struct diag *d);

#endif
