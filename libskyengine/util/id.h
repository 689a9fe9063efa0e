/* Internal: ids as Skyvern forms them, "<prefix><64-bit decimal>". */
#ifndef SKY_UTIL_ID_H
#define SKY_UTIL_ID_H

#include <stdint.h>

#define SKY_ID_TASK "tsk_"
#define SKY_ID_TASK_V2 "tsk_v2_"
#define SKY_ID_STEP "stp_"
#define SKY_ID_ORG "o_"
#define SKY_ID_BROWSER_SESSION "pbs_"
#define SKY_ID_BROWSER_PROFILE "bp_"
#define SKY_ID_TOTP "totp_"
#define SKY_ID_ARTIFACT "a_"
#define SKY_ID_WORKFLOW "wpid_"
#define SKY_ID_WORKFLOW_RUN "wr_"
#define SKY_ID_ACTION "act_"
#define SKY_ID_WEBHOOK "wh_"
#define SKY_ID_SCRIPT "s_"
#define SKY_ID_SCRIPT_REVISION "sr_"
#define SKY_ID_CREDENTIAL "cred_"

#define SKY_ID_MAX 48

/*
 * A new 63-bit value unique within this process and, with overwhelming
 * probability, across processes: 41 bits of milliseconds since
 * 2024-01-01, 10 random bits chosen once per process, 12 bits of a
 * sequence (the clock is borrowed from when a millisecond's sequence runs
 * out, so values are strictly increasing within a process). Lock-free.
 */
uint64_t sky_id_next(void);

/* Write prefix + decimal of sky_id_next() into out; returns out. */
char *sky_id_new(const char *prefix, char out[SKY_ID_MAX]);

/* Re-seed the per-process random bits (after fork). */
void sky_id_reseed(void);

/* Use `node` (0..1023) as the node bits from now on: a number the store
 * handed out (sky_store_node_register), unique among live engines, so
 * ids of different hosts never collide. A fork re-seeds randomly. */
void sky_id_set_node(unsigned node);

#endif
