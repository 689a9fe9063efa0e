/* The task and step status machines of design.md §3, as pure functions the
 * store (and anyone else) can ask. */
#include "store/store.h"

#include <string.h>

#include "util/error.h"

static const char *const task_names[SKY_TASK_STATUS_COUNT] = {
    "created", "queued",     "running",   "completed",
    "failed",  "terminated", "timed_out", "canceled",
};

static const char *const step_names[SKY_STEP_STATUS_COUNT] = {
    "created", "running", "completed", "failed", "canceled",
};

#define T(s) (1u << SKY_TASK_##s)
/* Legal targets per source status; finals have none. */
static const unsigned task_moves[SKY_TASK_STATUS_COUNT] = {
    [SKY_TASK_CREATED] =
        T(QUEUED) | T(RUNNING) | T(TIMED_OUT) | T(FAILED) | T(CANCELED),
    [SKY_TASK_QUEUED] = T(RUNNING) | T(TIMED_OUT) | T(FAILED) | T(CANCELED),
    [SKY_TASK_RUNNING] =
        T(COMPLETED) | T(FAILED) | T(TERMINATED) | T(TIMED_OUT) | T(CANCELED),
};
#undef T

#define S(s) (1u << SKY_STEP_##s)
static const unsigned step_moves[SKY_STEP_STATUS_COUNT] = {
    [SKY_STEP_CREATED] = S(RUNNING) | S(FAILED) | S(CANCELED) | S(COMPLETED),
    [SKY_STEP_RUNNING] = S(COMPLETED) | S(FAILED) | S(CANCELED),
};
#undef S

const char *sky_task_status_name(sky_task_status st)
{
	if ((unsigned)st >= SKY_TASK_STATUS_COUNT)
		return "unknown";
	return task_names[st];
}

const char *sky_step_status_name(sky_step_status st)
{
	if ((unsigned)st >= SKY_STEP_STATUS_COUNT)
		return "unknown";
	return step_names[st];
}

static int find_name(const char *const *names, int n, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

int sky_task_status_from_name(const char *name, sky_task_status *out)
{
	int i = find_name(task_names, SKY_TASK_STATUS_COUNT, name);
	if (i < 0)
		return sky_error_set(SKY_EINVALID, "unknown task status '%s'",
		                     name ? name : "(null)");
	*out = (sky_task_status)i;
	return 0;
}

int sky_step_status_from_name(const char *name, sky_step_status *out)
{
	int i = find_name(step_names, SKY_STEP_STATUS_COUNT, name);
	if (i < 0)
		return sky_error_set(SKY_EINVALID, "unknown step status '%s'",
		                     name ? name : "(null)");
	*out = (sky_step_status)i;
	return 0;
}

int sky_task_status_can_transition(sky_task_status from, sky_task_status to)
{
	if ((unsigned)from >= SKY_TASK_STATUS_COUNT ||
	    (unsigned)to >= SKY_TASK_STATUS_COUNT)
		return 0;
	return (task_moves[from] >> to) & 1u;
}

int sky_step_status_can_transition(sky_step_status from, sky_step_status to)
{
	if ((unsigned)from >= SKY_STEP_STATUS_COUNT ||
	    (unsigned)to >= SKY_STEP_STATUS_COUNT)
		return 0;
	return (step_moves[from] >> to) & 1u;
}

int sky_task_status_is_final(sky_task_status st)
{
	return st == SKY_TASK_COMPLETED || st == SKY_TASK_FAILED ||
	       st == SKY_TASK_TERMINATED || st == SKY_TASK_TIMED_OUT ||
	       st == SKY_TASK_CANCELED;
}

int sky_step_status_is_final(sky_step_status st)
{
	return st == SKY_STEP_COMPLETED || st == SKY_STEP_FAILED ||
	       st == SKY_STEP_CANCELED;
}

int sky_task_status_needs_reason(sky_task_status to)
{
	return to == SKY_TASK_FAILED || to == SKY_TASK_TERMINATED;
}
