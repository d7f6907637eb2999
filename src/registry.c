/* registry — see registry.h. */
#include "registry.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ipa.h"

/* One Deployment and who holds it: the claimant is "" for the files, or
 * "CLUSTER/NAMESPACE/NAME" of the IPA object. */
struct holding {
	char *cluster, *namespace, *deployment, *claimant;
};

struct registry {
	struct holding *held;
	size_t count;
};

/* The targets of one IPA object, and the order of its claim. */
struct claim {
	char *claimant;
	char *created;               /* metadata.creationTimestamp, or "" */
	struct target_list targets;
};

struct registry *registry_new(void)
{
	return calloc(1, sizeof(struct registry));
}

static void holdings_free(struct holding *h, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(h[i].cluster);
		free(h[i].namespace);
		free(h[i].deployment);
		free(h[i].claimant);
	}
	free(h);
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	holdings_free(r->held, r->count);
	free(r);
}

static bool same_deployment(const struct target *a, const struct target *b)
{
	return strcmp(a->cluster, b->cluster) == 0 &&
	       strcmp(a->namespace, b->namespace) == 0 &&
	       strcmp(a->deployment, b->deployment) == 0;
}

/* The claimant of t's Deployment at the previous build, or NULL. */
static const char *previous_holder(const struct registry *r, const struct target *t)
{
	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->held[i].cluster, t->cluster) == 0 &&
		    strcmp(r->held[i].namespace, t->namespace) == 0 &&
		    strcmp(r->held[i].deployment, t->deployment) == 0)
			return r->held[i].claimant;
	return NULL;
}

static int compare_claims(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = strcmp(x->created, y->created);
	return c ? c : strcmp(x->claimant, y->claimant);
}

static void claims_free(struct claim *c, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(c[i].claimant);
		free(c[i].created);
		target_list_free(&c[i].targets);
	}
	free(c);
}

void registry_rejections_free(struct registry_rejections *r)
{
	for (size_t i = 0; r && i < r->count; i++) {
		free(r->items[i].namespace);
		free(r->items[i].name);
		free(r->items[i].message);
	}
	if (r) {
		free(r->items);
		r->items = NULL;
		r->count = 0;
	}
}

/* Append the object of cluster c to rejected, with od's first error
 * (without its "cluster NAME: IPA NS/NAME: " prefix). */
static int reject(struct registry_rejections *rejected, int c, const cJSON *md,
		  const struct diag *od)
{
	const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name"));
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(md, "generation");
	const char *msg = "the object is not valid";
	struct registry_rejection *items, *x;

	if (!ns || !name)
		return 0;       /* nowhere to write a status */
	for (size_t i = 0; i < od->count; i++) {
		if (od->is_warning && od->is_warning[i])
			continue;
		msg = od->messages[i];
		/* "cluster C: IPA NS/NAME: " */
		for (int colons = 0; colons < 2 && strstr(msg, ": "); colons++)
			msg = strstr(msg, ": ") + 2;
		break;
	}
	items = realloc(rejected->items, (rejected->count + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	rejected->items = items;
	x = &items[rejected->count];
	*x = (struct registry_rejection){
		.cluster = c, .namespace = strdup(ns), .name = strdup(name),
		.generation = cJSON_IsNumber(gen) && gen->valuedouble >= 1
			? (long long)gen->valuedouble : 1,
		.message = strdup(msg),
	};
	rejected->count++;
	return x->namespace && x->name && x->message ? 0 : -ENOMEM;
}

/* Read the IPA objects of every cluster into claims (sorted); the objects
 * with errors into rejected (may be NULL). */
static int read_claims(const struct ipad_config *cfg, const struct registry_objects *objects,
		       struct claim **out, size_t *count,
		       struct registry_rejections *rejected, struct diag *d)
{
	size_t total = 0, n = 0;
	struct claim *c;

	*out = NULL;
	*count = 0;
	for (int i = 0; objects && i < cfg->cluster_count; i++)
		total += objects[i].count;
	if (total == 0)
		return 0;
	if (!(c = calloc(total, sizeof(*c))))
		return -ENOMEM;
	for (int i = 0; i < cfg->cluster_count; i++) {
		for (size_t j = 0; j < objects[i].count; j++) {
			struct claim *cl = &c[n];
			cJSON *obj = cJSON_Parse(objects[i].objects[j]);
			const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
			const char *ns = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(md, "namespace"));
			const char *name = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(md, "name"));
			const char *created = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(md, "creationTimestamp"));
			int rc = 0;

			if (asprintf(&cl->claimant, "%s/%s/%s", cfg->clusters[i].name,
				     ns ? ns : "", name ? name : "") < 0)
				cl->claimant = NULL;
			cl->created = strdup(created ? created : "");
			if (!cl->claimant || !cl->created) {
				rc = -ENOMEM;
			} else {
				struct diag od = { 0 };

				rc = ipa_load_object(objects[i].objects[j], cfg,
						     &cfg->clusters[i], &cl->targets, &od);
				if (rc == -EINVAL && rejected)
					rc = reject(rejected, i, md, &od);
				for (size_t k = 0; k < od.count; k++)
					(od.is_warning && od.is_warning[k] ? diag_warning : diag_error)
						(d, "%s", od.messages[k]);
				diag_free(&od);
			}
			cJSON_Delete(obj);
			n++;
			if (rc == -ENOMEM) {
				claims_free(c, n);
				return rc;
			}
		}
	}
	qsort(c, n, sizeof(*c), compare_claims);
	*out = c;
	*count = n;
	return 0;
}

