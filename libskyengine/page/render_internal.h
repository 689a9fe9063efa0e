/* Internal to page/: the element tree object shared by page.c and
 * render.c. */
#ifndef SKY_PAGE_RENDER_INTERNAL_H
#define SKY_PAGE_RENDER_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "page/page.h"

struct sky_page_tree {
	json_t *snapshot; /* referenced */
	char *text;
	size_t len;
	int level;
	json_t *index;    /* id -> element (snapshot object) */
	json_t *elements; /* flattened interactables */
	json_t *urls;     /* placeholder N -> URL at N-1 */
	json_t *url_ids;  /* URL -> N */
	json_t *shown;    /* ids present in the text */
};

/* Build index and elements from t->snapshot. */
void sky_page__index(sky_page_tree *t);

#endif
