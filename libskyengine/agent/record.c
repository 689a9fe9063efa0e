/* The agent's records: artifact files beside the store rows, the list of
 * recent errors used in failure reasons, the recording page, and the
 * check for timeout. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

int sky_agent_timed_out(sky_run *r)
{
	return r->deadline_ms && skyx_time_mono_ms() >= r->deadline_ms;
}

void sky_agent_note_error(sky_run *r, const char *fmt, ...)
{
	va_list ap;
	skyx_buf b = {0};
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *msg = skyx_buf_steal(&b);
	if (!msg)
		return;
	char *clean = sky_redact(msg);
	free(msg);
	if (!clean)
		return;
	free(r->last_error);
	r->last_error = skyx_strdup(clean);
	json_array_append_new(r->recent_errors, json_string(clean));
	while (json_array_size(r->recent_errors) > 5)
		json_array_remove(r->recent_errors, 0);
	free(clean);
}

/*
 * Write an artifact of the current step (or of the run when there is no
 * step) under runs/<id>/ and index it in the store. Text artifacts are
 * redacted of every registered secret first.
 */
int sky_agent_artifact(sky_run *r, const char *kind, const char *name,
                       const void *data, size_t len, int redact)
{
	char *rel, *abs, *clean = NULL;
	char hex[SKYX_SHA256_HEX_LEN];
	int rc;
	if (r->step)
		rel =
		    skyx_asprintf("runs/%s/steps/%03d-%d/%s", r->task->task_id,
		                  r->step->order, r->step->retry_index, name);
	else
		rel = skyx_asprintf("runs/%s/%s", r->task->task_id, name);
	if (!rel)
		return sky_error_from_code(SKY_ENOMEM);
	abs = skyx_path_join(sky_agent_root(r->env), rel);
	/* Run-level artifacts repeat (a task v2 plans many times): a later
	 * one must not overwrite the file an earlier one indexes. */
	for (int k = 2; !r->step && abs && access(abs, F_OK) == 0; k++) {
		free(rel);
		free(abs);
		abs = NULL;
		rel = skyx_asprintf("runs/%s/%d-%s", r->task->task_id, k, name);
		if (!rel)
			return sky_error_from_code(SKY_ENOMEM);
		abs = skyx_path_join(sky_agent_root(r->env), rel);
	}
	char *dir = abs ? skyx_strdup(abs) : NULL;
	if (dir && strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	if (redact) {
		char *tmp = skyx_strndup(data, len);
		clean = sky_redact(tmp);
		free(tmp);
		if (clean) {
			data = clean;
			len = strlen(clean);
		}
	}
	rc = !abs || !dir ? sky_error_from_code(SKY_ENOMEM) : sky_mkdir_p(dir);
	if (!rc)
		rc = sky_write_file(abs, data, len);
	if (!rc)
		rc = sky_store_artifact_add(
		    r->env->store, r->task->task_id,
		    r->step ? r->step->step_id : NULL, kind, rel, (int64_t)len,
		    skyx_sha256_hex(data, len, hex), NULL);
	if (rc)
		sky_log_warn("agent", "run %s: artifact %s not saved: %s",
		             r->task->task_id, rel, sky_error_last());
	free(clean);
	free(dir);
	free(abs);
	free(rel);
	return rc;
}

char *sky_agent_failure_summary(sky_run *r)
{
	skyx_buf b = {0};
	size_t i;
	json_t *v;
	if (!json_array_size(r->recent_errors))
		return skyx_strdup(
		    "no action failed; the goal was not reached");
	json_array_foreach (r->recent_errors, i, v) {
		if (i)
			skyx_buf_puts(&b, "; ");
		skyx_buf_puts(&b, json_string_value(v));
	}
	return skyx_buf_steal(&b);
}

/*
 * A self-contained filmstrip of the run for people who embed the engine
 * without the server: every step's screenshot with the actions taken and
 * their results. The server renders its own live viewer.
 */
int sky_agent_write_recording(sky_run *r)
{
	sky_step_list *steps = NULL;
	sky_artifact_list *shots = NULL;
	sky_action_list *acts = NULL;
	sky_task_rec *t = NULL;
	skyx_buf b = {0};
	const char *id = r->task->task_id;
	if (sky_store_step_list(r->env->store, id, &steps) ||
	    sky_store_artifact_list(r->env->store, id,
	                            SKY_ARTIFACT_SCREENSHOT_LLM, &shots) ||
	    sky_store_action_list(r->env->store, id, NULL, &acts) ||
	    sky_store_task_get(r->env->store, NULL, id, &t))
		goto out;
	skyx_buf_puts(&b, "<!doctype html><meta charset=utf-8><title>Run ");
	skyx_buf_html(&b, id);
	skyx_buf_puts(&b,
	              "</title><style>body{font:14px sans-serif;margin:2em}"
	              ".step{display:flex;gap:1em;margin:1em 0;border-top:"
	              "1px solid #ccc;padding-top:1em}img{max-width:480px;"
	              "border:1px solid #999}.ok{color:#060}.bad{color:#a00}"
	              "pre{white-space:pre-wrap}</style><h1>Run ");
	skyx_buf_html(&b, id);
	skyx_buf_puts(&b, "</h1><p>Status: <b>");
	skyx_buf_html(&b, sky_task_status_name(t->status));
	skyx_buf_puts(&b, "</b></p><p>Goal: ");
	skyx_buf_html(&b, t->prompt);
	skyx_buf_puts(&b, "</p>");
	if (t->failure_reason) {
		skyx_buf_puts(&b, "<p class=bad>");
		skyx_buf_html(&b, t->failure_reason);
		skyx_buf_puts(&b, "</p>");
	}
	if (t->output) {
		skyx_buf_puts(&b, "<p>Output:</p><pre>");
		skyx_buf_html(&b, t->output);
		skyx_buf_puts(&b, "</pre>");
	}
	for (size_t i = 0; i < steps->count; i++) {
		const sky_step_rec *st = &steps->items[i];
		skyx_buf_printf(&b, "<div class=step><div><h3>Step %d%s</h3>",
		                st->order, st->retry_index ? " (retry)" : "");
		for (size_t k = 0; k < shots->count; k++) {
			if (shots->items[k].step_id &&
			    !strcmp(shots->items[k].step_id, st->step_id)) {
				/* Relative to runs/<id>/recording.html. */
				const char *p = shots->items[k].path;
				const char *rel = strstr(p, "/steps/");
				skyx_buf_puts(&b, "<img src=\".");
				skyx_buf_html(&b, rel ? rel : p);
				skyx_buf_puts(&b, "\">");
			}
		}
		skyx_buf_puts(&b, "</div><div><p>");
		skyx_buf_html(&b, sky_step_status_name(st->status));
		skyx_buf_puts(&b, "</p><ol>");
		for (size_t k = 0; k < acts->count; k++) {
			const sky_action_rec *a = &acts->items[k];
			if (strcmp(a->step_id, st->step_id))
				continue;
			json_t *res = sky_json_loads(a->result);
			int ok = sky_json_bool(res, "success", 0);
			skyx_buf_printf(&b, "<li class=%s>", ok ? "ok" : "bad");
			skyx_buf_html(&b, a->action_type);
			if (a->element_id) {
				skyx_buf_puts(&b, " #");
				skyx_buf_html(&b, a->element_id);
			}
			const char *msg = sky_json_str(res, "message");
			if (msg) {
				skyx_buf_puts(&b, " — ");
				skyx_buf_html(&b, msg);
			}
			skyx_buf_puts(&b, "</li>");
			json_decref(res);
		}
		skyx_buf_puts(&b, "</ol></div></div>");
	}
	if (!b.oom) {
		sky_step_rec *keep = r->step;
		r->step = NULL; /* a run-level artifact */
		sky_agent_artifact(r, SKY_ARTIFACT_RECORDING, "recording.html",
		                   b.data, b.len, 1);
		r->step = keep;
	}
out:
	skyx_buf_free(&b);
	sky_task_rec_free(t);
	sky_step_list_free(steps);
	sky_artifact_list_free(shots);
	sky_action_list_free(acts);
	return 0;
}
