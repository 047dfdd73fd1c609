/*
 * ns_fixture.h - shared fixture of the lib/ns integration suites.
 *
 * Every test gets a fresh folder (nsf.base) holding a busybox layer (nsf.layer0: bin/ with
 * busybox and its applets, empty dev/ proc/ sys/ tmp/ mnt/, etc/group with gid 5), a writable
 * folder (nsf.rw, with upper/ and work/ for overlayfs) and an empty mount point (nsf.rootfs). The
 * body of a test runs through nsf_run() in a child that unshares mount, uts, ipc, net and pid
 * namespaces and forks again, so the body is pid 1 of its namespace, as the silo init is. The body
 * reports a failure with NSF_CHECK (message over a pipe, exit status 1); the parent asserts with
 * nsf_assert_ok. The teardown checks that the host's mount table is as it was and removes the
 * folder.
 */
#ifndef HCS_TEST_NS_FIXTURE_H
#define HCS_TEST_NS_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "hcs_test.h"
#include "ns/ns.h"

struct nsf_state {
    char base[256];
    char layer0[PATH_MAX];
    char rw[PATH_MAX];
    char upper[PATH_MAX]; /* rw/upper */
    char work[PATH_MAX];  /* rw/work */
    char rootfs[PATH_MAX];
    char host_marker[PATH_MAX]; /* a file in the host's /tmp the container must not see */
    const char *layers[1];
    hcs_ns_root root; /* layer0 under rw at rootfs, no mapped directories */
};
extern struct nsf_state nsf;

void nsf_setup(void);
void nsf_teardown(void);

/* hcs_asprintf that aborts the test on out of memory. */
char *nsf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Create the folders of path (absolute) and write content to it (mode 0644). */
void nsf_write(const char *path, const char *content);

/* Build a busybox layer in dir (created). */
void nsf_make_busybox_layer(const char *dir);

/* Read a whole small file; NULL when it cannot be read. The caller frees. */
char *nsf_read(const char *path);

/* Whether path exists (lstat). */
bool nsf_exists(const char *path);

/* Run body(arg) as pid 1 of new mount, uts, ipc, net and pid namespaces. */
typedef void (*nsf_body)(void *arg);
typedef struct {
    int status;     /* exit status of the body; 0 when it returned */
    char msg[4096]; /* what the body reported */
} nsf_result;
void nsf_run(nsf_body body, void *arg, nsf_result *out);

#define nsf_assert_ok(body, arg)                                                                   \
    do {                                                                                           \
        nsf_result r_;                                                                             \
        nsf_run((body), (arg), &r_);                                                               \
        ck_assert_msg(r_.status == 0, "%s in the namespaces failed (status %d): %s", #body,        \
                      r_.status, r_.msg);                                                          \
    } while (0)

/* In a body: fail with a message (reported to the parent) and exit. */
void nsf_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
#define NSF_CHECK(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            nsf_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                      \
    } while (0)

/*
 * In a body: check that opening path with flags (0644 if created), or mkdir when flags is -1,
 * fails with EROFS; the message says what happened instead.
 */
void nsf_check_erofs(const char *file, int line, const char *path, int flags);
#define NSF_CHECK_EROFS(path, flags) nsf_check_erofs(__FILE__, __LINE__, (path), (flags))

/* In a body: hcs_ns_enter_root, failing the body with the library's message. */
void nsf_enter(const hcs_ns_root *root);

/* In a body: run argv (inside the current root), its stdout into out; returns its exit status. */
int nsf_exec(const char *const *argv, char *out, size_t size);

/* In a body: the names in folder path, sorted, joined by ' ' (malloc'd). */
char *nsf_list(const char *path);

#endif
