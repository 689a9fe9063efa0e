/* Fixture: a minimal browser provider, enough for the loader to accept
 * it; every operation answers "unsupported". With {"open_contexts": true}
 * in its config it opens (empty) contexts, so that a run gets as far as
 * its context (tests/unit/check_profiles.c). */
#include <skyengine/plugin/browser.h>
#include <skyengine/plugin/plugin.h>
#include <string.h>

static const sky_host_api *host;

static int fx_create(const sky_host_ctx *ctx, const char *cfg, void **b,
                     char **err)
{
	(void)ctx;
	(void)err;
	char *flag = host->alloc(1);
	*flag = cfg && strstr(cfg, "\"open_contexts\":true") != NULL;
	*b = flag;
	return 0;
}
static void fx_destroy(void *b)
{
	host->free(b);
}
static int fx_open(void *b, const char *o, void **ctx, char **err)
{
	(void)o;
	if (*(const char *)b) {
		*ctx = host->alloc(1);
		return 0;
	}
	*err = host->strdup("fixture browser opens no contexts");
	return SKY_EUNSUPPORTED;
}
static void fx_close(void *ctx)
{
	host->free(ctx);
}
static int fx_nav(void *c, const char *u, const char *o, char **r, char **e)
{
	(void)c;
	(void)u;
	(void)o;
	(void)r;
	(void)e;
	return SKY_EUNSUPPORTED;
}
static int fx_snap(void *c, const char *s, const char *o, char **r, char **e)
{
	(void)c;
	(void)s;
	(void)o;
	(void)r;
	(void)e;
	return SKY_EUNSUPPORTED;
}
static int fx_act(void *c, const char *a, char **r, char **e)
{
	(void)c;
	(void)a;
	(void)r;
	(void)e;
	return SKY_EUNSUPPORTED;
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_browser_provider vt = {
	    .name = "fixture",
	    .create = fx_create,
	    .destroy = fx_destroy,
	    .context_open = fx_open,
	    .context_close = fx_close,
	    .navigate = fx_nav,
	    .snapshot = fx_snap,
	    .act = fx_act,
	};
	(void)err;
	host = api;
	return sky_register_browser(api, reg, &vt);
}
