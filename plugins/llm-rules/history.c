/* llm-rules: reading the history of earlier steps (what was typed,
 * clicked, submitted) so the planner moves on instead of repeating
 * itself, and notices when it is going round in circles. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

static const char *type_of(const json_t *action)
{
	const char *t =
	    json_string_value(json_object_get(action, "action_type"));
	return t ? t : "";
}

static int succeeded(const json_t *item)
{
	json_t *r = json_object_get(item, "result");
	/* a result-less record (not executed yet) is not a success */
	return json_is_object(r) &&
	       !json_is_false(json_object_get(r, "success"));
}

/* Calls fn on every (action, result item) of every step, oldest first;
 * stops when fn returns non-zero and returns that. */
typedef int (*visit_fn)(const json_t *action, const json_t *item,
                        const json_t *step_actions, size_t index, void *ud);

static int visit(const json_t *history, visit_fn fn, void *ud)
{
	size_t i, k;
	json_t *step, *item;
	json_array_foreach (history, i, step) {
		json_t *acts = json_object_get(step, "actions");
		json_array_foreach (acts, k, item) {
			const json_t *a = json_object_get(item, "action");
			int r = fn(a ? a : item, item, acts, k, ud);
			if (r)
				return r;
		}
	}
	return 0;
}

static int typed_fn(const json_t *a, const json_t *item, const json_t *acts,
                    size_t index, void *ud)
{
	const char *t = json_string_value(json_object_get(a, "text"));
	(void)acts;
	(void)index;
	return !strcasecmp(type_of(a), "input_text") && t &&
	       !strcmp(t, (const char *)ud) && succeeded(item);
}

int sky_rules__history_typed(const json_t *history, const char *text)
{
	return text && visit(history, typed_fn, (void *)text);
}

typedef struct click_q {
	const sky_rules_page *p;
	const char *target;
} click_q;

static int is_click(const json_t *a)
{
	const char *t = type_of(a);
	return !strcasecmp(t, "click") || !strcasecmp(t, "download_file");
}

static int clicked_fn(const json_t *a, const json_t *item, const json_t *acts,
                      size_t index, void *ud)
{
	const click_q *q = ud;
	const char *why = json_string_value(json_object_get(a, "reasoning"));
	(void)acts;
	(void)index;
	if (!is_click(a) || !succeeded(item))
		return 0;
	if (why) {
		char *quoted = sky_rules__printf("\"%s\"", q->target);
		int hit = strcasestr(why, quoted) != NULL;
		free(quoted);
		if (hit)
			return 1;
	}
	const char *id = json_string_value(json_object_get(a, "element_id"));
	if (!id)
		id = json_string_value(json_object_get(a, "id"));
	const sky_rules_el *e = sky_rules__page_find(q->p, id);
	return e && (sky_rules__similarity(q->target, e->text) >= 0.8 ||
	             sky_rules__similarity(q->target, e->label) >= 0.8);
}

int sky_rules__history_clicked(const json_t *history, const sky_rules_page *p,
                               const char *target)
{
	click_q q = {p, target};
	return target && visit(history, clicked_fn, &q);
}

static int submitted_fn(const json_t *a, const json_t *item, const json_t *acts,
                        size_t index, void *ud)
{
	const char *why = json_string_value(json_object_get(a, "reasoning"));
	const char *t = type_of(a);
	(void)ud;
	if (!succeeded(item))
		return 0;
	if (!strcasecmp(t, "input_text") &&
	    json_is_true(json_object_get(a, "press_enter")))
		return 1;
	if (!strcasecmp(t, "keypress") || !is_click(a)) {
		json_t *keys = json_object_get(a, "keys");
		return !strcasecmp(t, "keypress") &&
		       json_is_string(json_array_get(keys, 0)) &&
		       !strcmp(json_string_value(json_array_get(keys, 0)),
		               "Enter");
	}
	if (why && !strncmp(why, "Submit", 6))
		return 1;
	/* a click after typing in the same step */
	for (size_t k = 0; k < index; k++) {
		json_t *prev = json_array_get(acts, k);
		json_t *pa = json_object_get(prev, "action");
		const char *pt = type_of(pa ? pa : prev);
		if (!strcasecmp(pt, "input_text") ||
		    !strcasecmp(pt, "select_option") ||
		    !strcasecmp(pt, "checkbox") ||
		    !strcasecmp(pt, "upload_file"))
			return 1;
	}
	return 0;
}

int sky_rules__history_submitted(const json_t *history)
{
	return visit(history, submitted_fn, NULL);
}

char *sky_rules__actions_signature(const json_t *actions)
{
	sky_rules_buf b = {0};
	size_t i;
	json_t *item;
	json_array_foreach (actions, i, item) {
		const json_t *a = json_object_get(item, "action");
		if (!a)
			a = item;
		const char *id =
		    json_string_value(json_object_get(a, "element_id"));
		if (!id)
			id = json_string_value(json_object_get(a, "id"));
		json_t *opt = json_object_get(a, "option");
		/* action types may come back in another case; values may not */
		for (const char *t = type_of(a); *t; t++) {
			char c = (char)tolower((unsigned char)*t);
			sky_rules__buf_add(&b, &c, 1);
		}
		/* what the action was about: ids are not reused across
		 * documents, so the same form served again has new ids; the
		 * reasoning names the field or control instead */
		const char *why =
		    json_string_value(json_object_get(a, "reasoning"));
		const char *parts[] = {
		    why ? why : id,
		    json_string_value(json_object_get(a, "text")),
		    json_string_value(json_object_get(opt, "label")),
		    json_is_boolean(json_object_get(a, "is_checked"))
		        ? (json_is_true(json_object_get(a, "is_checked"))
		               ? "on"
		               : "off")
		        : NULL,
		    json_string_value(json_object_get(a, "file_url")),
		    json_string_value(json_object_get(a, "url")),
		};
		for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
			sky_rules__buf_add(&b, "|", 1);
			sky_rules__buf_puts(&b, parts[k] ? parts[k] : "");
		}
		sky_rules__buf_add(&b, ";", 1);
	}
	return sky_rules__buf_take(&b);
}

static const json_t *last_step(const json_t *history)
{
	size_t n = json_array_size(history);
	return n ? json_array_get(history, n - 1) : NULL;
}

char *sky_rules__history_last_signature(const json_t *history)
{
	const json_t *s = last_step(history);
	if (!s)
		return NULL;
	return sky_rules__actions_signature(json_object_get(s, "actions"));
}

const char *sky_rules__history_last_error(const json_t *history)
{
	const json_t *s = last_step(history);
	const char *msg = NULL;
	size_t i;
	json_t *item;
	json_array_foreach (json_object_get(s, "actions"), i, item) {
		json_t *r = json_object_get(item, "result");
		if (!json_is_false(json_object_get(r, "success")))
			continue;
		msg = json_string_value(json_object_get(r, "message"));
		if (!msg)
			msg = json_string_value(json_object_get(r, "error"));
	}
	return msg;
}

size_t sky_rules__history_steps(const json_t *history)
{
	return json_array_size(history);
}
