/*
 * browser-cdp: launching Chromium with --remote-debugging-pipe. Commands
 * go to the child's fd 3, replies and events come back on fd 4, each
 * message ending with a NUL byte. A reader thread reads fd 4, notices the
 * browser's death at once (EOF) and reaps it.
 */
#include "cdp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct pipe_state {
	int wfd; /* our end of the command pipe */
	int rfd; /* our end of the reply pipe */
	pid_t pid;
	pthread_t reader;
	pthread_mutex_t wlock; /* one writer at a time */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int reader_done;
	int reaped;
};

static const char *const base_flags[] = {
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    /* No back/forward cache: history navigations then load like any
     * other and fire the events settle waits for. No omnibox popup
     * WebUIs: headless never shows them, yet every context's window
     * would keep a renderer process for them. */
    "--disable-features=NetworkTimeServiceQuerying,Translate,"
    "MediaRouter,OptimizationHints,BackForwardCache,WebUIOmniboxPopup,"
    "WebUIOmniboxAimPopup",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--password-store=basic",
    "--use-mock-keychain",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
};

/* Environment variables the browser may see; proxies are left out on
 * purpose (Chromium would use them). */
static const char *const env_keep[] = {
    "PATH=",
    "HOME=",
    "LANG=",
    "LC_ALL=",
    "LC_CTYPE=",
    "TZ=",
    "TMPDIR=",
    "FONTCONFIG_PATH=",
    "FONTCONFIG_FILE=",
    "XDG_RUNTIME_DIR=",
    "DISPLAY=",
    "WAYLAND_DISPLAY=",
};

static char **build_env(void)
{
	size_t n = 0, cap = sizeof env_keep / sizeof *env_keep + 1;
	char **env = calloc(cap, sizeof *env);
	if (!env)
		return NULL;
	for (char **e = environ; e && *e; e++)
		for (size_t i = 0; i < sizeof env_keep / sizeof *env_keep; i++)
			if (!strncmp(*e, env_keep[i], strlen(env_keep[i])) &&
			    n + 1 < cap)
				env[n++] = *e;
	return env;
}

static void reason_of(int status, pid_t pid, char *out, size_t n)
{
	if (WIFSIGNALED(status))
		snprintf(out, n, "Chromium (pid %d) was killed by signal %d",
		         (int)pid, WTERMSIG(status));
	else if (WIFEXITED(status))
		snprintf(out, n, "Chromium (pid %d) exited with status %d",
		         (int)pid, WEXITSTATUS(status));
	else
		snprintf(out, n, "Chromium (pid %d) is gone", (int)pid);
}

