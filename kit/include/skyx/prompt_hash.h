/*
 * skyx: the normalized-prompt hash that keys recorded LLM answers (part of
 * the kit: libc + OpenSSL libcrypto). The library's recorder and the
 * llm-replay plugin both link it: they must agree on every byte. The rules are documented in docs/llm.md; change them only
 * together with a note there (old recordings stop matching by hash).
 */
#ifndef SKYX_PROMPT_HASH_H
#define SKYX_PROMPT_HASH_H

#ifdef __cplusplus
extern "C" {
#	ifdef __cplusplus
}
#	endif

#endif

/* "sha256:" + 64 hex digits + NUL */
#define SKYX_PROMPT_HASH_LEN 72

/*
 * The prompt with its volatile parts replaced and whitespace collapsed:
 *  1. a line mentioning "current time", "current date" or "current
 *     datetime" (any case) becomes "<current-time-line>";
 *  2. ISO-8601 timestamps (2025-04-03T14:08:29.505Z, "2025-04-03 14:08",
 *     with optional seconds, fraction and zone) become "<time>";
 *  3. engine ids (tsk_, tsk_v2_, stp_, wr_, wpid_, pbs_, totp_, act_,
 *     wh_, a_, o_ followed by 10+ digits) become "<id>"; UUIDs become
 *     "<uuid>";
 *  4. the port of a loopback URL (127.0.0.1:PORT, localhost:PORT,
 *     [::1]:PORT) becomes "<port>" (test servers use ephemeral ports),
 *     and the planner's fence nonce (the first 8+ hex digit word within
 *     40 characters after "nonce" on its line) becomes "<nonce>" (it
 *     digests the page, port included);
 *  5. every run of whitespace becomes one space; leading and trailing
 *     whitespace is dropped.
 * Returns a malloc'd string, or NULL on allocation failure. NULL in gives
 * "".
 */
char *skyx_prompt_normalize(const char *prompt);

/*
 * "sha256:<hex>" of normalize(system) + "\n\n" + normalize(prompt) into
 * out. Returns out, or NULL on allocation failure.
 */
char *skyx_prompt_hash(const char *system, const char *prompt,
                       char out[SKYX_PROMPT_HASH_LEN]);

#ifdef __cplusplus
}
#endif

#endif
