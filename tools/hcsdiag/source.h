/*
 * source.h - an image source for `hcsdiag image import`: a folder (an OCI image layout, or an
 * unpacked docker-archive), or a tar of one, unpacked safely into a temporary folder under the
 * layer store first. Files are opened with every symlink resolved inside the folder.
 */
#ifndef HCSDIAG_SOURCE_H
#define HCSDIAG_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct hd_source {
    const char *name; /* SOURCE as given, for messages */
    int dirfd;        /* the folder */
    char *tmpdir;     /* the unpacked copy of a tar source (removed by close), or NULL */
} hd_source;

/*
 * Open source. A tar (plain, gzip, zstd, ...) is unpacked into store/.hcsdiag-<pid>-XXXXXX:
 * only folders, regular files, symlinks and hard links, names with no ".." and not absolute.
 * Temporary folders of dead hcsdiag processes in store are removed first.
 */
int hd_source_open(const char *source, const char *store, hd_source *out, hcs_error **err);
void hd_source_close(hd_source *s);

/* Whether path exists in the source (symlinks followed inside it). */
bool hd_source_exists(const hd_source *s, const char *path);

/*
 * Open path (relative to the source's folder; symlinks resolved inside it, never out) for
 * reading. *final (may be NULL) gets the name of the file finally opened, after symlinks
 * (caller frees).
 */
int hd_source_open_file(const hd_source *s, const char *path, int *fd, char **final,
                        hcs_error **err);

/*
 * Read the small file path (at most max bytes) into *out (NUL-terminated; caller frees). When
 * digest is not NULL the content's sha256 must equal it, and when size is not 0 its length.
 */
int hd_source_read(const hd_source *s, const char *path, const char *digest, uint64_t size,
                   size_t max, char **out, size_t *len, hcs_error **err);

#endif
