/* The plugin host: dlopen, ABI check, registration of size-tagged
 * vtables copied into zeroed structs (OBS-style), and the per-engine host
 * contexts the providers' instances get. */
#include "plugin/loader.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net/http_client.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#ifndef SKY_PLUGIN_INSTALL_DIR
#	define SKY_PLUGIN_INSTALL_DIR "/usr/local/lib/skyengine/plugins"
#endif
/* The install's plugin dir relative to its bin dir ("../lib/skyengine/
 * plugins"): how an installed program finds it from its own file. */
#ifndef SKY_PLUGIN_DIR_FROM_BINDIR
#	define SKY_PLUGIN_DIR_FROM_BINDIR "../lib/skyengine/plugins"
#endif

/* One engine's side of one provider: what its instances reach the
 * engine through. Heap-allocated so that it stays put while the provider
 * array grows. */
struct sky_host_ctx {
	sky_plugins *host;
	char *component; /* "<kind>-<name>", for log lines */
};

struct provider {
	sky_provider_kind kind;
	const char *name; /* borrowed from the vtable copy */
	void *vtable;     /* zeroed full-size copy */
	struct plugin *owner;
	sky_host_ctx *ctx;
};

struct plugin {
	char *path;
	void *handle;
	sky_plugin_unload_fn unload;
};

struct sky_registrar {
	sky_plugins *host;
	struct plugin *plugin;
	int failed;
};

struct sky_plugins {
	pthread_mutex_t lock;
	char *search;            /* ':'-joined directories */
	struct plugin **plugins; /* pointers: providers point at them */
	size_t n_plugins;
	struct provider *providers;
	size_t n_providers;
	/* The engine's side, set by sky_plugins_set_engine() before any
	 * instance exists. cfg_lock: config lookups (jansson may mark a
	 * value it dumps, so concurrent dumps of one value race). */
	pthread_mutex_t cfg_lock;
	json_t *config;
	char *data_dir;
	sky_http_client *http;
};

const char *sky_provider_kind_name(sky_provider_kind kind)
{
	switch (kind) {
	case SKY_PROVIDER_LLM:
		return "llm";
	case SKY_PROVIDER_BROWSER:
		return "browser";
	case SKY_PROVIDER_PROXY:
		return "proxy";
	case SKY_PROVIDER_TOTP:
		return "totp";
	case SKY_PROVIDER_CREDENTIALS:
		return "credentials";
	}
	return "unknown";
}

static size_t vtable_size(sky_provider_kind kind)
{
	switch (kind) {
	case SKY_PROVIDER_LLM:
		return sizeof(sky_llm_provider);
	case SKY_PROVIDER_BROWSER:
		return sizeof(sky_browser_provider);
	case SKY_PROVIDER_PROXY:
		return sizeof(sky_proxy_provider);
	case SKY_PROVIDER_TOTP:
		return sizeof(sky_totp_provider);
	case SKY_PROVIDER_CREDENTIALS:
		return sizeof(sky_credentials_provider);
	}
	return 0;
}

/* Required callbacks per kind; NULL entries make registration fail. */
static const char *vtable_missing(sky_provider_kind kind, const void *vt)
{
	switch (kind) {
	case SKY_PROVIDER_LLM: {
		const sky_llm_provider *p = vt;
		if (!p->create || !p->destroy)
			return "create/destroy";
		if (!p->complete)
			return "complete";
		return NULL;
	}
	case SKY_PROVIDER_BROWSER: {
		const sky_browser_provider *p = vt;
		if (!p->create || !p->destroy)
			return "create/destroy";
		if (!p->context_open || !p->context_close)
			return "context_open/context_close";
		if (!p->navigate || !p->snapshot || !p->act)
			return "navigate/snapshot/act";
		return NULL;
	}
	case SKY_PROVIDER_PROXY: {
		const sky_proxy_provider *p = vt;
		if (!p->create || !p->destroy || !p->resolve)
			return "create/destroy/resolve";
		return NULL;
	}
	case SKY_PROVIDER_TOTP: {
		const sky_totp_provider *p = vt;
		if (!p->create || !p->destroy || !p->get_code)
			return "create/destroy/get_code";
		return NULL;
	}
	case SKY_PROVIDER_CREDENTIALS: {
		const sky_credentials_provider *p = vt;
		if (!p->create || !p->destroy || !p->resolve)
			return "create/destroy/resolve";
		return NULL;
	}
	}
	return "everything";
}

