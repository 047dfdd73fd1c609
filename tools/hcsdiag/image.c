/*
 * image.c - `hcsdiag image import`: the layers of an OCI image or docker-archive imported into
 * the layer store (STORE/sha256/<diff id hex>), each blob checked against its digest and each
 * layer against the config's diff id, and the chain printed for Container.Storage.Layers.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "image.h"
#include "layer/layer.h"

typedef struct progress {
    bool tty;
    char line[192];    /* "layer 2/5 sha256:1234abcd5678... 12.3 MiB" */
    const char *phase; /* "verifying", "importing" */
    int pct;
    uint64_t size; /* the blob's size, when the importer does not know it */
} progress;

static void show(progress *p, uint64_t done, uint64_t total)
{
    if (!p->tty)
        return;
    if (total == 0)
        total = p->size;
    int pct = total > 0 ? (int)(done * 100 / total) : 0;
    if (pct > 100)
        pct = 100;
    if (pct == p->pct)
        return;
    p->pct = pct;
    fprintf(stderr, "\r%s  %s %3d%%\033[K", p->line, p->phase, pct);
    fflush(stderr);
}

static void hash_progress(uint64_t done, uint64_t total, void *ctx)
{
    show(ctx, done, total);
}

static void import_progress(const hcs_layer_progress *pr, void *ctx)
{
    show(ctx, pr->read, pr->total);
}

static void phase(progress *p, const char *name)
{
    p->phase = name;
    p->pct = -1;
    show(p, 0, 0);
}

/* The line of a finished layer (the terminal's percentage wiped). */
static void done_line(const progress *p, const char *suffix)
{
    if (p->tty)
        fprintf(stderr, "\r%s%s\033[K\n", p->line, suffix);
    else if (suffix[0] != '\0')
        fprintf(stderr, "%s%s\n", p->line, suffix);
}

/*
 * Whether target already holds the layer diff_id. An empty folder does not (it is removed: the
 * import makes it again); anything else that is not that layer is an error.
 */
static int present(const char *target, const char *diff_id, bool *yes, hcs_error **err)
{
    *yes = false;
    struct stat st;
    if (lstat(target, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "%s", target);
    }
    if (S_ISDIR(st.st_mode) && rmdir(target) == 0)
        return 0;
    hcs_layer_info info = {0};
    if (hcs_layer_info_read(target, &info, err) < 0)
        return hcs_err_wrap(err, "%s: expected the layer %s", target, diff_id);
    bool match = info.kind == HCS_LAYER_KIND_READONLY && info.diff_id != NULL &&
                 strcmp(info.diff_id, diff_id) == 0;
    hcs_layer_info_free(&info);
    if (!match)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s: expected the layer %s, found something else (remove it, or use "
                           "another --store)",
                           target, diff_id);
    *yes = true;
    return 0;
}

/* Verify and import layer i of img into target. */
static int import_layer(const hd_source *src, const hd_image *img, size_t i, const char *target,
                        progress *p, hcs_error **err)
{
    const hd_blob *b = &img->layers[i];
    const char *diff_id = img->diff_ids[i];
    AUTOCLOSE int fd = -1;
    if (hd_source_open_file(src, b->path, &fd, NULL, err) < 0)
        return hcs_err_wrap(err, "layer %zu/%zu", i + 1, img->n_layers);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return hcs_err_errno(err, errno, "%s: %s", src->name, b->path);
    p->size = (uint64_t)st.st_size;
    if (b->size != 0 && (uint64_t)st.st_size != b->size)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s: layer %zu/%zu blob %s: size mismatch: expected %llu bytes, got "
                           "%llu",
                           src->name, i + 1, img->n_layers, b->path, (unsigned long long)b->size,
                           (unsigned long long)st.st_size);
    if (b->digest[0] != '\0') {
        char got[HD_DIGEST_LEN];
        phase(p, "verifying");
        if (hd_sha256_fd(fd, b->path, p->size, hash_progress, p, got, NULL, err) < 0)
            return hcs_err_wrap(err, "%s", src->name);
        if (strcmp(got, b->digest) != 0)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s: layer %zu/%zu blob %s: digest mismatch: expected %s, got %s",
                               src->name, i + 1, img->n_layers, b->path, b->digest, got);
        if (lseek(fd, 0, SEEK_SET) != 0)
            return hcs_err_errno(err, errno, "%s: %s: seek", src->name, b->path);
    }
    phase(p, "importing");
    AUTOFREE char *name = hcs_asprintf("%s: %s", src->name, b->path);
    hcs_layer_import_opts o = {.progress = import_progress, .progress_ctx = p};
    char got[HCS_LAYER_DIGEST_LEN];
    if (hcs_layer_import_fd(target, fd, name != NULL ? name : b->path, &o, got, err) < 0)
        return -1;
    if (strcmp(got, diff_id) != 0) {
        hcs_error *e2 = NULL;
        if (hcs_layer_destroy(target, &e2) < 0)
            fprintf(stderr, "hcsdiag: warning: %s\n", e2->message);
        hcs_err_free(e2);
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s: layer %zu/%zu blob %s: diff id mismatch: the config's "
                           "rootfs.diff_ids[%zu] is %s, the layer's is %s (not imported)",
                           src->name, i + 1, img->n_layers, b->path, i, diff_id, got);
    }
    return 0;
}

