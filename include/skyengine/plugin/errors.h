/*
 * skyengine plugin ABI: the error codes. A plugin returns these (negative)
 * from its callbacks; the embedder API (<skyengine/errors.h>) uses the same
 * values, so a plugin never needs the embedder headers.
 */
#ifndef SKYENGINE_PLUGIN_ERRORS_H
#define SKYENGINE_PLUGIN_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every function that can fail returns int: 0 on success, one of these
 * negative codes on failure. The values are part of the ABI and are never
 * renumbered; new codes are only appended.
 */
typedef enum sky_error_code {
	SKY_OK = 0,
	SKY_ERROR = -1,     /* generic failure; see sky_error_last() */
	SKY_ENOMEM = -2,    /* out of memory */
	SKY_EINVALID = -3,  /* invalid argument or illegal state transition */
	SKY_ENOTFOUND = -4, /* no such object */
	SKY_EEXISTS = -5,   /* object already exists */
	SKY_EIO = -6,       /* file, database or socket I/O failed */
	SKY_ETIMEDOUT = -7, /* deadline passed */
	SKY_ECANCELED = -8, /* operation canceled */
	SKY_EPLUGIN = -9,   /* a plugin could not be found, loaded or used */
	SKY_EABI = -10,     /* plugin ABI mismatch */
	SKY_EUNSUPPORTED =
	    -11,            /* feature not supported by this build/provider */
	SKY_EBUSY = -12,    /* resource busy, try later */
	SKY_EBROWSER = -13, /* the browser failed or died */
	SKY_ELLM = -14,     /* the language model provider failed */
	SKY_EHTTP = -15,    /* HTTP transport or protocol failure */
	SKY_EAUTH = -16,    /* authentication or authorization refused */
	SKY_ETOOBIG = -17,  /* input or response over its size limit */
	SKY_EPARSE = -18,   /* malformed input (JSON, URL, answer) */
	SKY_ECONNREFUSED = -19, /* peer refused or unreachable */
	SKY_ERATELIMIT = -20,   /* peer asked us to slow down (429) */
	SKY_ESHUTDOWN = -21,    /* engine is shutting down */
} sky_error_code;

#ifdef __cplusplus
}
#endif

#endif