/* --- the host API table ------------------------------------------------ */

static void *host_alloc(size_t n)
{
	return malloc(n ? n : 1);
}

static void *host_realloc(void *p, size_t n)
{
	return realloc(p, n ? n : 1);
}

static void host_free(void *p)
{
	free(p);
}

static char *host_strdup(const char *s)
{
	return skyx_strdup(s);
}

SKY_PRINTF(4, 5)
static void host_log(const sky_host_ctx *host, int level, const char *component,
                     const char *fmt, ...)
{
	va_list ap;
	if (level < SKY_LOG_ERROR)
		level = SKY_LOG_ERROR;
	if (level > SKY_LOG_TRACE)
		level = SKY_LOG_TRACE;
	if (!component)
		component = host ? host->component : "plugin";
	va_start(ap, fmt);
	sky_logv((sky_log_level)level, component, fmt, ap);
	va_end(ap);
}

/* "llm.base_url" -> the engine's config["llm"]["base_url"], else
 * $SKYENGINE_LLM_BASE_URL. Scalars are returned as text. */
static char *host_config_get(const sky_host_ctx *host, const char *key)
{
	char *out = NULL;
	if (!key || !*key)
		return NULL;
	if (host)
		pthread_mutex_lock(&host->host->cfg_lock);
	if (host && host->host->config) {
		json_t *cur = host->host->config;
		char *k = skyx_strdup(key);
		char *save = NULL;
		for (char *t = k ? strtok_r(k, ".", &save) : NULL; t && cur;
		     t = strtok_r(NULL, ".", &save))
			cur = json_object_get(cur, t);
		if (!k)
			cur = NULL;
		free(k);
		if (json_is_string(cur))
			out = skyx_strdup(json_string_value(cur));
		else if (cur && !json_is_null(cur))
			out = sky_json_dumps(cur);
	}
	if (host)
		pthread_mutex_unlock(&host->host->cfg_lock);
	if (out)
		return out;
	skyx_buf env = {0};
	skyx_buf_puts(&env, "SKYENGINE_");
	for (const char *p = key; *p; p++)
		skyx_buf_putc(&env, *p == '.' || *p == '-'
		                        ? '_'
		                        : (char)toupper((unsigned char)*p));
	const char *v = env.data ? getenv(env.data) : NULL;
	skyx_buf_free(&env);
	return v ? skyx_strdup(v) : NULL;
}

static int host_http_request(const sky_host_ctx *host,
                             const sky_http_request *req,
                             sky_http_response **out, char **err)
{
	if (err)
		*err = NULL;
	if (out)
		*out = NULL;
	if (!host || !host->host->http) {
		if (err)
			*err = skyx_strdup("the engine's HTTP client is not "
			                   "running");
		return SKY_ESHUTDOWN;
	}
	return sky_http_client_call(host->host->http, req, out, err);
}

