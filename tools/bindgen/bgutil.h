/* bgutil.h - bindgen's private helpers (run.c): an arena and running a program. */
#ifndef HCS_BGUTIL_H
#define HCS_BGUTIL_H

#include <fcntl.h>
#include <stddef.h>

/* Arena allocations: never NULL (out of memory exits with status 2), freed by bg_arena_free. */
void *bg_xrealloc(void *old, size_t size);
void *bg_xcalloc(size_t n, size_t size);
char *bg_strndup(const char *s, size_t n);
char *bg_strdup(const char *s);
void bg_arena_free(void);

/* Run argv (argv[0] searched in PATH) with stderr passed through; *out receives its whole
 * standard output, NUL-terminated (arena). Returns 0, or -1 after saying why on stderr
 * (including a non-zero exit status). */
int bg_run(const char *const argv[], char **out, size_t *outlen);

#endif /* HCS_BGUTIL_H */
