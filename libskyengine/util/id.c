/* Id generation: time-ordered 63-bit values, unique under concurrency. */
#include "util/id.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include <skyx/time.h>

#define ID_EPOCH_MS 1704067200000LL /* 2024-01-01T00:00:00Z */

/* Last issued (ms << 12 | seq); advanced with compare-and-swap. */
static uint64_t last_stamp;
static uint64_t node_bits; /* 10 bits, set once */
static int node_ready;

void sky_id_reseed(void)
{
	uint16_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		r = (uint16_t)(skyx_time_mono_us() ^ (uint64_t)&r);
	__atomic_store_n(&node_bits, (uint64_t)(r & 0x3ff), __ATOMIC_RELAXED);
	__atomic_store_n(&node_ready, 1, __ATOMIC_RELEASE);
}

void sky_id_set_node(unsigned node)
{
	__atomic_store_n(&node_bits, (uint64_t)(node & 0x3ff),
	                 __ATOMIC_RELAXED);
	__atomic_store_n(&node_ready, 1, __ATOMIC_RELEASE);
}

uint64_t sky_id_next(void)
{
	if (!__atomic_load_n(&node_ready, __ATOMIC_ACQUIRE))
		sky_id_reseed();
	uint64_t now = (uint64_t)(skyx_time_now_ms() - ID_EPOCH_MS) << 12;
	uint64_t prev = __atomic_load_n(&last_stamp, __ATOMIC_RELAXED);
	uint64_t next;
	do {
		next = now > prev ? now : prev + 1;
	} while (!__atomic_compare_exchange_n(
	    &last_stamp, &prev, next, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	uint64_t ms = next >> 12, seq = next & 0xfff;
	uint64_t node = __atomic_load_n(&node_bits, __ATOMIC_RELAXED);
	return ((ms & 0x1ffffffffffULL) << 22) | (node << 12) | seq;
}

char *sky_id_new(const char *prefix, char out[SKY_ID_MAX])
{
	snprintf(out, SKY_ID_MAX, "%s%llu", prefix,
	         (unsigned long long)sky_id_next());
	return out;
}
