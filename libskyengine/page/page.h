/*
 * Internal: the page module. The page script (snapshot.js, compiled in)
 * that the browser plugin runs in every frame, and the element tree the
 * engine renders from a snapshot for prompts: compact HTML-like text
 * under a token budget, long URLs as {{uN}} placeholders, the flattened
 * list of interactable elements and an id index for validating actions.
 * Formats: docs/internals.md sections 1, 2 and 5.
 */
#ifndef SKY_PAGE_PAGE_H
#define SKY_PAGE_PAGE_H

#include <jansson.h>
#include <stddef.h>

/* The page script's source, NUL-terminated, static; *len without NUL. */
const char *sky_page_script(size_t *len);

#define SKY_PAGE_RENDER_OPTIONS_VERSION 1

typedef struct sky_page_render_options {
	unsigned int version;
	/* Budget for the tree text in tokens (estimated as bytes / 4);
	 * 0 means no limit. */
	size_t max_tokens;
	/* href values longer than this become {{uN}} placeholders. */
	size_t url_max;
	/* Rows kept per table (and items per list) when a cut applies. */
	size_t keep_rows;
} sky_page_render_options;

#define SKY_PAGE_RENDER_OPTIONS_INIT                                           \
	{                                                                      \
		SKY_PAGE_RENDER_OPTIONS_VERSION, 24000, 80, 20                 \
	}
void sky_page_render_options_init(sky_page_render_options *o);

typedef struct sky_page_tree sky_page_tree;

/*
 * Render a snapshot (JSON text). opts may be NULL for the defaults.
 * SKY_EPARSE when the text is not a snapshot object.
 */
int sky_page_render(const char *snapshot_json,
                    const sky_page_render_options *opts, sky_page_tree **out);
/* The same from a parsed snapshot (borrowed; referenced by the tree). */
int sky_page_render_json(json_t *snapshot, const sky_page_render_options *opts,
                         sky_page_tree **out);
void sky_page_tree_free(sky_page_tree *t);

/* The element tree text (borrowed). */
const char *sky_page_tree_text(const sky_page_tree *t);
size_t sky_page_tree_bytes(const sky_page_tree *t);
/* Estimated tokens: ceil(bytes / 4). */
size_t sky_page_tree_tokens(const sky_page_tree *t);
/* How far down the drop order the renderer had to go (0: nothing cut;
 * see render.c). */
int sky_page_tree_cut_level(const sky_page_tree *t);

/* Every interactable element, flattened (internals section 5
 * "elements"), in document order (borrowed). */
json_t *sky_page_tree_elements(const sky_page_tree *t);
/* The snapshot element with this id (borrowed), or NULL. */
json_t *sky_page_tree_element(const sky_page_tree *t, const char *id);
/* 1 if the element with this id appears in the tree text. */
int sky_page_tree_shown(const sky_page_tree *t, const char *id);
/* The snapshot (borrowed). */
json_t *sky_page_tree_snapshot(const sky_page_tree *t);

/* The URL behind "{{u3}}" (or "u3"), borrowed, or NULL. */
const char *sky_page_tree_url(const sky_page_tree *t, const char *placeholder);
size_t sky_page_tree_url_count(const sky_page_tree *t);
/* `text` with every {{uN}} of this tree replaced by its URL (malloc'd);
 * unknown placeholders are left as they are. */
char *sky_page_tree_restore_urls(const sky_page_tree *t, const char *text);

#endif
