/* store_internal.h - helpers shared by the files of lib/store (private to the module). */
#ifndef HCS_STORE_INTERNAL_H
#define HCS_STORE_INTERNAL_H

#include <cjson/cJSON.h>

#include "common/error.h"

/* "<runtime root>/systems" (caller frees). */
int hcs_store_systems_path(char **out, hcs_error **err);

#endif
