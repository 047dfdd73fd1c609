/* context.c - the library context (roots, log level). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "context.h"
#include "util.h"

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    char *runtime_root;
    char *data_root;
    int log_level;
} ctx = {PTHREAD_ONCE_INIT, PTHREAD_MUTEX_INITIALIZER, NULL, NULL, HCS_LOG_WARNING};

static const char *const level_names[] = {"Error", "Warning", "Info", "Debug"};

static char *root_from_env(const char *var, const char *def)
{
    const char *v = getenv(var);
    if (v == NULL || v[0] != '/')
        v = def;
    return strdup(v);
}

static void ctx_init(void)
{
    ctx.runtime_root = root_from_env("HCS_RUNTIME_ROOT", "/run/hcs");
    ctx.data_root = root_from_env("HCS_DATA_ROOT", "/var/lib/hcs");
    const char *lv = getenv("HCS_LOG_LEVEL");
    if (lv != NULL && hcs_log_level_parse(lv) >= 0)
        __atomic_store_n(&ctx.log_level, hcs_log_level_parse(lv), __ATOMIC_RELAXED);
}

static char *dup_locked(char **field)
{
    pthread_once(&ctx.once, ctx_init);
    pthread_mutex_lock(&ctx.lock);
    char *s = *field ? strdup(*field) : NULL;
    pthread_mutex_unlock(&ctx.lock);
    return s;
}

char *hcs_ctx_runtime_root(void)
{
    return dup_locked(&ctx.runtime_root);
}
char *hcs_ctx_data_root(void)
{
    return dup_locked(&ctx.data_root);
}

int hcs_ctx_set_roots(const char *runtime_root, const char *data_root, hcs_error **err)
{
    pthread_once(&ctx.once, ctx_init);
    char *r = runtime_root ? strdup(runtime_root) : NULL;
    char *d = data_root ? strdup(data_root) : NULL;
    if ((runtime_root && !r) || (data_root && !d)) {
        free(r);
        free(d);
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    pthread_mutex_lock(&ctx.lock);
    if (r) {
        free(ctx.runtime_root);
        ctx.runtime_root = r;
    }
    if (d) {
        free(ctx.data_root);
        ctx.data_root = d;
    }
    pthread_mutex_unlock(&ctx.lock);
    return 0;
}

enum hcs_log_level hcs_ctx_log_level(void)
{
    pthread_once(&ctx.once, ctx_init);
    return (enum hcs_log_level)__atomic_load_n(&ctx.log_level, __ATOMIC_RELAXED);
}

void hcs_ctx_set_log_level(enum hcs_log_level level)
{
    pthread_once(&ctx.once, ctx_init);
    __atomic_store_n(&ctx.log_level, (int)level, __ATOMIC_RELAXED);
}

int hcs_log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

const char *hcs_log_level_name(enum hcs_log_level level)
{
    if ((int)level < 0 || (size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
        return "Unknown";
    return level_names[level];
}

void hcs_log(enum hcs_log_level level, const char *fmt, ...)
{
    if (level > hcs_ctx_log_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = hcs_vasprintf(fmt, ap);
    va_end(ap);
    if (msg != NULL)
        fprintf(stderr, "libhcs: %s: %s\n", hcs_log_level_name(level), msg);
    free(msg);
}
