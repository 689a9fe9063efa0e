/* Internal to planner/: a forgiving JSON reader for model answers. */
#ifndef SKY_PLANNER_LENIENT_H
#define SKY_PLANNER_LENIENT_H

#include <jansson.h>
#include <stddef.h>

/*
 * Read one JSON value starting at s[0] (which must be '{' or '['; text
 * after the value is ignored), repairing what models get wrong: trailing
 * and missing commas, comments, single and smart quotes, unquoted keys and
 * bare-word values, Python literals, raw newlines and stray unescaped
 * quotes inside strings, invalid UTF-8, and truncation (open strings,
 * arrays and objects are closed; an array item or a scalar member that was
 * cut off is dropped). An array item or object member that cannot be read
 * at all is skipped up to the next comma at its level, so one garbled item
 * does not lose its neighbours. Each repair sets a SKY_PLANNER_REPAIR_* bit
 * in *repairs.
 *
 * With `mark` set, a dropped array item is not silently removed but
 * replaced by {SKY_LENIENT_TRUNCATED: <what was read>} or
 * {SKY_LENIENT_GARBLED: "<its text>"}, so that the caller can report it at
 * its position (the action parser does; data extraction does not).
 *
 * Returns a new value, or NULL when the text is not JSON-like enough to be
 * repaired. *end (may be NULL) receives the offset just past the value.
 */
#define SKY_LENIENT_TRUNCATED "__sky_truncated"
#define SKY_LENIENT_GARBLED "__sky_garbled"

json_t *sky_planner__json_lenient(const char *s, size_t n, int mark,
                                  size_t *end, unsigned int *repairs);

#endif
