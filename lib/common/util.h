/* util.h - small string and file helpers shared by every module. */
#ifndef HCS_COMMON_UTIL_H
#define HCS_COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Allocating printf; NULL when out of memory. */
char *hcs_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *hcs_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Levenshtein distance, case-insensitive (for "did you mean" suggestions). */
size_t hcs_edit_distance(const char *a, const char *b);

/* Read a whole (small) file at dirfd/path into a NUL-terminated buffer. */
int hcs_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                     hcs_error **err);

/*
 * Write data to dirfd/name atomically: a temporary file in the same folder, renamed over name.
 * Readers see the old or the new content, never a mix, whatever durable is. durable also
 * fsyncs the file before the rename and the folder after it, so the new content survives a
 * crash of the machine: what the data root keeps (layers) needs that; what lives under the
 * runtime root (state.json, config.json of running systems, normally on tmpfs /run) means
 * nothing after a reboot and passes false (an fsync costs about a millisecond on a disk).
 */
int hcs_write_file_atomic(int dirfd, const char *name, const char *data, size_t len, int mode,
                          bool durable, hcs_error **err);

/* Remove dirfd/name recursively (does not follow symlinks, stays on one filesystem). */
int hcs_remove_tree_at(int dirfd, const char *name, hcs_error **err);

/* Create every missing folder of an absolute path with the given mode. */
int hcs_mkdir_p(const char *path, int mode, hcs_error **err);

/* Monotonic time in milliseconds. */
unsigned long long hcs_now_ms(void);

#endif
