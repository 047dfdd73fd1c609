/* store.c - reservation, opening and release of compute system folders, and their files. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/json.h"
#include "common/util.h"
#include "store.h"
#include "store_internal.h"

/* Longest file name write_file/read_file accept (the atomic writer adds a prefix and suffix). */
#define FILE_NAME_MAX 200

int hcs_store_systems_path(char **out, hcs_error **err)
{
    /* Explicit -1 below: static analyzers cannot see that hcs_err_set returns it (other file). */
    AUTOFREE char *root = hcs_ctx_runtime_root();
    char *path = root ? hcs_asprintf("%s/systems", strcmp(root, "/") == 0 ? "" : root) : NULL;
    if (path == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    *out = path;
    return 0;
}

int hcs_store_ensure_roots(hcs_error **err)
{
    AUTOFREE char *systems = NULL;
    if (hcs_store_systems_path(&systems, err) < 0)
        return -1;
    if (hcs_mkdir_p(systems, 0700, err) < 0)
        return hcs_err_wrap(err, "create the runtime root");
    AUTOFREE char *data = hcs_ctx_data_root();
    if (data == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (hcs_mkdir_p(data, 0700, err) < 0)
        return hcs_err_wrap(err, "create the data root");
    return 0;
}

/* --- entries ---------------------------------------------------------------------------------- */

static void entry_free(hcs_store_entry *e)
{
    if (e == NULL)
        return;
    if (e->lock_fd >= 0)
        close(e->lock_fd); /* drops the lock unless the description was passed on */
    if (e->dirfd >= 0)
        close(e->dirfd);
    free(e->id);
    free(e->path);
    free(e);
}

static void entry_cleanup(hcs_store_entry **e)
{
    entry_free(*e);
}
#define AUTOENTRY __attribute__((cleanup(entry_cleanup)))

static hcs_store_entry *entry_new(const char *id, const char *systems)
{
    hcs_store_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->dirfd = -1;
    e->lock_fd = -1;
    e->id = strdup(id);
    e->path = hcs_asprintf("%s/%s", systems, id);
    if (e->id == NULL || e->path == NULL) {
        entry_free(e);
        return NULL;
    }
    return e;
}

/* Everything of a reservation after the exclusive mkdir of its folder. */
static int reserve_finish(hcs_store_entry *e, int sfd, hcs_error **err)
{
    e->dirfd = openat(sfd, e->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (e->dirfd < 0)
        return hcs_err_errno(err, errno, "open %s", e->path);
    e->lock_fd = openat(e->dirfd, HCS_STORE_LOCK_FILE,
                        O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (e->lock_fd < 0)
        return hcs_err_errno(err, errno, "create %s/" HCS_STORE_LOCK_FILE, e->path);
    /* Blocking: the only other lockers are hcs_store_owner_alive probes, which let go at once. */
    while (flock(e->lock_fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return hcs_err_errno(err, errno, "lock %s/" HCS_STORE_LOCK_FILE, e->path);
    return 0;
}

int hcs_store_reserve(const char *id, hcs_store_entry **out, hcs_error **err)
{
    *out = NULL;
    if (hcs_store_validate_id(id, err) < 0)
        return -1;
    AUTOFREE char *systems = NULL;
    if (hcs_store_systems_path(&systems, err) < 0)
        return hcs_err_wrap(err, "reserve compute system \"%s\"", id);
    if (hcs_mkdir_p(systems, 0700, err) < 0)
        return hcs_err_wrap(err, "reserve compute system \"%s\"", id);
    AUTOCLOSE int sfd = open(systems, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        return hcs_err_errno(err, errno, "reserve compute system \"%s\": open %s", id, systems);
    AUTOENTRY hcs_store_entry *e = entry_new(id, systems);
    if (e == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "reserve compute system \"%s\": out of memory", id);

    /* The exclusive step: of concurrent reservations of one id, one mkdir succeeds. */
    if (mkdirat(sfd, id, 0700) < 0) {
        if (errno == EEXIST)
            return hcs_err_set(err, HCS_E_SYSTEM_ALREADY_EXISTS,
                               "compute system \"%s\" already exists", id);
        return hcs_err_errno(err, errno, "reserve compute system \"%s\": create %s", id, e->path);
    }
    if (reserve_finish(e, sfd, err) < 0) {
        AUTOERR hcs_error *undo = NULL;
        if (hcs_remove_tree_at(sfd, id, &undo) < 0)
            hcs_log(HCS_LOG_WARNING, "reserve compute system \"%s\": removing %s: %s", id, e->path,
                    undo->message);
        return hcs_err_wrap(err, "reserve compute system \"%s\"", id);
    }
    *out = steal_ptr(&e);
    return 0;
}

static int not_found(hcs_error **err, const char *id)
{
    return hcs_err_set(err, HCS_E_SYSTEM_NOT_FOUND, "compute system \"%s\" not found", id);
}

int hcs_store_open(const char *id, hcs_store_entry **out, hcs_error **err)
{
    *out = NULL;
    if (hcs_store_validate_id(id, err) < 0)
        return -1;
    AUTOFREE char *systems = NULL;
    if (hcs_store_systems_path(&systems, err) < 0)
        return hcs_err_wrap(err, "open compute system \"%s\"", id);
    AUTOENTRY hcs_store_entry *e = entry_new(id, systems);
    if (e == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "open compute system \"%s\": out of memory", id);
    AUTOCLOSE int sfd = open(systems, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0) {
        if (errno == ENOENT)
            return not_found(err, id);
        return hcs_err_errno(err, errno, "open compute system \"%s\": open %s", id, systems);
    }
    e->dirfd = openat(sfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (e->dirfd < 0) {
        /* A file or a symlink in systems/ is not a compute system (enumerate skips them too). */
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return not_found(err, id);
        return hcs_err_errno(err, errno, "open compute system \"%s\": open %s", id, e->path);
    }
    *out = steal_ptr(&e);
    return 0;
}

/* Remove e's folder, if the name systems/<id> still leads to the folder e has open. */
static int remove_folder(const hcs_store_entry *e, hcs_error **err)
{
    AUTOCLOSE int parent = openat(e->dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) {
        if (errno == ENOENT)
            return 0; /* the folder was already removed */
        return hcs_err_errno(err, errno, "open the parent of %s", e->path);
    }
    struct stat mine, named;
    if (fstat(e->dirfd, &mine) < 0)
        return hcs_err_errno(err, errno, "stat %s", e->path);
    if (fstatat(parent, e->id, &named, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "stat %s", e->path);
    }
    if (mine.st_dev != named.st_dev || mine.st_ino != named.st_ino)
        return hcs_err_set(err, HRESULT_FROM_ERRNO(ESTALE),
                           "%s is no longer the folder that was reserved; not removing it",
                           e->path);
    return hcs_remove_tree_at(parent, e->id, err);
}

int hcs_store_release(hcs_store_entry *e, int remove, hcs_error **err)
{
    if (e == NULL)
        return 0;
    int rc = 0;
    /* Removed while the lock is still held, so owner_alive never sees a lockless live folder. */
    if (remove && remove_folder(e, err) < 0)
        rc = hcs_err_wrap(err, "remove compute system \"%s\"", e->id);
    entry_free(e);
    return rc;
}

int hcs_store_owner_alive(const hcs_store_entry *e, hcs_error **err)
{
    AUTOCLOSE int fd = openat(e->dirfd, HCS_STORE_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "open %s/" HCS_STORE_LOCK_FILE, e->path);
    }
    /* A new open file description conflicts with the owner's lock, even in this process. */
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
        return 0; /* nobody holds it; closing fd lets go of ours */
    if (errno == EWOULDBLOCK)
        return 1;
    return hcs_err_errno(err, errno, "lock %s/" HCS_STORE_LOCK_FILE, e->path);
}

/* --- files ------------------------------------------------------------------------------------ */

static int check_file_name(const char *name, hcs_error **err)
{
    if (name == NULL || name[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "no file name given");
    if (strchr(name, '/') != NULL || name[0] == '.' || strcmp(name, HCS_STORE_LOCK_FILE) == 0 ||
        strlen(name) > FILE_NAME_MAX)
        return hcs_err_set(err, E_INVALIDARG,
                           "file name \"%.*s\" is not allowed (a plain name of at most %d bytes, "
                           "not starting with '.', not \"" HCS_STORE_LOCK_FILE "\")",
                           FILE_NAME_MAX, name, FILE_NAME_MAX);
    return 0;
}

int hcs_store_write_file(const hcs_store_entry *e, const char *name, const char *data, size_t len,
                         hcs_error **err)
{
    if (check_file_name(name, err) < 0)
        return hcs_err_wrap(err, "write a file of compute system \"%s\"", e->id);
    if (hcs_write_file_atomic(e->dirfd, name, data, len, 0600, false, err) < 0)
        return hcs_err_wrap(err, "write %s of compute system \"%s\"", name, e->id);
    return 0;
}

int hcs_store_read_file(const hcs_store_entry *e, const char *name, size_t max, char **out,
                        size_t *len, hcs_error **err)
{
    *out = NULL;
    if (check_file_name(name, err) < 0)
        return hcs_err_wrap(err, "read a file of compute system \"%s\"", e->id);
    if (hcs_read_file_at(e->dirfd, name, max, out, len, err) < 0)
        return hcs_err_wrap(err, "read %s of compute system \"%s\"", name, e->id);
    return 0;
}

/* --- state ------------------------------------------------------------------------------------ */

int hcs_store_write_state(const hcs_store_entry *e, const cJSON *state, hcs_error **err)
{
    if (!cJSON_IsObject(state))
        return hcs_err_set(err, E_INVALIDARG,
                           "write the state of compute system \"%s\": the state is not a JSON "
                           "object",
                           e->id);
    AUTOJSON cJSON *copy = hcs_json_dup_exact(state);
    AUTOFREE char *text = copy != NULL ? cJSON_Print(copy) : NULL;
    if (text == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY,
                           "write the state of compute system \"%s\": out of memory", e->id);
    if (hcs_write_file_atomic(e->dirfd, HCS_STORE_STATE_FILE, text, strlen(text), 0600, false,
                              err) < 0)
        return hcs_err_wrap(err, "write the state of compute system \"%s\"", e->id);
    return 0;
}

int hcs_store_read_state(const hcs_store_entry *e, cJSON **out, hcs_error **err)
{
    *out = NULL;
    AUTOFREE char *text = NULL;
    size_t len = 0;
    if (hcs_read_file_at(e->dirfd, HCS_STORE_STATE_FILE, HCS_STORE_STATE_MAX, &text, &len, err) < 0)
        return hcs_err_wrap(err, "read the state of compute system \"%s\"", e->id);
    AUTOJSON cJSON *doc = NULL;
    if (hcs_json_parse(text, len, HCS_STORE_STATE_FILE, &doc, err) < 0)
        return hcs_err_wrap(err, "read the state of compute system \"%s\"", e->id);
    if (!cJSON_IsObject(doc))
        return hcs_err_set(err, HCS_E_INVALID_JSON,
                           "read the state of compute system \"%s\": " HCS_STORE_STATE_FILE
                           ": not a JSON object",
                           e->id);
    *out = steal_ptr(&doc);
    return 0;
}
