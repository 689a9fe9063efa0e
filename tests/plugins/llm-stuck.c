/* Fixture: an LLM provider that never returns when the prompt holds
 * "[hang]" (it waits, without burning a core, until the file named by the
 * config key stuck.release_file exists; it creates "<that file>.in" when
 * it starts waiting), and otherwise answers COMPLETE.
 * Stands for any provider or engine code that gets stuck: the engine's
 * watchdog must end the run, keep its worker pool whole, and shut down
 * without waiting for it. */
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const sky_host_api *host;

static int st_create(const sky_host_ctx *ctx, const char *config_json,
                     void **inst, char **err)
{
	(void)config_json;
	(void)err;
	*inst = host->config_get(ctx, "stuck.release_file");
	return 0;
}

static void st_destroy(void *inst)
{
	host->free(inst);
}

static int st_complete(void *inst, const sky_llm_request *req,
                       sky_llm_response *resp, char **err)
{
	(void)err;
	const char *release = inst;
	if (req->prompt && strstr(req->prompt, "[hang]")) {
		struct timespec ts = {0, 20 * 1000000L};
		/* Tell the test the call is inside: "<release_file>.in". */
		char in[4096];
		if (release && snprintf(in, sizeof in, "%s.in", release) <
		                   (int)sizeof in) {
			FILE *f = fopen(in, "w");
			if (f)
				fclose(f);
		}
		while (!release || access(release, F_OK) != 0)
			nanosleep(&ts, NULL);
	}
	resp->text = host->strdup("{\"actions\":[{\"action_type\":\"complete\","
	                          "\"reasoning\":\"the page is read\"}]}");
	resp->input_tokens = 10;
	resp->output_tokens = 5;
	resp->cost = -1;
	return 0;
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_llm_provider vt = {
	    .name = "stuck",
	    .create = st_create,
	    .destroy = st_destroy,
	    .complete = st_complete,
	};
	(void)err;
	host = api;
	return sky_register_llm(api, reg, &vt);
}
