/* The action history block of the prompts: every earlier step, the most
 * recent ones verbatim, older ones condensed, within a byte budget.
 * Skyvern shows only the last step; the model then re-discovers what it
 * already did. We show all of them and spend the budget on the recent. */
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "planner/util.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>

#define CAP_TEXT 160
#define CAP_REASON 240
#define CAP_MESSAGE 240
#define CAP_SHORT 32

/* Append s cut to `cap` bytes on a character boundary, quoted when asked,
 * newlines flattened so one action stays on its lines. */
static void put_capped(skyx_buf *b, const char *s, size_t cap, int quote)
{
	char *c = sky_planner__cut(s, cap);
	if (quote)
		skyx_buf_putc(b, '"');
	for (const char *p = c ? c : ""; *p; p++)
		skyx_buf_putc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
	if (quote)
		skyx_buf_putc(b, '"');
	free(c);
}

static int is_masked(const json_t *action)
{
	const char *t = sky_json_str(action, "action_type");
	return (t && !strcmp(t, "verification_code")) ||
	       json_is_true(json_object_get(action, "totp"));
}

/* "input_text #3 "chris@…"": what was done, on one line. */
static void put_action(skyx_buf *b, const json_t *a, size_t text_cap)
{
	const char *type = sky_json_str(a, "action_type");
	const char *id = sky_json_str(a, "element_id");
	skyx_buf_puts(b, type ? type : "unknown");
	if (id)
		skyx_buf_printf(b, " #%s", id);
	/* drag: "drag #4 to #9", "drag (10, 20) to (300, 20)" */
	json_t *from = json_object_get(a, "from"),
	       *to = json_object_get(a, "to");
	const char *tid = sky_json_str(a, "target_element_id");
	if (json_is_object(from))
		skyx_buf_printf(b, " (%.0f, %.0f)",
		                json_number_value(json_object_get(from, "x")),
		                json_number_value(json_object_get(from, "y")));
	if (tid)
		skyx_buf_printf(b, " to #%s", tid);
	else if (json_is_object(to))
		skyx_buf_printf(b, " to (%.0f, %.0f)",
		                json_number_value(json_object_get(to, "x")),
		                json_number_value(json_object_get(to, "y")));
	const char *text = sky_json_str(a, "text");
	if (text) {
		skyx_buf_putc(b, ' ');
		if (is_masked(a))
			skyx_buf_puts(b, "\"******\"");
		else
			put_capped(b, text, text_cap, 1);
	}
	json_t *opt = json_object_get(a, "option");
	if (json_is_object(opt)) {
		const char *l = sky_json_str(opt, "label");
		const char *v = sky_json_str(opt, "value");
		json_t *ix = json_object_get(opt, "index");
		skyx_buf_puts(b, " option ");
		if (l || v)
			put_capped(b, l ? l : v, text_cap, 1);
		else if (json_is_integer(ix))
			skyx_buf_printf(b, "index %" JSON_INTEGER_FORMAT,
			                json_integer_value(ix));
	}
	json_t *chk = json_object_get(a, "is_checked");
	if (json_is_boolean(chk))
		skyx_buf_puts(b, json_is_true(chk) ? " checked" : " unchecked");
	json_t *keys = json_object_get(a, "keys");
	if (json_is_array(keys)) {
		size_t i;
		json_t *k;
		json_array_foreach (keys, i, k) {
			skyx_buf_puts(b, i ? "+" : " ");
			skyx_buf_puts(b, json_string_value(k)
			                     ? json_string_value(k)
			                     : "?");
		}
	}
	const char *dir = sky_json_str(a, "direction");
	if (dir)
		skyx_buf_printf(b, " %s", dir);
	const char *url = sky_json_str(a, "url");
	if (url) {
		skyx_buf_putc(b, ' ');
		put_capped(b, url, text_cap, 0);
	}
	const char *file = sky_json_str(a, "file_url");
	if (!file)
		file = sky_json_str(a, "file_path");
	if (file) {
		skyx_buf_putc(b, ' ');
		put_capped(b, file, text_cap, 0);
	}
	json_t *secs = json_object_get(a, "seconds");
	if (json_is_number(secs))
		skyx_buf_printf(b, " %gs", json_number_value(secs));
	if (json_is_true(json_object_get(a, "double_click")))
		skyx_buf_puts(b, " (double)");
}