/* Append a copy of t to out, refused with a sentence naming holder. */
static int append(struct target_list *out, const struct target *t,
		  const struct target *holder)
{
	struct target copy;

	if (target_copy(&copy, t) < 0)
		return -ENOMEM;
	if (holder) {
		free(copy.refused);
		if (asprintf(&copy.refused, "Deployment %s/%s in cluster %s is already "
			     "managed by %s; this claim is refused while that one "
			     "holds it", t->namespace, t->deployment, t->cluster,
			     holder->source) < 0) {
			copy.refused = NULL;
			target_free(&copy);
			return -ENOMEM;
		}
	}
	if (target_list_append(out, &copy) < 0) {
		target_free(&copy);
		return -ENOMEM;
	}
	return 0;
}

/* The holder of t's Deployment in out so far (not refused), or NULL. */
static const struct target *holder_in(const struct target_list *out, const struct target *t)
{
	for (size_t i = 0; i < out->count; i++)
		if (!out->items[i].refused && same_deployment(&out->items[i], t))
			return &out->items[i];
	return NULL;
}

/* The claimant name of t (see struct holding). */
static const char *claimant_of(const struct claim *claims, size_t count, const struct target *t)
{
	for (size_t i = 0; i < count; i++)
		if (t >= claims[i].targets.items &&
		    t < claims[i].targets.items + claims[i].targets.count)
			return claims[i].claimant;
	return "";
}

/* Who holds what in out, for the next build. */
static int remember(struct registry *r, const struct target_list *out,
		    const struct claim *claims, size_t nclaims,
		    const struct target *const *origin)
{
	struct holding *h = calloc(out->count + 1, sizeof(*h));
	size_t n = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < out->count; i++) {
		const struct target *t = &out->items[i];
		if (t->refused)
			continue;
		h[n].cluster = strdup(t->cluster);
		h[n].namespace = strdup(t->namespace);
		h[n].deployment = strdup(t->deployment);
		h[n].claimant = strdup(claimant_of(claims, nclaims, origin[i]));
		n++;
		if (!h[n - 1].cluster || !h[n - 1].namespace || !h[n - 1].deployment ||
		    !h[n - 1].claimant) {
			holdings_free(h, n);
			return -ENOMEM;
		}
	}
	holdings_free(r->held, r->count);
	r->held = h;
	r->count = n;
	return 0;
}

int registry_build(struct registry *r, const struct ipad_config *cfg,
		   const struct target_list *files,
		   const struct registry_objects *objects,
		   struct target_list *out, struct registry_rejections *rejected,
		   struct diag *d)
{
	struct claim *claims;
	size_t nclaims, total, n = 0;
	const struct target **order = NULL, **origin = NULL;
	int rc = read_claims(cfg, objects, &claims, &nclaims, rejected, d);

	if (rc < 0) {
		registry_rejections_free(rejected);
		return rc;
	}
	/* Every candidate in claim order: files, then objects. */
	total = files->count;
	for (size_t i = 0; i < nclaims; i++)
		total += claims[i].targets.count;
	order = calloc(total + 1, sizeof(*order));
	origin = calloc(total + 1, sizeof(*origin));
	if (!order || !origin) {
		rc = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < files->count; i++)
		order[n++] = &files->items[i];
	for (size_t i = 0; i < nclaims; i++)
		for (size_t j = 0; j < claims[i].targets.count; j++)
			order[n++] = &claims[i].targets.items[j];

	/* First who held the Deployment before keeps it; then the order. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (size_t i = 0; i < total && rc == 0; i++) {
			const struct target *t = order[i];
			const char *prev;

			if (!t)
				continue;
			prev = previous_holder(r, t);
			if ((prev && strcmp(prev, claimant_of(claims, nclaims, t)) == 0) !=
			    (pass == 0))
				continue;
			origin[out->count] = t;
			rc = append(out, t, holder_in(out, t));
			order[i] = NULL;
		}
	}
	if (rc == 0)
		rc = remember(r, out, claims, nclaims, origin);
done:
	if (rc < 0) {
		target_list_free(out);
		registry_rejections_free(rejected);
	}
	free(order);
	free(origin);
	claims_free(claims, nclaims);
	return rc;
}
