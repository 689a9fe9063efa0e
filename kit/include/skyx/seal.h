/* skyx: authenticated encryption of data at rest (AES-256-GCM over
 * OpenSSL libcrypto; part of the kit). */
#ifndef SKYX_SEAL_H
#define SKYX_SEAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKYX_SEAL_KEY_LEN 32

/*
 * Turn a configured key into 32 key bytes: 64 hex digits or the base64 of
 * 32 bytes are taken as they are; any other text (a passphrase) is hashed
 * with SHA-256, which is weaker than a random key. 0, or -1 for an empty
 * text.
 */
int skyx_seal_key_from_text(const char *text,
                            unsigned char key[SKYX_SEAL_KEY_LEN]);

/*
 * Encrypt `len` bytes. The result is text: "sk1:" then the base64 of a
 * random 12-byte nonce, the ciphertext and the 16-byte tag. `aad` (may
 * be NULL) is authenticated but not stored: the same text must be given
 * to skyx_unseal, which binds a sealed value to its owner (an id) so it
 * cannot be moved to another record. Malloc'd; NULL on failure.
 */
char *skyx_seal(const unsigned char key[SKYX_SEAL_KEY_LEN], const void *plain,
                size_t len, const char *aad);

/*
 * Decrypt a value made by skyx_seal. 0 with *out (malloc'd, NUL-terminated
 * one byte past *out_len; the caller wipes it with OPENSSL_cleanse before
 * freeing when it is a secret) and *out_len; -1 when the text is not a
 * sealed value, was made with another key or aad, or was altered.
 */
int skyx_unseal(const unsigned char key[SKYX_SEAL_KEY_LEN], const char *sealed,
                const char *aad, unsigned char **out, size_t *out_len);

/* 1 if `text` looks like a value made by skyx_seal (its prefix). */
int skyx_is_sealed(const char *text);

#ifdef __cplusplus
}
#endif

#endif