/* "ok" or "FAILED covered: ..." */
static void put_result(skyx_buf *b, const json_t *r, int verbose)
{
	if (!json_is_object(r)) {
		skyx_buf_puts(b, "not run");
		return;
	}
	if (json_is_true(json_object_get(r, "success"))) {
		skyx_buf_puts(b, "ok");
		if (!verbose)
			return;
		if (json_is_true(json_object_get(r, "navigated"))) {
			const char *u = sky_json_str(r, "url");
			skyx_buf_puts(b, ", page changed");
			if (u) {
				skyx_buf_puts(b, " to ");
				put_capped(b, u, CAP_TEXT, 0);
			}
		}
		json_t *sel = json_object_get(r, "selected");
		if (json_is_object(sel) && sky_json_str(sel, "text")) {
			skyx_buf_puts(b, ", selected ");
			put_capped(b, sky_json_str(sel, "text"), CAP_SHORT, 1);
		}
		json_t *dl = json_object_get(r, "download");
		if (json_is_object(dl) && sky_json_str(dl, "filename")) {
			skyx_buf_puts(b, ", downloaded ");
			put_capped(b, sky_json_str(dl, "filename"), CAP_TEXT,
			           0);
		}
		json_t *data = json_object_get(r, "data");
		if (data && !json_is_null(data)) {
			char *d = sky_json_dumps(data);
			skyx_buf_puts(b, ", data ");
			put_capped(b, d, CAP_MESSAGE, 0);
			free(d);
		}
		return;
	}
	const char *err = sky_json_str(r, "error");
	skyx_buf_puts(b, "FAILED");
	if (err)
		skyx_buf_printf(b, " %s", err);
	const char *m = sky_json_str(r, "message");
	if (verbose && m) {
		skyx_buf_puts(b, ": ");
		put_capped(b, m, CAP_MESSAGE, 0);
	}
}

static void put_step_title(skyx_buf *b, const json_t *step)
{
	json_int_t order = sky_json_int(step, "order", -1);
	json_int_t retry = sky_json_int(step, "retry_index", 0);
	if (order >= 0)
		skyx_buf_printf(b, "Step %" JSON_INTEGER_FORMAT, order + 1);
	else
		skyx_buf_puts(b, "Step ?");
	if (retry > 0)
		skyx_buf_printf(b, " (attempt %" JSON_INTEGER_FORMAT ")",
		                retry + 1);
}

static char *step_verbatim(const json_t *step)
{
	skyx_buf b = {0};
	put_step_title(&b, step);
	const char *st = sky_json_str(step, "status");
	if (st)
		skyx_buf_printf(&b, ", %s", st);
	const char *url = sky_json_str(step, "url");
	if (url) {
		skyx_buf_puts(&b, ", on ");
		put_capped(&b, url, CAP_TEXT, 0);
	}
	skyx_buf_puts(&b, ":\n");
	json_t *acts = json_object_get(step, "actions");
	size_t i;
	json_t *e;
	if (!json_array_size(acts))
		skyx_buf_puts(&b, "  (no actions)\n");
	json_array_foreach (acts, i, e) {
		json_t *a = json_object_get(e, "action");
		json_t *r = json_object_get(e, "result");
		skyx_buf_printf(&b, "  %zu. ", i + 1);
		put_action(&b, a, CAP_TEXT);
		skyx_buf_puts(&b, " -> ");
		put_result(&b, r, 1);
		skyx_buf_putc(&b, '\n');
		const char *why = sky_json_str(a, "reasoning");
		if (why && *why) {
			skyx_buf_puts(&b, "     why: ");
			put_capped(&b, why, CAP_REASON, 0);
			skyx_buf_putc(&b, '\n');
		}
	}
	return skyx_buf_steal(&b);
}

static char *step_summary(const json_t *step)
{
	skyx_buf b = {0};
	put_step_title(&b, step);
	skyx_buf_puts(&b, ": ");
	json_t *acts = json_object_get(step, "actions");
	size_t i;
	json_t *e;
	if (!json_array_size(acts))
		skyx_buf_puts(&b, "no actions");
	json_array_foreach (acts, i, e) {
		if (i)
			skyx_buf_puts(&b, "; ");
		put_action(&b, json_object_get(e, "action"), CAP_SHORT);
		skyx_buf_putc(&b, ' ');
		put_result(&b, json_object_get(e, "result"), 0);
	}
	skyx_buf_putc(&b, '\n');
	return skyx_buf_steal(&b);
}

