/* skyengine: error codes and the thread-local last-error message. */
#ifndef SKYENGINE_ERRORS_H
#define SKYENGINE_ERRORS_H

#include "common.h"

SKY_BEGIN_DECLS

/*
 * Every function that can fail returns int: 0 on success, one of these
 * negative codes on failure. The values are part of the ABI and are never
 * renumbered; new codes are only appended.
 */
typedef enum sky_error_code {
	SKY_OK = 0,
	SKY_ERROR = -1,        /* generic failure; see sky_error_last() */
	SKY_ENOMEM = -2,       /* out of memory */
	SKY_EINVALID = -3,     /* invalid argument or illegal state transition */
	SKY_ENOTFOUND = -4,    /* no such object */
	SKY_EEXISTS = -5,      /* object already exists */
	SKY_EIO = -6,          /* file, database or socket I/O failed */
	SKY_ETIMEDOUT = -7,    /* deadline passed */
	SKY_ECANCELED = -8,    /* operation canceled */
	SKY_EPLUGIN = -9,      /* a plugin could not be found, loaded or used */
	SKY_EABI = -10,        /* plugin ABI mismatch */
	SKY_EUNSUPPORTED = -11, /* feature not supported by this build/provider */
	SKY_EBUSY = -12,       /* resource busy, try later */
	SKY_EBROWSER = -13,    /* the browser failed or died */
	SKY_ELLM = -14,        /* the language model provider failed */
	SKY_EHTTP = -15,       /* HTTP transport or protocol failure */
	SKY_EAUTH = -16,       /* authentication or authorization refused */
	SKY_ETOOBIG = -17,     /* input or response over its size limit */
	SKY_EPARSE = -18,      /* malformed input (JSON, URL, answer) */
	SKY_ECONNREFUSED = -19, /* peer refused or unreachable */
	SKY_ERATELIMIT = -20,  /* peer asked us to slow down (429) */
	SKY_ESHUTDOWN = -21,   /* engine is shutting down */
} sky_error_code;

/*
 * The message that goes with the last failure on this thread, or NULL when
 * none was set. The pointer stays valid until the next failing call on this
 * thread. Messages never contain secrets.
 */
SKY_API const char *sky_error_last(void);

/* The code of the last failure on this thread (SKY_OK when none). */
SKY_API int sky_error_last_code(void);

/* Forget the last error of this thread. */
SKY_API void sky_error_clear(void);

/* Static English text for a code ("invalid argument"); never NULL. */
SKY_API const char *sky_strerror(int code);

SKY_END_DECLS

#endif
