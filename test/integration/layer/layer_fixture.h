/*
 * layer_fixture.h - shared fixture of the lib/layer integration suites (root).
 *
 * lf_setup gives every test fresh roots (hcs_test_roots_setup) and lf.dir, an empty folder for
 * layers, archives and trees. lf_teardown unmounts whatever is still mounted under that folder
 * (only mounts the test made: the folder is new) and removes it.
 *
 * Archives are written with libarchive from a list of entries, so a test can make any archive,
 * malicious ones included: lf_tar_open, lf_tar_add (one entry), lf_tar_close.
 */
#ifndef HCS_TEST_LAYER_FIXTURE_H
#define HCS_TEST_LAYER_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "hcs_test.h"

struct lf_state {
    char dir[PATH_MAX];
};
extern struct lf_state lf;

void lf_setup(void);
void lf_teardown(void);

/* hcs_asprintf that aborts the test on out of memory; "%s/..." with lf.dir is common. */
char *lf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Create the folders of path (absolute) and write content to it with mode. */
void lf_write(const char *path, const char *content, mode_t mode);
/* Read a whole small file; NULL when it cannot be read. The caller frees. */
char *lf_read(const char *path);
/* Whether path exists (lstat). */
bool lf_exists(const char *path);
/* An internal call that passes &e_ as its error argument succeeds: LF_OK(hcs_layer_detach(w, &e_)).
 */
#define LF_OK(call)                                                                                \
    do {                                                                                           \
        hcs_error *e_ = NULL;                                                                      \
        int rc_ = (call);                                                                          \
        ck_assert_msg(rc_ == 0, "%s: %s", #call, e_ ? e_->message : "");                           \
        hcs_err_free(e_);                                                                          \
    } while (0)

/* The call (with &e_, as above) fails with want_hr; the value is its message (caller frees). */
#define LF_FAILS(call, want_hr)                                                                    \
    ({                                                                                             \
        hcs_error *e_ = NULL;                                                                      \
        int rc_ = (call);                                                                          \
        ck_assert_msg(rc_ < 0, "%s succeeded", #call);                                             \
        ck_assert_ptr_nonnull(e_);                                                                 \
        ck_assert_hr(e_->hr, want_hr);                                                             \
        char *m_ = lf_fmt("%s", e_->message);                                                      \
        hcs_err_free(e_);                                                                          \
        m_;                                                                                        \
    })

/* Run a shell command (sh -c), returning its exit status (-1 when it did not exit). */
int lf_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Archive writing. compression: "none", "gzip" or "zstd". */
struct archive;
struct archive *lf_tar_open(const char *path, const char *compression);
typedef struct lf_entry {
    const char *path;
    char type;        /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'c' char device,
                         'b' block device, 'p' fifo */
    const char *data; /* file content; link target for 'l' and 'h' */
    mode_t mode;      /* permission bits; 0 means 0644 (files) or 0755 (folders) */
    uid_t uid;
    gid_t gid;
    int64_t mtime; /* 0 means 1700000000 */
    unsigned rdev_major, rdev_minor;
    int64_t size; /* when > 0 and data is NULL: a file of this size (header only: the
                     content is zeros), for size-bomb archives */
    const char *xattr_name, *xattr_value;
} lf_entry;
void lf_tar_add(struct archive *a, const lf_entry *e);
void lf_tar_close(struct archive *a);
/* Write an archive of entries (terminated by an entry with path NULL). */
void lf_tar(const char *path, const char *compression, const lf_entry *entries);

/* The HcsGetErrorInfo message of the last failed call (caller frees), "" when none. */
char *lf_last_error(void);

/* LayerData text for a chain of layer paths (NULL-terminated); caller frees. */
char *lf_layer_data(const char *const *paths);

#endif