/* One line for steps [0, a): counts only. */
static char *aggregate(const json_t *history, size_t a)
{
	size_t total = 0, ok = 0;
	for (size_t s = 0; s < a; s++) {
		json_t *acts =
		    json_object_get(json_array_get(history, s), "actions");
		size_t i;
		json_t *e;
		json_array_foreach (acts, i, e) {
			total++;
			if (json_is_true(json_object_get(
			        json_object_get(e, "result"), "success")))
				ok++;
		}
	}
	json_int_t first = sky_json_int(json_array_get(history, 0), "order", 0);
	json_int_t last =
	    sky_json_int(json_array_get(history, a - 1), "order", 0);
	return skyx_asprintf("Steps %" JSON_INTEGER_FORMAT
	                     "-%" JSON_INTEGER_FORMAT
	                     " (condensed): %zu actions, %zu ok, %zu failed\n",
	                     first + 1, last + 1, total, ok, total - ok);
}

int sky_planner_history_text(const json_t *history, size_t budget, char **out)
{
	*out = NULL;
	if (!history || json_is_null(history) || !json_array_size(history)) {
		*out = skyx_strdup("");
		return *out ? 0 : sky_error_from_code(SKY_ENOMEM);
	}
	if (!json_is_array(history))
		return sky_error_set(SKY_EINVALID,
		                     "history must be a JSON array of steps");
	if (!budget)
		budget = SKY_PLANNER_HISTORY_BUDGET;
	size_t n = json_array_size(history);
	char **verb = calloc(n, sizeof *verb);
	char **sum = calloc(n, sizeof *sum);
	char *agg = NULL;
	int rc = 0;
	if (!verb || !sum) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	size_t vsum = 0, ssum = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *st = json_array_get(history, i);
		if (!json_is_object(st)) {
			rc = sky_error_set(SKY_EINVALID,
			                   "history[%zu] is not a step object",
			                   i);
			goto cleanup;
		}
		verb[i] = step_verbatim(st);
		sum[i] = step_summary(st);
		if (!verb[i] || !sum[i]) {
			rc = sky_error_from_code(SKY_ENOMEM);
			goto cleanup;
		}
		vsum += strlen(verb[i]);
	}
	/* Demote the oldest verbatim steps to one line each, then merge the
	 * oldest one-liners into a count, until the block fits. */
	size_t v = 0, a = 0, agg_len = 0;
	size_t total = vsum;
	while (total > budget && v + 1 < n) {
		total -= strlen(verb[v]);
		total += strlen(sum[v]);
		ssum += strlen(sum[v]);
		v++;
	}
	while (total > budget && a < v) {
		ssum -= strlen(sum[a]);
		a++;
		free(agg);
		agg = aggregate(history, a);
		agg_len = agg ? strlen(agg) : 0;
		total = agg_len + ssum;
		for (size_t i = v; i < n; i++)
			total += strlen(verb[i]);
	}
	skyx_buf b = {0};
	if (a)
		skyx_buf_puts(&b, agg);
	for (size_t i = a; i < v; i++)
		skyx_buf_puts(&b, sum[i]);
	for (size_t i = v; i < n; i++)
		skyx_buf_puts(&b, verb[i]);
	if (b.len > budget && budget > 64) {
		/* The last step alone is bigger than the budget: keep its end,
		 * where the latest results are, from a line start. */
		const char *tail = b.data + b.len - (budget - 32);
		const char *nl = strchr(tail, '\n');
		tail = nl && nl[1] ? nl + 1 : tail;
		char *keep = skyx_strdup(tail);
		skyx_buf_reset(&b);
		skyx_buf_puts(&b, "(earlier lines cut)\n");
		skyx_buf_puts(&b, keep);
		free(keep);
	}
	if (b.oom) {
		skyx_buf_free(&b);
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	*out = skyx_buf_steal(&b);
cleanup:
	for (size_t i = 0; verb && sum && i < n; i++) {
		free(verb[i]);
		free(sum[i]);
	}
	free(verb);
	free(sum);
	free(agg);
	return rc;
}
