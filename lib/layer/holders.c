/*
 * holders.c - who uses a layer: L/.holders/ holds one file per holder, named by a 64-bit
 * FNV-1a hash of the holder string and containing it (a hash, not sha256: the monitor holds
 * layers and needs no crypto library for it; release checks the content before removing). Holding
 * and releasing are idempotent.
 *
 * A holder is live while what it names still uses the layer; hcs_layer_destroy refuses a layer
 * with a live holder and drops the stale ones (left by a crash, a reboot, a killed monitor):
 *   "writable <W>"               W is a writable layer, attached, with the layer among its parents;
 *   "system <runtime-root> <id>" <runtime-root>/systems/<id> exists and its owner holds its lock;
 *   anything else                live: an unknown holder is never dropped.
 * A plain folder (no layer.json) is never written to: holding it records nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "store/store.h"
#include "writable_internal.h"

#define HOLDER_MAX 8192

#define HOLDER_NAME_LEN 17 /* 16 hex digits + NUL */

/* The file name of a holder: 16 hex digits of its FNV-1a hash. */
static void holder_file(const char *holder, char name[HOLDER_NAME_LEN])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)holder; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    snprintf(name, HOLDER_NAME_LEN, "%016llx", (unsigned long long)h);
}

int hcs_layer_hold(const char *layer_path, const char *holder, hcs_error **err)
{
    if (holder == NULL || holder[0] == '\0' || strlen(holder) > HOLDER_MAX)
        return hcs_err_set(err, E_INVALIDARG, "hold layer %s: the holder must be 1 to %d bytes",
                           layer_path, HOLDER_MAX);
    hcs_layer_info info;
    if (hcs_layer_info_read(layer_path, &info, err) < 0)
        return hcs_err_wrap(err, "hold layer %s for \"%s\"", layer_path, holder);
    enum hcs_layer_kind kind = info.kind;
    hcs_layer_info_free(&info);
    if (kind == HCS_LAYER_KIND_FOLDER)
        return 0; /* a plain folder is never modified, nor removed by destroy */
    AUTOCLOSE int lfd = open(layer_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd < 0)
        return hcs_err_errno(err, errno, "hold layer %s", layer_path);
    if (mkdirat(lfd, HCS_LAYER_HOLDERS, 0700) < 0 && errno != EEXIST)
        return hcs_err_errno(err, errno, "hold layer %s: create %s/%s", layer_path, layer_path,
                             HCS_LAYER_HOLDERS);
    AUTOCLOSE int hfd =
        openat(lfd, HCS_LAYER_HOLDERS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (hfd < 0)
        return hcs_err_errno(err, errno, "hold layer %s: open %s/%s", layer_path, layer_path,
                             HCS_LAYER_HOLDERS);
    char name[HOLDER_NAME_LEN];
    holder_file(holder, name);
    /*
     * Not durable: after a crash of the machine every holder is stale anyway (no mount and no
     * system survives a reboot) and destroy checks liveness, not just presence. An fsync here
     * would cost a create about a millisecond per layer.
     */
    if (hcs_write_file_atomic(hfd, name, holder, strlen(holder), 0600, false, err) < 0)
        return hcs_err_wrap(err, "hold layer %s for \"%s\"", layer_path, holder);
    return 0;
}

void hcs_layer_release(const char *layer_path, const char *holder)
{
    if (layer_path == NULL || holder == NULL)
        return;
    AUTOFREE char *dir = hcs_asprintf("%s/%s", layer_path, HCS_LAYER_HOLDERS);
    if (dir == NULL)
        return;
    AUTOCLOSE int hfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (hfd < 0)
        return; /* no holders (or a plain folder) */
    char name[HOLDER_NAME_LEN];
    holder_file(holder, name);
    AUTOFREE char *text = NULL;
    size_t len = 0;
    if (hcs_read_file_at(hfd, name, HOLDER_MAX + 1, &text, &len, NULL) < 0)
        return; /* not held */
    if (strcmp(text, holder) != 0)
        return; /* another holder whose name hashes the same: not ours to remove */
    if (unlinkat(hfd, name, 0) < 0 && errno != ENOENT)
        hcs_log(HCS_LOG_WARNING, "release layer %s from \"%s\": remove %s/%s: %s", layer_path,
                holder, dir, name, strerror(errno));
}

/* "system <runtime-root> <id>": whether the system's folder exists and its lock is held. */
static bool system_live(const char *rest)
{
    const char *space = strrchr(rest, ' ');
    if (space == NULL || space == rest || space[1] == '\0' || rest[0] != '/')
        return true; /* not the form we write: keep it */
    AUTOFREE char *root = strndup(rest, (size_t)(space - rest));
    if (root == NULL)
        return true;
    AUTOFREE char *id = strdup(space + 1);
    if (id == NULL || hcs_store_validate_id(id, NULL) < 0)
        return true;
    AUTOFREE char *folder = hcs_asprintf("%s/systems/%s", root, id);
    if (folder == NULL)
        return true;
    AUTOCLOSE int fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT && errno != ENOTDIR;
    hcs_store_entry e = {.id = id, .path = folder, .dirfd = fd, .lock_fd = -1};
    AUTOERR hcs_error *aerr = NULL;
    return hcs_store_owner_alive(&e, &aerr) != 0;
}

static bool holder_live(const char *holder, const char *real)
{
    static const char writable[] = "writable ", sys[] = "system ";
    if (strncmp(holder, writable, sizeof(writable) - 1) == 0)
        return hcs_layer_writable_holds(holder + sizeof(writable) - 1, real);
    if (strncmp(holder, sys, sizeof(sys) - 1) == 0)
        return system_live(holder + sizeof(sys) - 1);
    return true;
}

int hcs_layer_holders_check(const char *path, const char *real, hcs_error **err)
{
    AUTOFREE char *dir = hcs_asprintf("%s/%s", path, HCS_LAYER_HOLDERS);
    if (dir == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    int hfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (hfd < 0)
        return errno == ENOENT ? 0 : hcs_err_errno(err, errno, "open %s", dir);
    DIR *d = fdopendir(hfd);
    if (d == NULL) {
        int e = errno;
        close(hfd);
        return hcs_err_errno(err, e, "list %s", dir);
    }
    int rc = 0;
    const struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and the temporary files of a hold being written */
        AUTOFREE char *holder = NULL;
        AUTOERR hcs_error *rerr = NULL;
        if (hcs_read_file_at(dirfd(d), de->d_name, HOLDER_MAX + 1, &holder, NULL, &rerr) < 0) {
            rc = hcs_err_set(err, HCS_E_INVALID_STATE,
                             "layer %s may be in use: its holder %s/%s cannot be read (%s)", real,
                             dir, de->d_name, rerr->message);
            break;
        }
        if (holder_live(holder, real)) {
            rc =
                hcs_err_set(err, HCS_E_INVALID_STATE, "layer %s is in use by \"%s\"", real, holder);
            break;
        }
        hcs_log(HCS_LOG_INFO, "layer %s: dropping the stale holder \"%s\"", real, holder);
        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
            rc = hcs_err_errno(err, errno, "remove the stale holder %s/%s", dir, de->d_name);
    }
    closedir(d);
    return rc;
}
