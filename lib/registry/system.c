/*
 * system.c - a compute system's registry: its delta over the hive files of its layers.
 *
 * Each layer contributes the files <layer>/Hives/<Hive>_Delta it has (names matched
 * case-insensitively, as Windows does); each file is a level that only answers for its own
 * hive, so a layer's files are simply stacked one after the other. The levels are, nearest
 * first: the delta, then the first layer's hive files, then the next layer's, and so on.
 * Opening maps the files (hcs_reg_hive_open checks their headers only), so it costs O(layers).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "registry.h"

/* One layer's hive file (a struct: arrays of pointers to opaque structs puzzle the linter). */
typedef struct layer_file {
    hcs_reg_hive_file *f;
} layer_file;

struct hcs_reg_system {
    hcs_reg_delta *delta;
    layer_file *files;
    size_t n_files;
    hcs_reg_level *levels; /* delta, then files (what the view points at) */
    hcs_reg_view *view;
};

void hcs_reg_system_close(hcs_reg_system *s)
{
    if (s == NULL)
        return;
    hcs_reg_view_free(s->view);
    for (size_t i = 0; i < s->n_files; i++)
        hcs_reg_hive_close(s->files[i].f);
    free(s->files);
    free(s->levels);
    hcs_reg_delta_close(s->delta);
    free(s);
}

const hcs_reg_view *hcs_reg_system_view(const hcs_reg_system *s)
{
    return s->view;
}

hcs_reg_delta *hcs_reg_system_delta(hcs_reg_system *s)
{
    return s->delta;
}

/* The hive whose file name is name ("<Hive>_Delta", any case), or -1. */
static int hive_of_name(const char *name)
{
    for (int h = 0; h < HCS_REG_N_HIVES; h++) {
        const char *hn = hcs_reg_hive_name((enum hcs_reg_hive)h);
        size_t l = strlen(hn);
        if (strncasecmp(name, hn, l) == 0 && strcasecmp(name + l, HCS_REG_DELTA_SUFFIX) == 0)
            return h;
    }
    return -1;
}

/* names[h]: the name of layer's hive file of hive h in hives_fd, or NULL (caller frees). */
static int find_hive_files(int hives_fd, const char *layer, char *names[HCS_REG_N_HIVES],
                           hcs_error **err)
{
    int fd = fcntl(hives_fd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return hcs_err_errno(err, e, "layer %s: list %s", layer, HCS_REG_HIVES_DIR);
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        const struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = hcs_err_errno(err, errno, "layer %s: list %s", layer, HCS_REG_HIVES_DIR);
            break;
        }
        int h = hive_of_name(de->d_name);
        if (h < 0)
            continue;
        if (names[h] != NULL) {
            rc = hcs_err_set(err, HCS_E_INVALID_LAYER,
                             "layer %s: %s/%s and %s/%s are both the %s hive (names are "
                             "case-insensitive)",
                             layer, HCS_REG_HIVES_DIR, names[h], HCS_REG_HIVES_DIR, de->d_name,
                             hcs_reg_hive_name((enum hcs_reg_hive)h));
            break;
        }
        if ((names[h] = strdup(de->d_name)) == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            break;
        }
    }
    closedir(d);
    return rc;
}

/* Open hive file Hives/name of layer (layer_fd), which must hold hive h. */
static int open_hive_file(int layer_fd, int hives_fd, const char *layer, const char *name,
                          enum hcs_reg_hive h, hcs_reg_hive_file **out, hcs_error **err)
{
    /* hcs_reg_hive_open follows a symlink: a layer's hive file is never one. */
    struct stat st;
    if (fstatat(hives_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "layer %s: registry hive %s/%s", layer, HCS_REG_HIVES_DIR,
                             name);
    if (!S_ISREG(st.st_mode))
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "layer %s: registry hive %s/%s is not a regular file", layer,
                           HCS_REG_HIVES_DIR, name);
    AUTOFREE char *rel = hcs_asprintf("%s/%s", HCS_REG_HIVES_DIR, name);
    if (rel == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (hcs_reg_hive_open(layer_fd, rel, out, err) < 0)
        return hcs_err_wrap(err, "layer %s", layer);
    if (hcs_reg_hive_of(*out) != h) {
        enum hcs_reg_hive got = hcs_reg_hive_of(*out);
        hcs_reg_hive_close(*out);
        *out = NULL;
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "layer %s: registry hive %s holds the %s hive, not %s", layer, rel,
                           hcs_reg_hive_name(got), hcs_reg_hive_name(h));
    }
    return 0;
}