void sky_http_response_free(sky_http_response *resp)
{
	if (!resp)
		return;
	for (size_t i = 0; i < resp->n_headers; i++) {
		free((char *)resp->headers[i].name);
		free((char *)resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->body);
	free(resp);
}

static const char *host_data_dir_get(const sky_host_ctx *host)
{
	return host && host->host->data_dir ? host->host->data_dir : ".";
}

static int host_register(sky_registrar *reg, sky_provider_kind kind,
                         const void *vtable, size_t size);

static const sky_host_api host_api = {
    .size = sizeof(sky_host_api),
    .abi = SKY_PLUGIN_ABI,
    .alloc = host_alloc,
    .realloc = host_realloc,
    .free = host_free,
    .strdup = host_strdup,
    .log = host_log,
    .config_get = host_config_get,
    .http_request = host_http_request,
    .http_response_free = sky_http_response_free,
    .register_provider = host_register,
    .data_dir = host_data_dir_get,
    .now_ms = skyx_time_mono_ms,
};

const sky_host_api *sky_host_api_get(void)
{
	return &host_api;
}

int sky_plugins_set_engine(sky_plugins *p, const char *config_json,
                           const char *data_dir, sky_http_client *http)
{
	json_t *cfg = config_json ? sky_json_loads(config_json) : NULL;
	char *dir = data_dir ? skyx_strdup(data_dir) : NULL;
	if (config_json && !json_is_object(cfg)) {
		json_decref(cfg);
		free(dir);
		return sky_error_set(SKY_EINVALID,
		                     "plugin host: the engine "
		                     "config is not a JSON object");
	}
	if (data_dir && !dir) {
		json_decref(cfg);
		return sky_error_from_code(SKY_ENOMEM);
	}
	pthread_mutex_lock(&p->cfg_lock);
	json_decref(p->config);
	free(p->data_dir);
	p->config = cfg;
	p->data_dir = dir;
	p->http = http;
	pthread_mutex_unlock(&p->cfg_lock);
	return 0;
}

const sky_host_ctx *sky_plugins_ctx(sky_plugins *p, const void *vtable)
{
	const sky_host_ctx *ctx = NULL;
	if (!p || !vtable)
		return NULL;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_providers && !ctx; i++)
		if (p->providers[i].vtable == vtable)
			ctx = p->providers[i].ctx;
	pthread_mutex_unlock(&p->lock);
	return ctx;
}

/* --- registry ------------------------------------------------------------ */

static void ctx_free(sky_host_ctx *ctx)
{
	if (ctx)
		free(ctx->component);
	free(ctx);
}

static int host_register(sky_registrar *reg, sky_provider_kind kind,
                         const void *vtable, size_t size)
{
	sky_plugins *h;
	size_t full = vtable_size(kind);
	const char *file = reg && reg->plugin ? reg->plugin->path : "?";
	if (!reg || !vtable || !full) {
		if (reg)
			reg->failed = 1;
		return sky_error_set(SKY_EINVALID,
		                     "plugin %s: register_provider with an "
		                     "unknown kind (%d) or NULL vtable",
		                     file, (int)kind);
	}
	h = reg->host;
	if (size < sizeof(const char *)) {
		reg->failed = 1;
		return sky_error_set(SKY_EINVALID,
		                     "plugin %s: %s vtable of %zu bytes is too "
		                     "short",
		                     file, sky_provider_kind_name(kind), size);
	}
	void *copy = calloc(1, full);
	if (!copy)
		return sky_error_from_code(SKY_ENOMEM);
	memcpy(copy, vtable, size < full ? size : full);
	const char *name = *(const char *const *)copy;
	const char *missing = vtable_missing(kind, copy);
	if (!name || !*name || missing) {
		free(copy);
		reg->failed = 1;
		return sky_error_set(
		    SKY_EINVALID, "plugin %s: %s provider '%s' lacks %s", file,
		    sky_provider_kind_name(kind), name ? name : "(no name)",
		    missing ? missing : "a name");
	}
	for (size_t i = 0; i < h->n_providers; i++) {
		if (h->providers[i].kind == kind &&
		    !strcmp(h->providers[i].name, name)) {
			free(copy);
			reg->failed = 1;
			return sky_error_set(SKY_EEXISTS,
			                     "plugin %s: %s provider '%s' is "
			                     "already registered by %s",
			                     file, sky_provider_kind_name(kind),
			                     name, h->providers[i].owner->path);
		}
	}
	sky_host_ctx *ctx = calloc(1, sizeof *ctx);
	if (ctx) {
		ctx->host = h;
		ctx->component =
		    skyx_asprintf("%s-%s", sky_provider_kind_name(kind), name);
	}
	struct provider *np =
	    ctx && ctx->component
	        ? realloc(h->providers, (h->n_providers + 1) * sizeof *np)
	        : NULL;
	if (!np) {
		if (ctx)
			free(ctx->component);
		free(ctx);
		free(copy);
		return sky_error_from_code(SKY_ENOMEM);
	}
	h->providers = np;
	np[h->n_providers++] =
	    (struct provider){kind, name, copy, reg->plugin, ctx};
	sky_log_debug("plugins",
	              "%s: registered %s provider '%s' (%zu of %zu "
	              "vtable bytes)",
	              file, sky_provider_kind_name(kind), name, size, full);
	return 0;
}

