/* target — one autoscaling target and lists of them. */
#include "target.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *target_key(const struct target *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", t->namespace ? t->namespace : "",
		 t->deployment ? t->deployment : "");
	return buf;
}

void target_free(struct target *t)
{
	free(t->source);
	free(t->cluster);
	free(t->ipa_name);
	free(t->namespace);
	free(t->deployment);
	free(t->ingress);
	free(t->container);
	free(t->prometheus_uri);
	free(t->llm_agent);
	free(t->ipa_namespace);
	free(t->ipa_uid);
	free(t->refused);
	memset(t, 0, sizeof(*t));
}

void target_list_free(struct target_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		target_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Make room for extra more targets. */
static int reserve(struct target_list *l, size_t extra)
{
	if (extra == 0)
		return 0;
	if (l->count > SIZE_MAX / sizeof(*l->items) - extra)
		return -ENOMEM;
	struct target *items = realloc(l->items,
				       (l->count + extra) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	l->items = items;
	return 0;
}

int target_list_append(struct target_list *l, struct target *t)
{
	if (reserve(l, 1) < 0)
		return -ENOMEM;
	l->items[l->count++] = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

int target_list_splice(struct target_list *dst, struct target_list *src)
{
	if (reserve(dst, src->count) < 0)
		return -ENOMEM;
	if (src->count)
		memcpy(dst->items + dst->count, src->items,
		       src->count * sizeof(*src->items));
	dst->count += src->count;
	free(src->items);
	src->items = NULL;
	src->count = 0;
	return 0;
}
