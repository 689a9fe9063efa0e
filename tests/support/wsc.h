/*
 * A minimal websocket client for tests: the opening handshake on
 * 127.0.0.1, then whole messages (text, and the close frame's code and
 * reason). Blocking, bounded by a timeout; unfragmented server frames
 * only (what lws sends). Test code.
 */
#ifndef SKYTEST_WSC_H
#define SKYTEST_WSC_H

#include <stddef.h>

typedef struct skytest_ws skytest_ws;

/* Connect to ws://127.0.0.1:port<path>. *status is the HTTP status of the
 * handshake answer (101 when upgraded; 0 when none came). NULL unless
 * upgraded. */
skytest_ws *skytest_ws_connect(int port, const char *path, int *status);

/* The next message: 1 with *text (malloc'd, NUL-terminated) for a text
 * message; 0 when the server closed (*close_code, *close_reason set;
 * 1005 when it gave none, 1006 when the connection just ended); -1 on a
 * timeout. */
int skytest_ws_read(skytest_ws *ws, int timeout_ms, char **text,
                    int *close_code, char **close_reason);
void skytest_ws_close(skytest_ws *ws);

#endif
