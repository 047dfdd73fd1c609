/*
 * pool.h - the library's worker threads.
 *
 * Tracked calls run their work here, and completion callbacks run on the worker that finished
 * the work. Threads start on demand (up to HCS_POOL_MAX_THREADS; further work waits in a queue)
 * and exit after a few idle seconds, so an idle library holds no thread.
 */
#ifndef HCS_API_POOL_H
#define HCS_API_POOL_H

#include "common/error.h"

#define HCS_POOL_MAX_THREADS 64

/* Queue fn(arg) to run on a library thread. Fails only when out of memory or threads. */
int hcs_pool_submit(void (*fn)(void *arg), void *arg, hcs_error **err);

/* Number of library threads alive now (for tests). */
int hcs_pool_threads(void);

#endif
