/* Run the built skyengine-server as a child process (see srvproc.h). */
#ifndef _GNU_SOURCE
#	define _GNU_SOURCE
#endif
#include "srvproc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fs.h"
#include <skyx/str.h>

static void nap(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

int skytest_server_start(skytest_server *s, const char *data_dir,
                         const char *const *args)
{
	char *bin = skyx_asprintf("%s/tools/skyengine-server/skyengine-server",
	                          SKY_BINARY_DIR);
	char *port_file = skyx_asprintf("%s/port", data_dir);
	memset(s, 0, sizeof *s);
	s->data_dir = skyx_strdup(data_dir);
	s->log_path = skyx_asprintf("%s/server.log", data_dir);
	sky_mkdir_p(data_dir);
	unlink(port_file);
	const char *argv[64];
	int n = 0;
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--data";
	argv[n++] = data_dir;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid == 0) {
		int fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("SKYENGINE_PLUGIN_PATH", SKY_TEST_PLUGIN_BUILD_DIR, 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	free(bin);
	int worker_only = 0;
	for (int i = 0; args && args[i]; i++)
		worker_only |= !strcmp(args[i], "--worker-only");
	for (int i = 0; i < 1200 && s->pid > 0; i++) { /* 60 s */
		if (worker_only) {
			/* No listener: ready once it says so. */
			char *log = skyx_read_file(s->log_path, NULL);
			int up = log && strstr(log, "no listener");
			free(log);
			if (up) {
				s->port = -1;
				break;
			}
			int st;
			if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			nap(50);
			continue;
		}
		char *p = skyx_read_file(port_file, NULL);
		if (p && atoi(p) > 0) {
			s->port = atoi(p);
			free(p);
			break;
		}
		free(p);
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			break;
		}
		nap(50);
	}
	free(port_file);
	return s->port > 0 || (worker_only && s->port == -1) ? 0 : -1;
}

int skytest_server_stop(skytest_server *s)
{
	int st = -1;
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 400; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		nap(50);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
	return -1;
}

void skytest_server_kill(skytest_server *s)
{
	int st;
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
}

char *skytest_server_log(const skytest_server *s)
{
	return skyx_read_file(s->log_path, NULL);
}
