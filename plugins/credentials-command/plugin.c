/*
 * credentials-command: a credentials provider (provider "command") that
 * runs a configured program to resolve a credential reference, so a
 * password manager's CLI (Bitwarden's bw, 1Password's op, pass, a
 * secrets service client) can hold the credentials. The program gets the
 * reference as its last argument (no shell), and answers on stdout with
 * one JSON object of the credential's fields ("username", "password",
 * optionally "totp", ...). Exit status 0 is an answer, 2 means "no such
 * credential", anything else (or a timeout) is a failure. Its stderr is
 * discarded and its output never reaches a log line or an error message.
 * See docs/plugins.md.
 *
 * config "credentials": {"provider": "command",
 *                        "command": ["/usr/local/bin/bw-fields", "--flag"],
 *                        "timeout_ms": 20000}
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <skyengine/plugin/credentials.h>
#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/plugin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COMPONENT "credentials-command"
#define MAX_ARGS 32
#define MAX_OUTPUT (64 * 1024)
#define DEFAULT_TIMEOUT_MS 20000
#define EXIT_NOT_FOUND 2

static const sky_host_api *host;

/* Immutable after create(): resolve() needs no lock. */
struct inst {
	char *argv[MAX_ARGS + 2]; /* the command, the reference, NULL */
	int argc;
	int timeout_ms;
};

static int fail(char **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char **err, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n = snprintf(msg, sizeof msg, COMPONENT ": ");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	if (err)
		*err = host->strdup(msg);
	return code;
}

static void cc_destroy(void *instance)
{
	struct inst *in = instance;
	if (!in)
		return;
	for (int i = 0; i < in->argc; i++)
		free(in->argv[i]);
	free(in);
}

static int cc_create(const sky_host_ctx *ctx, const char *config_json,
                     void **instance, char **err)
{
	(void)ctx;
	*instance = NULL;
	json_t *cfg = json_loads(config_json ? config_json : "{}", 0, NULL);
	json_t *cmd = json_object_get(cfg, "command");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0 ||
	    json_array_size(cmd) > MAX_ARGS) {
		json_decref(cfg);
		return fail(err, SKY_EINVALID,
		            "credentials.command must be a list of 1 to %d "
		            "strings (the program and its arguments)",
		            MAX_ARGS);
	}
	struct inst *in = calloc(1, sizeof *in);
	if (!in) {
		json_decref(cfg);
		return SKY_ENOMEM;
	}
	size_t i;
	json_t *a;
	json_array_foreach (cmd, i, a) {
		if (!json_is_string(a) || !*json_string_value(a)) {
			cc_destroy(in);
			json_decref(cfg);
			return fail(err, SKY_EINVALID,
			            "credentials.command[%zu] is not a "
			            "non-empty string",
			            i);
		}
		in->argv[in->argc++] = strdup(json_string_value(a));
	}
	json_t *t = json_object_get(cfg, "timeout_ms");
	in->timeout_ms = json_is_integer(t) && json_integer_value(t) > 0
	                     ? (int)json_integer_value(t)
	                     : DEFAULT_TIMEOUT_MS;
	json_decref(cfg);
	if (access(in->argv[0], X_OK)) {
		int e = errno;
		char *prog = strdup(in->argv[0]);
		cc_destroy(in);
		int rc = fail(err, SKY_EINVALID,
		              "credentials.command %s cannot be run: %s",
		              prog ? prog : "?", strerror(e));
		free(prog);
		return rc;
	}
	*instance = in;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the command for `ref`; its stdout in *out (malloc'd), exit status
 * in *status (-1: killed at the timeout). */
static int run(const struct inst *in, const char *ref, char **out, size_t *len,
               int *status, char **err)
{
	int fds[2];
	char *argv[MAX_ARGS + 2];
	*out = NULL;
	*len = 0;
	for (int i = 0; i < in->argc; i++)
		argv[i] = in->argv[i];
	argv[in->argc] = (char *)ref;
	argv[in->argc + 1] = NULL;
	if (pipe(fds))
		return fail(err, SKY_EIO, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return fail(err, SKY_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(fds[1], 1);
		dup2(null, 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	char *buf = malloc(MAX_OUTPUT + 1);
	size_t n = 0;
	int64_t until = now_ms() + in->timeout_ms, killed = 0, big = 0;
	for (;;) {
		int64_t left = until - now_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		struct pollfd p = {fds[0], POLLIN, 0};
		int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		if (!buf || n == MAX_OUTPUT) {
			kill(pid, SIGKILL);
			big = 1;
			break;
		}
		ssize_t got = read(fds[0], buf + n, MAX_OUTPUT - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fds[0]);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (killed || big || !buf) {
		if (buf)
			OPENSSL_cleanse(buf, n);
		free(buf);
		return killed ? fail(err, SKY_ETIMEDOUT,
		                     "the command gave no answer within %d ms",
		                     in->timeout_ms)
		       : big  ? fail(err, SKY_ETOOBIG,
		                     "the command answered more than %d bytes",
		                     MAX_OUTPUT)
		              : SKY_ENOMEM;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	return 0;
}

static int cc_resolve(void *instance, const char *reference, char **fields_json,
                      char **err)
{
	const struct inst *in = instance;
	char *out = NULL;
	size_t len = 0;
	int status = 0;
	*fields_json = NULL;
	if (!reference || !*reference)
		return fail(err, SKY_EINVALID, "empty credential reference");
	int rc = run(in, reference, &out, &len, &status, err);
	if (rc)
		return rc;
	json_t *o = status == 0 ? json_loadb(out, len, 0, NULL) : NULL;
	OPENSSL_cleanse(out, len);
	free(out);
	if (status == EXIT_NOT_FOUND) {
		json_decref(o);
		return SKY_ENOTFOUND;
	}
	if (status != 0) {
		json_decref(o);
		return fail(err, SKY_EPLUGIN, "the command failed (exit %d)",
		            status);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return fail(err, SKY_EPLUGIN,
		            "the command did not answer a JSON object");
	}
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return SKY_ENOMEM;
	*fields_json = host->strdup(text);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return *fields_json ? 0 : SKY_ENOMEM;
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_credentials_provider vt = {
	    .name = "command",
	    .create = cc_create,
	    .destroy = cc_destroy,
	    .resolve = cc_resolve,
	};
	(void)err;
	host = api;
	return sky_register_credentials(api, reg, &vt);
}
