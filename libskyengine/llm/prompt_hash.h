/* Internal: the normalized-prompt hash that keys recorded LLM answers; the
 * kit's (skyx/prompt_hash.h) under the library's names until the call
 * sites are renamed. */
#ifndef SKY_LLM_PROMPT_HASH_H
#define SKY_LLM_PROMPT_HASH_H

#include <skyx/prompt_hash.h>

#define SKY_LLM_PROMPT_HASH_LEN SKYX_PROMPT_HASH_LEN
#define sky_llm_prompt_normalize skyx_prompt_normalize
#define sky_llm_prompt_hash skyx_prompt_hash

#endif