/*
 * The plugin directory of the installation this library belongs to,
 * found relative to the library file itself (<libdir>/skyengine/plugins
 * beside <libdir>/libskyengine.so), so that an installation moved to
 * another prefix still finds its plugins. NULL when that directory does
 * not exist (a static link, the build tree).
 */
static char *relative_install_dir(void)
{
	Dl_info info;
	struct stat st;
	if (!dladdr((void *)&sky_plugins_new, &info) || !info.dli_fname)
		return NULL;
	char *lib = skyx_strdup(info.dli_fname);
	char *slash = lib ? strrchr(lib, '/') : NULL;
	if (!slash) {
		free(lib);
		return NULL;
	}
	*slash = '\0';
	char *dir = skyx_asprintf("%s/skyengine/plugins", lib);
	free(lib);
	if (!dir || stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static int is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The plugin directories found from the running program's own file
 * (/proc/self/exe), for a program linked with the static library (the
 * server and skyctl are), where the library file tells nothing: the
 * install's <bindir>/../lib/skyengine/plugins, and, when the program
 * runs from the build tree this library was built in, that tree's
 * plugin dir. Appended to `b` with a trailing ':' each, if they exist.
 */
static void add_exe_relative_dirs(skyx_buf *b)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *slash = exe ? strrchr(exe, '/') : NULL;
	if (!slash) {
		free(exe);
		return;
	}
	*slash = '\0';
	char *inst = skyx_asprintf("%s/%s", exe, SKY_PLUGIN_DIR_FROM_BINDIR);
	char *real = inst ? realpath(inst, NULL) : NULL;
	if (is_dir(real) && strcmp(real, SKY_PLUGIN_INSTALL_DIR)) {
		skyx_buf_puts(b, real);
		skyx_buf_putc(b, ':');
	}
	free(real);
	free(inst);
#ifdef SKY_BUILD_TREE_DIR
	/* Only a program inside the build tree: an installed one never
	 * loads plugins from the tree it was built in. */
	char *tree = realpath(SKY_BUILD_TREE_DIR, NULL);
	size_t n = tree ? strlen(tree) : 0;
	*slash = '/';
	if (tree && !strncmp(exe, tree, n) && exe[n] == '/' &&
	    is_dir(SKY_PLUGIN_BUILD_DIR)) {
		skyx_buf_puts(b, SKY_PLUGIN_BUILD_DIR);
		skyx_buf_putc(b, ':');
	}
	free(tree);
#endif
	free(exe);
}

int sky_plugins_new(const char *search_path, sky_plugins **out)
{
	skyx_buf b = {0};
	const char *env = getenv("SKYENGINE_PLUGIN_PATH");
	sky_plugins *p = calloc(1, sizeof *p);
	*out = NULL;
	if (!p)
		return sky_error_from_code(SKY_ENOMEM);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->cfg_lock, NULL);
	if (search_path && *search_path) {
		skyx_buf_puts(&b, search_path);
		skyx_buf_putc(&b, ':');
	}
	if (env && *env) {
		skyx_buf_puts(&b, env);
		skyx_buf_putc(&b, ':');
	}
	char *rel = relative_install_dir();
	if (rel && strcmp(rel, SKY_PLUGIN_INSTALL_DIR)) {
		skyx_buf_puts(&b, rel);
		skyx_buf_putc(&b, ':');
	}
	free(rel);
	add_exe_relative_dirs(&b);
	skyx_buf_puts(&b, SKY_PLUGIN_INSTALL_DIR);
	p->search = skyx_buf_steal(&b);
	if (!p->search) {
		free(p);
		return sky_error_from_code(SKY_ENOMEM);
	}
	*out = p;
	return 0;
}

