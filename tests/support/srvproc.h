/* Start and stop the built skyengine-server as a child process for tests
 * (loopback only, ephemeral port). */
#ifndef SKYTEST_SRVPROC_H
#define SKYTEST_SRVPROC_H

#include <sys/types.h>

typedef struct skytest_server {
	pid_t pid;
	int port; /* -1: started with --worker-only (no listener) */
	char *data_dir;
	char *log_path; /* the server's stdout+stderr */
} skytest_server;

/*
 * Start skyengine-server with `args` (NULL-terminated extra arguments)
 * on an ephemeral port with `data_dir`. Waits until it listens (bounded).
 * Returns 0 or -1.
 */
int skytest_server_start(skytest_server *s, const char *data_dir,
                         const char *const *args);
/* SIGTERM, wait (bounded, then SIGKILL); returns the exit status or -1. */
int skytest_server_stop(skytest_server *s);
/* SIGKILL and reap (crash tests). */
void skytest_server_kill(skytest_server *s);
/* The server's log so far (malloc'd). */
char *skytest_server_log(const skytest_server *s);

#endif
