/* store_internal.h - helpers shared by the files of lib/store (private to the module). */
#ifndef HCS_STORE_INTERNAL_H
#define HCS_STORE_INTERNAL_H

#include <cjson/cJSON.h>

#include "common/error.h"

/* "<runtime root>/systems" (caller frees). */
int hcs_store_systems_path(char **out, hcs_error **err);

/*
 * A deep copy of n in which every number read by hcs_json_parse whose source text still agrees
 * with its value becomes a raw node holding that text, so printing keeps all its digits (cJSON
 * prints numbers through a double). NULL when out of memory.
 */
cJSON *hcs_store_json_exact_copy(const cJSON *n);

#endif