/* Add the hive files of layer to s->files (in hive order). */
static int add_layer(hcs_reg_system *s, const char *layer, hcs_error **err)
{
    AUTOCLOSE int lfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd < 0)
        return hcs_err_errno(err, errno, "layer %s", layer);
    AUTOCLOSE int hfd =
        openat(lfd, HCS_REG_HIVES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (hfd < 0) {
        if (errno == ENOENT)
            return 0; /* no registry in this layer */
        return hcs_err_errno(err, errno, "layer %s: the folder %s", layer, HCS_REG_HIVES_DIR);
    }
    char *names[HCS_REG_N_HIVES] = {NULL};
    int rc = find_hive_files(hfd, layer, names, err);
    for (int h = 0; rc == 0 && h < HCS_REG_N_HIVES; h++) {
        if (names[h] == NULL)
            continue;
        hcs_reg_hive_file *f = NULL;
        rc = open_hive_file(lfd, hfd, layer, names[h], (enum hcs_reg_hive)h, &f, err);
        if (rc == 0)
            s->files[s->n_files++].f = f;
    }
    for (int h = 0; h < HCS_REG_N_HIVES; h++)
        free(names[h]);
    return rc;
}

static int open_delta(const char *delta_dir, hcs_reg_delta **out, hcs_error **err)
{
    if (delta_dir == NULL)
        return hcs_reg_delta_new_memory(out, err);
    if (delta_dir[0] == '/') {
        if (hcs_mkdir_p(delta_dir, 0755, err) < 0)
            return hcs_err_wrap(err, "registry delta folder %s", delta_dir);
    } else if (mkdir(delta_dir, 0755) < 0 && errno != EEXIST) {
        return hcs_err_errno(err, errno, "create the registry delta folder %s", delta_dir);
    }
    AUTOCLOSE int dfd = open(delta_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return hcs_err_errno(err, errno, "registry delta folder %s", delta_dir);
    if (hcs_reg_delta_open(dfd, HCS_REG_DELTA_LOG, out, err) < 0)
        return hcs_err_wrap(err, "%s", delta_dir);
    return 0;
}

int hcs_reg_system_open(const char *const *layers, size_t n, const char *delta_dir,
                        hcs_reg_system **out, hcs_error **err)
{
    *out = NULL;
    if (n > 0 && layers == NULL)
        return hcs_err_set(err, E_INVALIDARG, "a registry of %zu layers without layers", n);
    if (n > SIZE_MAX / HCS_REG_N_HIVES - 1)
        return hcs_err_set(err, E_INVALIDARG, "a registry of %zu layers: too many", n);
    hcs_reg_system *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    s->files = calloc(n * HCS_REG_N_HIVES + 1, sizeof(*s->files));
    s->levels = calloc(n * HCS_REG_N_HIVES + 1, sizeof(*s->levels));
    if (s->files == NULL || s->levels == NULL) {
        hcs_reg_system_close(s);
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (layers[i] == NULL || layers[i][0] == '\0')
            rc = hcs_err_set(err, E_INVALIDARG, "registry: layer %zu has no path", i);
        else
            rc = add_layer(s, layers[i], err);
    }
    if (rc == 0)
        rc = open_delta(delta_dir, &s->delta, err);
    if (rc == 0) {
        s->levels[0] = hcs_reg_delta_level(s->delta);
        for (size_t i = 0; i < s->n_files; i++)
            s->levels[i + 1] = hcs_reg_hive_level(s->files[i].f);
        rc = hcs_reg_view_new(s->levels, s->n_files + 1, &s->view, err);
    }
    if (rc < 0) {
        hcs_reg_system_close(s);
        return -1;
    }
    *out = s;
    return 0;
}