/* Split NUL-terminated messages out of the byte stream. */
static void *reader_main(void *arg)
{
	cdp_conn *c = arg;
	struct pipe_state *ps = c->tp_state;
	size_t cap = 256 * 1024, len = 0, scan = 0;
	char *acc = malloc(cap);
	char reason[256] = "the DevTools pipe was closed";

	while (acc) {
		if (cap - len < 65536) {
			char *p = realloc(acc, cap * 2);
			if (!p)
				break;
			acc = p;
			cap *= 2;
		}
		ssize_t r = read(ps->rfd, acc + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		size_t start = 0;
		for (;;) {
			char *nul = memchr(acc + scan, '\0', len - scan);
			if (!nul)
				break;
			size_t mlen = (size_t)(nul - (acc + start));
			char *msg;
			if (start == 0 && mlen + 1 == len) {
				/* the common case: hand the buffer over */
				msg = acc;
				acc = malloc(cap = 256 * 1024);
				len = scan = 0;
				cdp__on_message(c, msg, mlen);
				start = 0;
				if (!acc)
					goto out;
				break;
			}
			msg = malloc(mlen + 1);
			if (!msg)
				goto out;
			memcpy(msg, acc + start, mlen);
			msg[mlen] = '\0';
			cdp__on_message(c, msg, mlen);
			start += mlen + 1;
			scan = start;
		}
		if (start) {
			memmove(acc, acc + start, len - start);
			len -= start;
			scan = 0;
		}
		scan = len;
	}
out:
	free(acc);
	/* The pipe is gone: make sure the whole process group is, then
	 * reap the browser so no zombie is left behind. */
	if (ps->pid > 0) {
		int status = 0;
		kill(-ps->pid, SIGKILL);
		while (waitpid(ps->pid, &status, 0) < 0 && errno == EINTR)
			;
		reason_of(status, ps->pid, reason, sizeof reason);
		pthread_mutex_lock(&ps->lock);
		ps->reaped = 1;
		pthread_mutex_unlock(&ps->lock);
	}
	cdp__on_close(c, reason);
	pthread_mutex_lock(&ps->lock);
	ps->reader_done = 1;
	pthread_cond_broadcast(&ps->cond);
	pthread_mutex_unlock(&ps->lock);
	return NULL;
}

static int pipe_send(cdp_conn *c, const char *msg, size_t len)
{
	struct pipe_state *ps = c->tp_state;
	int rc = 0;
	pthread_mutex_lock(&ps->wlock);
	/* message and terminator in one go */
	const char *parts[2] = {msg, ""};
	size_t lens[2] = {len, 1};
	for (int i = 0; i < 2 && !rc; i++) {
		const char *p = parts[i];
		size_t n = lens[i];
		while (n) {
			ssize_t w = write(ps->wfd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = cdp_fail(
				    SKY_EBROWSER,
				    "writing to the browser failed: %s",
				    strerror(errno));
				break;
			}
			p += w;
			n -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&ps->wlock);
	return rc;
}

static void pipe_shutdown(cdp_conn *c)
{
	struct pipe_state *ps = c->tp_state;
	struct timespec dl;

	pthread_mutex_lock(&c->lock);
	c->closing = 1;
	pthread_mutex_unlock(&c->lock);
	if (!cdp_conn_dead(c))
		cdp_post(c, NULL, "Browser.close", NULL);
	/* Give the browser two seconds to exit on its own. */
	cdp_deadline(&dl, 2000);
	pthread_mutex_lock(&ps->lock);
	while (!ps->reader_done)
		if (pthread_cond_timedwait(&ps->cond, &ps->lock, &dl) ==
		    ETIMEDOUT)
			break;
	int done = ps->reader_done;
	pthread_mutex_unlock(&ps->lock);
	if (!done)
		kill(-ps->pid, SIGKILL); /* the reader sees EOF and reaps */
	pthread_join(ps->reader, NULL);
	close(ps->wfd);
	close(ps->rfd);
	pthread_mutex_destroy(&ps->wlock);
	pthread_mutex_destroy(&ps->lock);
	pthread_cond_destroy(&ps->cond);
	free(ps);
}

static const cdp_transport pipe_transport = {
    .send = pipe_send,
    .shutdown = pipe_shutdown,
    .name = "pipe",
};

static char **build_argv(const cdp_launch *l)
{
	size_t n = 0, cap = 8 + sizeof base_flags / sizeof *base_flags;
	for (char **a = l->args; a && *a; a++)
		cap++;
	char **argv = calloc(cap, sizeof *argv);
	if (!argv)
		return NULL;
	argv[n++] = cdp_strdup(l->path);
	if (l->headless)
		argv[n++] = cdp_strdup("--headless");
	for (size_t i = 0; i < sizeof base_flags / sizeof *base_flags; i++)
		argv[n++] = cdp_strdup(base_flags[i]);
	argv[n++] = cdp_asprintf("--user-data-dir=%s", l->profile_dir);
	if (!l->with_proxy)
		argv[n++] = cdp_strdup("--no-proxy-server");
	argv[n++] = cdp_strdup("--window-size=1280,800");
	for (char **a = l->args; a && *a; a++)
		argv[n++] = cdp_strdup(*a);
	argv[n++] = cdp_strdup("about:blank");
	return argv;
}

static void free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

int cdp_pipe_launch(const cdp_launch *l, cdp_event_fn on_event,
                    cdp_death_fn on_death, void *ud, cdp_conn **out)
{
	int cmd[2] = {-1, -1}, rep[2] = {-1, -1}, hi_r = -1, hi_w = -1;
	int logfd = -1, rc = 0;
	char **argv = NULL, **env = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, all;
	pid_t pid = -1;
	int fa_init = 0, sa_init = 0;

	*out = NULL;
	if (access(l->path, X_OK) < 0)
		return cdp_fail(SKY_EBROWSER,
		                "Chromium not found or not executable at %s "
		                "(set browser.path)",
		                l->path);
	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
		rc = cdp_fail(SKY_EBROWSER, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	/* Move the child's ends above 10 so that dup2 onto 3 and 4 never
	 * clobbers one with the other. */
	hi_r = fcntl(cmd[0], F_DUPFD_CLOEXEC, 10);
	hi_w = fcntl(rep[1], F_DUPFD_CLOEXEC, 10);
	logfd =
	    open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (hi_r < 0 || hi_w < 0) {
		rc = cdp_fail(SKY_EBROWSER, "fcntl: %s", strerror(errno));
		goto cleanup;
	}
	argv = build_argv(l);
	env = build_env();
	if (!argv || !env) {
		rc = cdp_fail(SKY_ENOMEM, "out of memory");
		goto cleanup;
	}
	posix_spawn_file_actions_init(&fa);
	fa_init = 1;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (logfd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, logfd, 1);
		posix_spawn_file_actions_adddup2(&fa, logfd, 2);
	}
	posix_spawn_file_actions_adddup2(&fa, hi_r, 3);
	posix_spawn_file_actions_adddup2(&fa, hi_w, 4);
	/* Nothing else of ours (test servers' sockets, other browsers'
	 * pipes) leaks into the browser. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 5);
	posix_spawnattr_init(&sa);
	sa_init = 1;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &all);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP |
	                                  POSIX_SPAWN_SETSIGMASK |
	                                  POSIX_SPAWN_SETSIGDEF);
	int e = posix_spawn(&pid, l->path, &fa, &sa, argv, env);
	if (e) {
		rc = cdp_fail(SKY_EBROWSER, "could not start %s: %s", l->path,
		              strerror(e));
		pid = -1;
		goto cleanup;
	}

	struct pipe_state *ps = calloc(1, sizeof *ps);
	if (!ps) {
		rc = cdp_fail(SKY_ENOMEM, "out of memory");
		goto cleanup;
	}
	ps->wfd = cmd[1];
	ps->rfd = rep[0];
	ps->pid = pid;
	cmd[1] = rep[0] = -1;
	pthread_mutex_init(&ps->wlock, NULL);
	pthread_mutex_init(&ps->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ps->cond, &ca);
	pthread_condattr_destroy(&ca);
	cdp_conn *c = cdp_conn_new(&pipe_transport, ps, on_event, on_death, ud);
	if (!c || pthread_create(&ps->reader, NULL, reader_main, c)) {
		rc = cdp_fail(SKY_EBROWSER, "could not start the reader");
		free(c);
		close(ps->wfd);
		close(ps->rfd);
		free(ps);
		goto cleanup;
	}
	c->pid = pid;
	pid = -1; /* owned by the reader now */
	*out = c;

cleanup:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	if (sa_init)
		posix_spawnattr_destroy(&sa);
	for (int i = 0; i < 2; i++) {
		if (cmd[i] >= 0)
			close(cmd[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	if (hi_r >= 0)
		close(hi_r);
	if (hi_w >= 0)
		close(hi_w);
	if (logfd >= 0)
		close(logfd);
	free_argv(argv);
	free(env);
	return rc;
}