void sky_plugins_free(sky_plugins *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_providers; i++) {
		free(p->providers[i].vtable);
		ctx_free(p->providers[i].ctx);
	}
	free(p->providers);
	for (size_t i = p->n_plugins; i-- > 0;) {
		struct plugin *pl = p->plugins[i];
		if (pl->unload)
			pl->unload();
		if (pl->handle)
			dlclose(pl->handle);
		free(pl->path);
		free(pl);
	}
	free(p->plugins);
	free(p->search);
	json_decref(p->config);
	free(p->data_dir);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->cfg_lock);
	free(p);
}

const char *sky_plugins_search_path(const sky_plugins *p)
{
	return p->search;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolve a plugin name to a file on the search path; malloc'd or NULL. */
static char *find_file(sky_plugins *p, const char *name)
{
	int has_ext =
	    strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".so");
	char *dirs = skyx_strdup(p->search);
	char *save = NULL, *found = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *cand =
		    skyx_asprintf("%s/%s%s", d, name, has_ext ? "" : ".so");
		if (cand && file_exists(cand))
			found = cand;
		else
			free(cand);
	}
	free(dirs);
	return found;
}

static int load_file(sky_plugins *p, const char *path)
{
	for (size_t i = 0; i < p->n_plugins; i++)
		if (!strcmp(p->plugins[i]->path, path))
			return 0;

	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return sky_error_set(SKY_EPLUGIN, "plugin %s: cannot load: %s",
		                     path, dlerror());

	sky_plugin_abi_fn abi_fn;
	*(void **)&abi_fn = dlsym(h, SKY_PLUGIN_SYM_ABI);
	if (!abi_fn) {
		dlclose(h);
		return sky_error_set(SKY_EPLUGIN,
		                     "plugin %s: not a skyengine plugin (no %s "
		                     "symbol)",
		                     path, SKY_PLUGIN_SYM_ABI);
	}
	uint32_t abi = abi_fn();
	uint32_t maj = SKY_PLUGIN_ABI_GET_MAJOR(abi),
	         min = SKY_PLUGIN_ABI_GET_MINOR(abi);
	/* Same major, minor <= ours: a plugin built against older headers
	 * of this major sees our appended fields as absent. Any other major
	 * has different signatures: it is never called. */
	if (maj != SKY_PLUGIN_ABI_MAJOR || min > SKY_PLUGIN_ABI_MINOR) {
		dlclose(h);
		return sky_error_set(
		    SKY_EABI,
		    "plugin %s: built for plugin ABI %u.%u, this host "
		    "provides %u.%u (%s)",
		    path, maj, min, SKY_PLUGIN_ABI_MAJOR, SKY_PLUGIN_ABI_MINOR,
		    maj < SKY_PLUGIN_ABI_MAJOR
		        ? "major versions differ: the plugin uses an "
		          "old ABI this host no longer supports; "
		          "rebuild it against this skyengine's "
		          "plugin headers"
		    : maj > SKY_PLUGIN_ABI_MAJOR
		        ? "major versions differ: the plugin needs a "
		          "newer skyengine"
		        : "the plugin needs a newer host");
	}

	sky_plugin_load_fn load_fn;
	*(void **)&load_fn = dlsym(h, SKY_PLUGIN_SYM_LOAD);
	if (!load_fn) {
		dlclose(h);
		return sky_error_set(SKY_EPLUGIN,
		                     "plugin %s: missing required symbol %s",
		                     path, SKY_PLUGIN_SYM_LOAD);
	}

	struct plugin **np =
	    realloc(p->plugins, (p->n_plugins + 1) * sizeof *np);
	struct plugin *pl = calloc(1, sizeof *pl);
	if (np)
		p->plugins = np;
	if (!np || !pl || !(pl->path = skyx_strdup(path))) {
		free(pl);
		dlclose(h);
		return sky_error_from_code(SKY_ENOMEM);
	}
	pl->handle = h;
	*(void **)&pl->unload = dlsym(h, SKY_PLUGIN_SYM_UNLOAD);

	size_t before = p->n_providers;
	sky_registrar reg = {p, pl, 0};
	char *err = NULL;
	sky_error_clear();
	int rc = load_fn(&host_api, &reg, &err);
	if (rc == 0 && reg.failed)
		rc =
		    sky_error_last_code() ? sky_error_last_code() : SKY_EPLUGIN;
	if (rc != 0) {
		char detail[512];
		snprintf(detail, sizeof detail, "%s",
		         err                ? err
		         : sky_error_last() ? sky_error_last()
		                            : sky_strerror(rc));
		free(err);
		/* Drop what it registered before failing. */
		for (size_t i = before; i < p->n_providers; i++) {
			free(p->providers[i].vtable);
			ctx_free(p->providers[i].ctx);
		}
		p->n_providers = before;
		if (pl->unload)
			pl->unload();
		dlclose(h);
		free(pl->path);
		free(pl);
		return sky_error_set(SKY_EPLUGIN, "plugin %s: load failed: %s",
		                     path, detail);
	}
	free(err);
	p->plugins[p->n_plugins++] = pl;
	sky_log_info("plugins", "loaded %s", path);
	return 0;
}

