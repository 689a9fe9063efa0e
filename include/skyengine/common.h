/* skyengine: export macro and the few types every public header shares. */
#ifndef SKYENGINE_COMMON_H
#define SKYENGINE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#	if defined(SKY_BUILDING_LIBRARY)
#		define SKY_API __declspec(dllexport)
#	else
#		define SKY_API
#	endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#	define SKY_API __attribute__((visibility("default")))
#else
#	define SKY_API
#endif

#ifdef __cplusplus
#	define SKY_BEGIN_DECLS extern "C" {
#	define SKY_END_DECLS }
#else
#	define SKY_BEGIN_DECLS
#	define SKY_END_DECLS
#endif

#if defined(__GNUC__)
#	define SKY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#	define SKY_PRINTF(fmt, args)
#endif

SKY_BEGIN_DECLS

/*
 * Free memory the library handed to the caller: every `char **` result
 * (JSON text, ids, paths). Objects with a type of their own have their own
 * free function (sky_run_free). NULL-safe.
 */
SKY_API void sky_free(void *p);

SKY_END_DECLS

#endif
