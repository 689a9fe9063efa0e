/* The page module's data side: the embedded script, the id index, the
 * flattened interactable elements and the URL placeholder map. */
#include "page/page.h"

#include <stdlib.h>
#include <string.h>

#include "page/render_internal.h"
#include "util/error.h"
#include "util/resource.h"
#include <skyx/str.h>

const char *sky_page_script(size_t *len)
{
	size_t n = 0;
	const char *s = sky_resource_get("page/snapshot.js", &n);
	if (len)
		*len = n;
	return s;
}

void sky_page_render_options_init(sky_page_render_options *o)
{
	sky_page_render_options d = SKY_PAGE_RENDER_OPTIONS_INIT;
	*o = d;
}

/* Text of an element: its "text", or its text runs and its children's,
 * joined with spaces. */
static void gather_text(json_t *e, skyx_buf *b, size_t cap)
{
	const char *t = json_string_value(json_object_get(e, "text"));
	if (t) {
		if (b->len)
			skyx_buf_putc(b, ' ');
		skyx_buf_puts(b, t);
		return;
	}
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(e, "children"), i, c) {
		if (b->len >= cap)
			return;
		if (json_is_string(c)) {
			const char *s = json_string_value(c);
			if (!strcmp(s, "\n"))
				continue;
			if (b->len)
				skyx_buf_putc(b, ' ');
			skyx_buf_puts(b, s);
		} else {
			gather_text(c, b, cap);
		}
	}
}

static void copy_key(json_t *dst, json_t *src, const char *k)
{
	json_t *v = json_object_get(src, k);
	if (v)
		json_object_set(dst, k, v);
}

static json_t *flat_element(json_t *e)
{
	json_t *f = json_object();
	json_t *attrs = json_object_get(e, "attrs");
	copy_key(f, e, "id");
	copy_key(f, e, "tag");
	copy_key(f, e, "role");
	copy_key(f, attrs, "type");
	copy_key(f, e, "label");
	copy_key(f, attrs, "name");
	copy_key(f, attrs, "placeholder");
	copy_key(f, e, "value");
	copy_key(f, e, "checked");
	copy_key(f, e, "required");
	copy_key(f, e, "disabled");
	copy_key(f, e, "readonly");
	copy_key(f, e, "options");
	copy_key(f, e, "group");
	copy_key(f, attrs, "href");
	copy_key(f, attrs, "for");
	skyx_buf b = {0};
	gather_text(e, &b, 500);
	if (b.len)
		json_object_set_new(f, "text", json_string(b.data));
	skyx_buf_free(&b);
	copy_key(f, e, "in_viewport");
	return f;
}

static void index_walk(sky_page_tree *t, json_t *arr)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		const char *id = json_string_value(json_object_get(e, "id"));
		if (id && !json_object_get(t->index, id)) {
			json_object_set(t->index, id, e);
			json_array_append_new(t->elements, flat_element(e));
		}
		index_walk(t, json_object_get(e, "children"));
	}
}

void sky_page__index(sky_page_tree *t)
{
	t->index = json_object();
	t->elements = json_array();
	index_walk(t, json_object_get(t->snapshot, "elements"));
}

json_t *sky_page_tree_elements(const sky_page_tree *t)
{
	return t ? t->elements : NULL;
}

json_t *sky_page_tree_element(const sky_page_tree *t, const char *id)
{
	return t && id ? json_object_get(t->index, id) : NULL;
}

int sky_page_tree_shown(const sky_page_tree *t, const char *id)
{
	return t && id && json_object_get(t->shown, id) != NULL;
}

json_t *sky_page_tree_snapshot(const sky_page_tree *t)
{
	return t ? t->snapshot : NULL;
}

const char *sky_page_tree_text(const sky_page_tree *t)
{
	return t && t->text ? t->text : "";
}

size_t sky_page_tree_bytes(const sky_page_tree *t)
{
	return t ? t->len : 0;
}

size_t sky_page_tree_tokens(const sky_page_tree *t)
{
	return t ? (t->len + 3) / 4 : 0;
}

int sky_page_tree_cut_level(const sky_page_tree *t)
{
	return t ? t->level : 0;
}

size_t sky_page_tree_url_count(const sky_page_tree *t)
{
	return t ? json_array_size(t->urls) : 0;
}

const char *sky_page_tree_url(const sky_page_tree *t, const char *ph)
{
	if (!t || !ph)
		return NULL;
	if (!strncmp(ph, "{{", 2))
		ph += 2;
	if (ph[0] != 'u')
		return NULL;
	char *end = NULL;
	long n = strtol(ph + 1, &end, 10);
	if (n < 1 || !end || (*end && strcmp(end, "}}")))
		return NULL;
	return json_string_value(json_array_get(t->urls, (size_t)n - 1));
}

char *sky_page_tree_restore_urls(const sky_page_tree *t, const char *text)
{
	skyx_buf b = {0};
	if (!text)
		return NULL;
	for (const char *p = text; *p;) {
		const char *open = strstr(p, "{{u");
		if (!open) {
			skyx_buf_puts(&b, p);
			break;
		}
		const char *close = strstr(open, "}}");
		char key[32];
		size_t klen = close ? (size_t)(close + 2 - open) : 0;
		const char *url = NULL;
		if (close && klen < sizeof key) {
			memcpy(key, open, klen);
			key[klen] = '\0';
			url = sky_page_tree_url(t, key);
		}
		skyx_buf_append(&b, p, (size_t)(open - p));
		if (url) {
			skyx_buf_puts(&b, url);
			p = open + klen;
		} else {
			skyx_buf_puts(&b, "{{");
			p = open + 2;
		}
	}
	if (!b.data)
		return skyx_strdup("");
	return skyx_buf_steal(&b);
}

void sky_page_tree_free(sky_page_tree *t)
{
	if (!t)
		return;
	free(t->text);
	json_decref(t->snapshot);
	json_decref(t->index);
	json_decref(t->elements);
	json_decref(t->urls);
	json_decref(t->url_ids);
	json_decref(t->shown);
	free(t);
}

int sky_page_render(const char *snapshot_json,
                    const sky_page_render_options *opts, sky_page_tree **out)
{
	json_error_t jerr;
	*out = NULL;
	if (!snapshot_json)
		return sky_error_set(SKY_EINVALID, "no snapshot");
	json_t *s = json_loads(snapshot_json, 0, &jerr);
	if (!s)
		return sky_error_set(SKY_EPARSE,
		                     "snapshot is not JSON: %s (line %d)",
		                     jerr.text, jerr.line);
	int rc = sky_page_render_json(s, opts, out);
	json_decref(s);
	return rc;
}