int sky_plugins_load(sky_plugins *p, const char *name)
{
	int rc;
	if (!p || !name || !*name)
		return sky_error_set(SKY_EINVALID, "plugin name is empty");
	pthread_mutex_lock(&p->lock);
	if (strchr(name, '/')) {
		if (!file_exists(name))
			rc = sky_error_set(SKY_EPLUGIN,
			                   "plugin %s: no such file", name);
		else
			rc = load_file(p, name);
	} else {
		char *path = find_file(p, name);
		if (!path)
			rc = sky_error_set(SKY_EPLUGIN,
			                   "plugin %s not found (searched: %s)",
			                   name, p->search);
		else
			rc = load_file(p, path);
		free(path);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static const void *find_provider(sky_plugins *p, sky_provider_kind kind,
                                 const char *name)
{
	const void *vt = NULL;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_providers; i++)
		if (p->providers[i].kind == kind &&
		    !strcmp(p->providers[i].name, name))
			vt = p->providers[i].vtable;
	pthread_mutex_unlock(&p->lock);
	return vt;
}

const void *sky_plugins_provider(sky_plugins *p, sky_provider_kind kind,
                                 const char *name)
{
	const void *vt;
	if (!p || !name || !*name) {
		sky_error_set(SKY_EINVALID, "no %s provider name given",
		              sky_provider_kind_name(kind));
		return NULL;
	}
	vt = find_provider(p, kind, name);
	if (vt)
		return vt;
	char *file = skyx_asprintf("%s-%s", sky_provider_kind_name(kind), name);
	int rc = sky_plugins_load(p, file);
	free(file);
	if (rc)
		return NULL;
	vt = find_provider(p, kind, name);
	if (!vt)
		sky_error_set(SKY_EPLUGIN,
		              "plugin %s-%s loaded but registered no %s "
		              "provider named '%s'",
		              sky_provider_kind_name(kind), name,
		              sky_provider_kind_name(kind), name);
	return vt;
}

const sky_llm_provider *sky_plugins_llm(sky_plugins *p, const char *name)
{
	return sky_plugins_provider(p, SKY_PROVIDER_LLM, name);
}

const sky_browser_provider *sky_plugins_browser(sky_plugins *p,
                                                const char *name)
{
	return sky_plugins_provider(p, SKY_PROVIDER_BROWSER, name);
}

const sky_proxy_provider *sky_plugins_proxy(sky_plugins *p, const char *name)
{
	return sky_plugins_provider(p, SKY_PROVIDER_PROXY, name);
}

const sky_totp_provider *sky_plugins_totp(sky_plugins *p, const char *name)
{
	return sky_plugins_provider(p, SKY_PROVIDER_TOTP, name);
}

const sky_credentials_provider *sky_plugins_credentials(sky_plugins *p,
                                                        const char *name)
{
	return sky_plugins_provider(p, SKY_PROVIDER_CREDENTIALS, name);
}
