/* skyctl's talk to a skyengine-server: one blocking HTTP(S) request over
 * libwebsockets' client. */
#ifndef SKYCTL_REMOTE_H
#define SKYCTL_REMOTE_H

/*
 * `method` `url` with the x-api-key header when `key` is not NULL; gives
 * up after `timeout_s` seconds without progress. Returns 0 with *status
 * and *body (malloc'd, NUL-terminated), or -1 with *err (malloc'd).
 */
int skyctl_remote_request(const char *method, const char *url, const char *key,
                          int timeout_s, int *status, char **body, char **err);

#endif
