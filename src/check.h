/* check — `ipad --check-config --online`: can ipad reach each cluster, are
 * its credentials accepted, and may it do its work in every namespace it
 * has targets in?
 *
 * Per cluster: GET /version (reachability and the server's version), then
 * per target namespace one SelfSubjectAccessReview
 * (POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews, what
 * `kubectl auth can-i` sends) for each permission ipad uses: get and patch
 * deployments, get and patch deployments/scale (group apps); with
 * watch-ipas, list and watch ipas and patch ipas/status (group
 * ipa.shafinhasnat.me) in each watched namespace or in all; with
 * leader-election, get, create and update leases (coordination.k8s.io)
 * in the lease namespace. With watch-ipas the IPA objects are listed
 * too: the namespaces of their items get rows like the files' targets,
 * and a 404 (the CustomResourceDefinition is not installed) is a problem
 * that names the manifest to apply. A 401 means
 * the credentials are refused. Exec credential plugins run as they would
 * in the daemon. */
#ifndef IPAD_CHECK_H
#define IPAD_CHECK_H

#include <stdio.h>

#include "config.h"
#include "kube.h"
#include "target.h"

/* Check every cluster of cfg (clusters: cfg->cluster_count of them, in
 * the same order) and print a table to out, one line per cluster and
 * namespace, then one line per problem:
 *
 *   CLUSTER  NAMESPACE  SERVER                    VERSION  GET  PATCH  GET-SCALE  PATCH-SCALE
 *   eu       shop       https://eu.example:6443   v1.32.0  yes  yes    yes        no
 *   eu: shop: patch deployments/scale: denied
 *   eu: IPA objects: patch ipas/status in all namespaces: denied
 *   eu: IPA objects: the IPA CustomResourceDefinition is not installed (GET ...: 404); kubectl apply -f ...
 *   eu: leader election: update leases in namespace kube-system: denied
 *
 * Each request takes at most the cluster's request-timeout (an exec
 * plugin's run comes on top). Returns the exit status of
 * `ipad --check-config --online` (sysexits.h): EX_OK (0) when every
 * permission is granted everywhere; EX_UNAVAILABLE (69) when a cluster
 * could not be reached or refused the credentials (its rows say
 * "unreachable" or "unauthorized"; an exec plugin's failure counts so);
 * else EX_NOPERM (77) when a permission is denied or could not be
 * checked, or the IPA CustomResourceDefinition is missing; EX_OSERR (71) when out of memory. */
int check_online(const struct ipad_config *cfg, const struct target_list *targets,
		 struct kube_cluster *clusters, FILE *out);

#endif
