/*
 * browser-cdp: the plugin entry points and the browser vtable (provider
 * "cdp"). Each function checks its arguments, calls into the plugin and
 * turns the plugin's thread-local error into the caller's *err.
 */
#include <skyengine/plugin/plugin.h>

#include <stdlib.h>
#include <string.h>

#include "cdp.h"

const sky_host_api *cdp_host;
int cdp_trace;

/* Copy the plugin's last error into *err (host-allocated). */
static int finish(int rc, char **err)
{
	if (rc < 0 && err)
		*err = cdp_host->strdup(cdp_errmsg());
	return rc;
}

/* A malloc'd string into a host-allocated one. */
static char *to_host(char *s)
{
	if (!s)
		return NULL;
	char *h = cdp_host->strdup(s);
	free(s);
	return h;
}

static char *json_to_host(json_t *v)
{
	return to_host(cdp_json_dumps(v));
}

#define NEED(cond, msg)                                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			return finish(cdp_fail(SKY_EINVALID, "%s", msg), err); \
	} while (0)

static int b_create(const sky_host_ctx *host, const char *config_json,
                    void **browser, char **err)
{
	cdp_browser *b = NULL;
	cdp_err_clear();
	NEED(browser, "browser is NULL");
	int rc = cdp_browser_create(host, config_json, &b);
	*browser = b;
	return finish(rc, err);
}

static void b_destroy(void *browser)
{
	cdp_browser_destroy(browser);
}

static int b_context_open(void *browser, const char *options_json,
                          void **context, char **err)
{
	cdp_ctx *ctx = NULL;
	cdp_err_clear();
	NEED(browser && context, "browser or context is NULL");
	int rc = cdp_ctx_open(browser, options_json, &ctx);
	*context = ctx;
	return finish(rc, err);
}

static void b_context_close(void *context)
{
	cdp_ctx_close(context);
}

static int b_navigate(void *context, const char *url, const char *opts_json,
                      char **result_json, char **err)
{
	json_t *res = NULL;
	cdp_err_clear();
	NEED(context && url && result_json, "context, url or result is NULL");
	*result_json = NULL;
	int rc = cdp_navigate(context, url, opts_json, &res);
	if (rc == 0)
		*result_json = json_to_host(res);
	json_decref(res);
	return finish(rc, err);
}

static int b_settle(void *context, const char *opts_json, char **result_json,
                    char **err)
{
	json_t *res = NULL;
	cdp_err_clear();
	NEED(context && result_json, "context or result is NULL");
	*result_json = NULL;
	int rc = cdp_settle(context, opts_json, &res);
	if (rc == 0)
		*result_json = json_to_host(res);
	json_decref(res);
	return finish(rc, err);
}

static int b_snapshot(void *context, const char *page_script,
                      const char *opts_json, char **snapshot_json, char **err)
{
	char *out = NULL;
	cdp_err_clear();
	NEED(context && page_script && snapshot_json,
	     "context, page_script or result is NULL");
	*snapshot_json = NULL;
	int rc = cdp_snapshot(context, page_script, opts_json, &out);
	if (rc == 0)
		*snapshot_json = to_host(out);
	else
		free(out);
	return finish(rc, err);
}

static int b_screenshot(void *context, const char *opts_json,
                        unsigned char **data, size_t *len, char **err)
{
	unsigned char *d = NULL;
	size_t n = 0;
	cdp_err_clear();
	NEED(context && data && len, "context, data or len is NULL");
	*data = NULL;
	*len = 0;
	int rc = cdp_screenshot(context, opts_json, &d, &n);
	if (rc == 0) {
		*data = cdp_host->alloc(n ? n : 1);
		if (!*data) {
			free(d);
			return finish(cdp_fail(SKY_ENOMEM, "out of memory"),
			              err);
		}
		memcpy(*data, d, n);
		*len = n;
	}
	free(d);
	return finish(rc, err);
}

