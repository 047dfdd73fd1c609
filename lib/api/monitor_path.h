/* monitor_path.h - where the library finds hcsmon. */
#ifndef HCS_API_MONITOR_PATH_H
#define HCS_API_MONITOR_PATH_H

#include "common/error.h"

/*
 * The monitor binary: $HCS_MONITOR_PATH, else "hcsmon" beside the library (or the program
 * linking it statically) or in ../ of it (the build tree), else ../libexec/hcs/hcsmon relative
 * to it, else HCS_LIBEXECDIR/hcsmon (make install). *out is malloc'ed.
 */
int hcs_monitor_path(char **out, hcs_error **err);

#endif
