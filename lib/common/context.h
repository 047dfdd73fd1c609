/*
 * context.h - the one library context: the only mutable global state of libhcs.
 *
 * Holds the runtime root (default /run/hcs, env HCS_RUNTIME_ROOT), the data root (default
 * /var/lib/hcs, env HCS_DATA_ROOT) and the log level (default "Warning", env HCS_LOG_LEVEL).
 * Read from the environment once, on first use; HcsModifyServiceSettings may change them.
 */
#ifndef HCS_COMMON_CONTEXT_H
#define HCS_COMMON_CONTEXT_H

#include "error.h"

enum hcs_log_level { HCS_LOG_ERROR = 0, HCS_LOG_WARNING, HCS_LOG_INFO, HCS_LOG_DEBUG };

/* Copies of the current roots (caller frees); NULL when out of memory. */
char *hcs_ctx_runtime_root(void);
char *hcs_ctx_data_root(void);

/* Replace a root (absolute path; NULL keeps the current value). */
int hcs_ctx_set_roots(const char *runtime_root, const char *data_root, hcs_error **err);

enum hcs_log_level hcs_ctx_log_level(void);
void hcs_ctx_set_log_level(enum hcs_log_level level);
/* Parse "Error", "Warning", "Info", "Debug" (case-insensitive); -1 if unknown. */
int hcs_log_level_parse(const char *s);
const char *hcs_log_level_name(enum hcs_log_level level);

/* Log to stderr as "libhcs: <level>: message" when level is enabled. */
void hcs_log(enum hcs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