static int b_act(void *context, const char *action_json, char **result_json,
                 char **err)
{
	json_t *res = NULL;
	cdp_err_clear();
	NEED(context && action_json && result_json,
	     "context, action or result is NULL");
	*result_json = NULL;
	int64_t t0 = cdp_now_ms();
	int rc = cdp_act(context, action_json, &res);
	if (rc == 0) {
		cdp_settle_note_action(context, action_json, t0, res);
		*result_json = json_to_host(res);
	}
	json_decref(res);
	return finish(rc, err);
}

static int b_drag(void *context, const char *action_json, char **result_json,
                  char **err)
{
	json_t *res = NULL;
	cdp_err_clear();
	NEED(context && action_json && result_json,
	     "context, drag or result is NULL");
	*result_json = NULL;
	int rc = cdp_drag(context, action_json, &res);
	if (rc == 0)
		*result_json = json_to_host(res);
	json_decref(res);
	return finish(rc, err);
}

static int b_page_state(void *context, char **state_json, char **err)
{
	json_t *res = NULL;
	cdp_err_clear();
	NEED(context && state_json, "context or result is NULL");
	*state_json = NULL;
	int rc = cdp_page_state(context, &res);
	if (rc == 0)
		*state_json = json_to_host(res);
	json_decref(res);
	return finish(rc, err);
}

static int b_evaluate(void *context, const char *expression, char **result_json,
                      char **err)
{
	char *out = NULL;
	cdp_err_clear();
	NEED(context && expression && result_json,
	     "context, expression or result is NULL");
	*result_json = NULL;
	int rc = cdp_evaluate(context, expression, &out);
	if (rc == 0)
		*result_json = to_host(out);
	else
		free(out);
	return finish(rc, err);
}

static int b_set_page_script(void *browser, const char *page_script, char **err)
{
	cdp_err_clear();
	NEED(browser && page_script, "browser or page_script is NULL");
	cdp_browser_set_script(browser, page_script, strlen(page_script));
	return 0;
}

static int b_screencast(void *context, int on, sky_browser_frame_fn frame,
                        void *userdata, char **err)
{
	cdp_err_clear();
	NEED(context && (!on || frame), "context or frame is NULL");
	return finish(cdp_cast(context, on, frame, userdata), err);
}

static int b_state_save(void *context, char **state_json, char **err)
{
	json_t *res = NULL;
	cdp_err_clear();
	NEED(context && state_json, "context or result is NULL");
	*state_json = NULL;
	int rc = cdp_state_save(context, &res);
	if (rc == 0)
		*state_json = json_to_host(res);
	json_decref(res);
	return finish(rc, err);
}

static int b_state_load(void *context, const char *state_json, char **err)
{
	cdp_err_clear();
	NEED(context && state_json, "context or state is NULL");
	return finish(cdp_state_load(context, state_json), err);
}

static const sky_browser_provider provider = {
    .name = "cdp",
    .create = b_create,
    .destroy = b_destroy,
    .context_open = b_context_open,
    .context_close = b_context_close,
    .navigate = b_navigate,
    .settle = b_settle,
    .snapshot = b_snapshot,
    .screenshot = b_screenshot,
    .act = b_act,
    .page_state = b_page_state,
    .evaluate = b_evaluate,
    .set_page_script = b_set_page_script,
    .drag = b_drag,
    .screencast = b_screencast,
    .state_save = b_state_save,
    .state_load = b_state_load,
};

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	if (!api || !api->register_provider || !api->strdup) {
		if (err && api && api->strdup)
			*err = api->strdup("browser-cdp: incomplete host API");
		return SKY_EPLUGIN;
	}
	cdp_host = api;
	const char *lvl = getenv("SKYENGINE_LOG");
	cdp_trace = lvl && !strcmp(lvl, "trace");
	return sky_register_browser(api, reg, &provider);
}
