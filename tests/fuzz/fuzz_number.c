/*
 * libFuzzer: numbers as pages write them (agent/number.c), which a replay
 * reads from whatever text a site shows. Whatever the text, the parser
 * answers a finite number or says it is none, and the scanner's numbers
 * lie inside the text and move forward, and each parses the same way.
 */
#include "fuzz.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the hint; the rest is the text, with an
	 * exact-size copy so that reading past its end is caught */
	char hint = size && data[0] % 3 == 1   ? '.'
	            : size && data[0] % 3 == 2 ? ','
	                                       : 0;
	size_t n = size ? size - 1 : 0;
	char *text = malloc(n + 1);
	if (n)
		memcpy(text, data + 1, n);
	text[n] = '\0';
	n = strlen(text); /* the text ends at its first NUL, as in C */

	sky_number num;
	if (sky_agent_number_parse(text, hint, &num) == 0 &&
	    !isfinite(num.value))
		abort();

	size_t from = 0, start = 0, len = 0;
	for (int k = 0; k < 1000 && from <= n; k++) {
		if (!sky_agent_number_next(text, from, &start, &len))
			break;
		/* its prefix (a currency, "(") may reach back into what the
		 * last one took; its digits are ahead, so the scan moves on */
		if (len == 0 || start + len <= from || start + len > n)
			abort();
		char *one = malloc(len + 1);
		memcpy(one, text + start, len);
		one[len] = '\0';
		sky_number v;
		if (sky_agent_number_parse(one, hint, &v) == 0 &&
		    !isfinite(v.value))
			abort();
		free(one);
		from = start + len;
	}
	free(text);
	return 0;
}