static int import_all(const hd_source *src, const hd_image *img, const char *store, hcs_error **err)
{
    AUTOFREE char *dir = hcs_asprintf("%s/sha256", store);
    if (dir == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (hcs_mkdir_p(dir, 0755, err) < 0)
        return hcs_err_wrap(err, "layer store");
    progress p = {.tty = isatty(STDERR_FILENO) == 1};
    for (size_t i = 0; i < img->n_layers; i++) {
        const char *diff_id = img->diff_ids[i];
        AUTOFREE char *target = hcs_asprintf("%s/%s", dir, diff_id + 7);
        if (target == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        char size[32] = "";
        struct stat st;
        AUTOCLOSE int fd = -1;
        hcs_error *ignored = NULL;
        if (hd_source_open_file(src, img->layers[i].path, &fd, NULL, &ignored) == 0 &&
            fstat(fd, &st) == 0)
            hd_size((uint64_t)st.st_size, size, sizeof(size));
        hcs_err_free(ignored);
        snprintf(p.line, sizeof(p.line), "layer %zu/%zu %.19s... %s", i + 1, img->n_layers, diff_id,
                 size);
        bool yes = false;
        if (present(target, diff_id, &yes, err) < 0)
            return -1;
        if (yes) {
            if (!p.tty)
                fprintf(stderr, "%s already present\n", p.line);
            else
                done_line(&p, " already present");
            continue;
        }
        if (!p.tty)
            fprintf(stderr, "%s\n", p.line);
        hcs_error *e = NULL;
        if (import_layer(src, img, i, target, &p, &e) < 0) {
            /* Another import of the same layer may have won the race: that is success. */
            hcs_error *e2 = NULL;
            if (present(target, diff_id, &yes, &e2) == 0 && yes) {
                hcs_err_free(e);
                done_line(&p, " already present");
                continue;
            }
            hcs_err_free(e2);
            if (p.tty)
                fputc('\n', stderr);
            hcs_err_move(err, &e);
            return -1;
        }
        done_line(&p, "");
    }
    return 0;
}

static int print_chain(const hd_source *src, const hd_image *img, const char *store, bool json)
{
    AUTOJSON cJSON *doc = cJSON_CreateObject();
    cJSON *layers = cJSON_AddArrayToObject(doc, "Layers");
    if (!json)
        printf("%s: %s image %s, config %s\n%zu layer%s, nearest first:\n", src->name, img->format,
               img->platform, img->config, img->n_layers, img->n_layers == 1 ? "" : "s");
    for (size_t k = img->n_layers; k-- > 0;) {
        char guid[37];
        hd_layer_guid(img->diff_ids[k], guid);
        AUTOFREE char *path = hcs_asprintf("%s/sha256/%s", store, img->diff_ids[k] + 7);
        if (path == NULL)
            return hd_fail("out of memory");
        if (!json) {
            printf("  %s  %s\n", guid, path);
            continue;
        }
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(l, "Id", guid);
        cJSON_AddStringToObject(l, "Path", path);
    }
    if (json) {
        AUTOFREE char *text = cJSON_PrintUnformatted(doc);
        if (text == NULL)
            return hd_fail("out of memory");
        printf("%s\n", text);
    }
    return fflush(stdout) == 0 ? HCSDIAG_OK : hd_fail("standard output: %s", strerror(errno));
}

int hcsdiag_image_import(const hcsdiag_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'}, {"platform", required_argument, NULL, 'p'},
        {"tag", required_argument, NULL, 't'},   {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {0},
    };
    const char *store_arg = NULL;
    hd_select sel = {0};
    bool json = false;
    int c, rc = 0;
    while ((c = hd_getopt(cmd, argc, argv, "", longopts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 's')
            store_arg = optarg;
        else if (c == 'p')
            sel.platform = optarg;
        else if (c == 't')
            sel.tag = optarg;
        else if (c == 'j')
            json = true;
    }
    if (argc - optind != 1)
        return hd_usage(cmd, argc == optind ? "SOURCE is missing" : "too many arguments");
    if (sel.platform != NULL) {
        const char *slash = strchr(sel.platform, '/');
        if (slash == NULL || slash == sel.platform || slash[1] == '\0' || slash[1] == '/')
            return hd_usage(cmd, "--platform %s: expected OS/ARCH[/VARIANT], e.g. linux/amd64",
                            sel.platform);
    }
    if (store_arg != NULL && store_arg[0] == '\0')
        return hd_usage(cmd, "--store needs a folder");
    const char *source = argv[optind];

    AUTOFREE char *store = NULL;
    if (store_arg != NULL) {
        store = hd_abspath(store_arg);
    } else {
        AUTOFREE char *data = hcs_ctx_data_root();
        store = data != NULL ? hcs_asprintf("%s/layers", data) : NULL;
    }
    if (store == NULL)
        return hd_fail("out of memory");
    hcs_error *err = NULL;
    if (hcs_mkdir_p(store, 0755, &err) < 0)
        return hd_fail_err(err);
    char real[PATH_MAX];
    if (realpath(store, real) == NULL)
        return hd_fail("%s: %s", store, strerror(errno));

    hd_source src;
    if (hd_source_open(source, real, &src, &err) < 0)
        return hd_fail_err(err);
    hd_image img;
    rc = HCSDIAG_OK;
    if (hd_image_resolve(&src, &sel, &img, &err) < 0) {
        rc = hd_fail_err(err);
    } else {
        if (import_all(&src, &img, real, &err) < 0)
            rc = hd_fail_err(err);
        else
            rc = print_chain(&src, &img, real, json);
        hd_image_free(&img);
    }
    hd_source_close(&src);
    return rc;
}
