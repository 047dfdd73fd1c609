/* store_fixture.h - helpers shared by the store unit tests. */
#ifndef HCS_TEST_STORE_FIXTURE_H
#define HCS_TEST_STORE_FIXTURE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "store/store.h"

/* "<test root>/run/<rel>" (rel "" is the runtime root); caller frees. */
char *fx_run_path(const char *rel);

/* Reserve id, asserting success. */
hcs_store_entry *fx_reserve(const char *id);

/* A complete system: reserved, state written ({Name, SystemType, State, Owner}), released. */
void fx_system(const char *id, const char *name, const char *type, const char *state,
               const char *owner);

/* Write raw text as systems/<id>/<name>, creating systems/<id> if needed. */
void fx_write_raw(const char *id, const char *name, const char *text);

/* Names in a folder (not . and ..) that start with prefix ("" for all). */
size_t fx_count_entries(const char *path, const char *prefix);

/* Permission bits of a path (st_mode & 07777), asserting it exists. */
unsigned fx_mode(const char *path);

/* Enumerate with f, asserting success, and return the Ids joined with ',' (caller frees). */
char *fx_enumerate_ids(const hcs_store_filter *f);

#endif
