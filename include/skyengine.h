/* skyengine: umbrella header for embedders. Include this one. */
#ifndef SKYENGINE_H
#define SKYENGINE_H

#include "skyengine/common.h"
#include "skyengine/version.h"
#include "skyengine/errors.h"
#include "skyengine/log.h"
#include "skyengine/global.h"
#include "skyengine/engine.h"
#include "skyengine/run.h"
#include "skyengine/tasks_api.h"

#endif
