/*
 * browser-cdp: dates and times as people write them ("03/15/2024",
 * "15 Mar 2024", "2:30 PM") -> the value format of <input type=date,
 * datetime-local, month, week, time>. Self-contained (no jansson, no host
 * API) so that the unit tests build it alone.
 */
#ifndef CDP_DATEFMT_H
#define CDP_DATEFMT_H

#include <stddef.h>

/*
 * Convert `text` for an <input> of `type`. Returns 1 with the value in
 * out (n bytes, 32 are enough), 0 when the type takes no conversion
 * (text, color, range: out untouched), -1 when the text is not a date or
 * time that can be read (*format then names the expected one, a static
 * string such as "yyyy-mm-dd (e.g. 2024-03-15)").
 *
 * Numeric dates: yyyy-mm-dd (also with / or .), dd.mm.yyyy, and
 * mm/dd/yyyy or mm-dd-yyyy (day first when the first number is above
 * 12); two-digit years are 19xx from 70 on, else 20xx. Month names and
 * their three-letter forms in English, weekday names ignored
 * ("Friday, March 15th, 2024", "15 Mar 2024"). Times: H:MM[:SS] with an
 * optional am/pm, or "3 pm".
 */
int cdp_date_value(const char *type, const char *text, char *out, size_t n,
                   const char **format);

#endif
