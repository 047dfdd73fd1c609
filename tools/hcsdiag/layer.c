/*
 * layer.c - `hcsdiag layer ...`: the computestorage calls (HcsImportLayer, HcsExportLayer,
 * HcsInitializeWritableLayer, HcsAttachLayerStorageFilter, HcsDetachLayerStorageFilter,
 * HcsDestroyLayer) from the command line. Paths may be relative: they are made absolute, as the
 * API requires.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcsdiag.h"
#include "layer/layer.h"

/* Options that take none but --help; then exactly n (or at least n when more) arguments. */
static int plain_args(const hcsdiag_command *cmd, int argc, char **argv, int n, bool more, int *rc)
{
    int c;
    while ((c = hd_getopt(cmd, argc, argv, "", NULL, rc)) != -1)
        if (c == -2)
            return -1;
    int have = argc - optind;
    if (have < n || (!more && have > n)) {
        *rc = hd_usage(cmd, have < n ? "missing arguments" : "too many arguments");
        return -1;
    }
    return 0;
}

/* Absolute copies of argv[from..argc); NULL when out of memory. Free with free_paths. */
static char **abs_paths(int argc, char **argv, int from)
{
    size_t n = (size_t)(argc - from);
    char **v = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; v != NULL && i < n; i++) {
        v[i] = hd_abspath(argv[from + (int)i]);
        if (v[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(v[k]);
            free(v);
            return NULL;
        }
    }
    return v;
}

static void free_paths(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

int hcsdiag_layer_import(const hcsdiag_command *cmd, int argc, char **argv)
{
    bool json = false;
    int rc = hd_getopt_json(cmd, argc, argv, &json);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2)
        return hd_usage(cmd, argc - optind < 2 ? "missing arguments" : "too many arguments");
    AUTOFREE char *layer = hd_abspath(argv[optind]);
    AUTOFREE char *source = hd_abspath(argv[optind + 1]);
    if (layer == NULL || source == NULL)
        return hd_fail("out of memory");
    HRESULT hr = HcsImportLayer(layer, source, NULL);
    if (FAILED(hr))
        return hd_fail_api("HcsImportLayer", hr);

    /* The diff id is in the new layer's layer.json (the API call does not return it). */
    hcs_layer_info info = {0};
    hcs_error *err = NULL;
    if (hcs_layer_info_read(layer, &info, &err) < 0)
        return hd_fail_err(err);
    const char *diff_id = info.diff_id != NULL ? info.diff_id : "";
    if (json) {
        char guid[37];
        hd_layer_guid(diff_id, guid);
        AUTOJSON cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "Id", guid);
        cJSON_AddStringToObject(doc, "Path", layer);
        cJSON_AddStringToObject(doc, "DiffId", diff_id);
        AUTOFREE char *text = cJSON_PrintUnformatted(doc);
        printf("%s\n", text != NULL ? text : "");
    } else {
        printf("%s\n", diff_id);
    }
    hcs_layer_info_free(&info);
    return HCSDIAG_OK;
}

int hcsdiag_layer_export(const hcsdiag_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"compression", required_argument, NULL, 'c'},
        {"level", required_argument, NULL, 'l'},
        {"deterministic", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    static const struct {
        const char *arg, *json, *ext;
    } kinds[] = {
        {"none", "None", ".tar"}, {"gzip", "Gzip", ".tar.gz"}, {"zstd", "Zstd", ".tar.zst"}};
    size_t kind = 0;
    long level = 0;
    bool deterministic = false;
    int c, rc = 0;
    while ((c = hd_getopt(cmd, argc, argv, "", longopts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 'c') {
            for (kind = 0; kind < HCS_ARRAY_SIZE(kinds); kind++)
                if (strcmp(optarg, kinds[kind].arg) == 0)
                    break;
            if (kind == HCS_ARRAY_SIZE(kinds))
                return hd_usage(cmd, "--compression %s: expected none, gzip or zstd", optarg);
        } else if (c == 'l') {
            char *end = NULL;
            errno = 0;
            level = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || level < 1 || level > 22)
                return hd_usage(cmd, "--level %s: expected a number from 1 to 22", optarg);
        } else if (c == 'd') {
            deterministic = true;
        }
    }
    if (argc - optind != 2)
        return hd_usage(cmd, argc - optind < 2 ? "missing arguments" : "too many arguments");
    AUTOFREE char *layer = hd_abspath(argv[optind]);
    AUTOFREE char *out = hd_abspath(argv[optind + 1]);
    AUTOJSON cJSON *opts = cJSON_CreateObject();
    cJSON_AddStringToObject(opts, "Compression", kinds[kind].json);
    if (level > 0)
        cJSON_AddNumberToObject(opts, "CompressionLevel", (double)level);
    if (deterministic)
        cJSON_AddBoolToObject(opts, "Deterministic", true);
    AUTOFREE char *options = cJSON_PrintUnformatted(opts);
    if (layer == NULL || out == NULL || options == NULL)
        return hd_fail("out of memory");
    HRESULT hr = HcsExportLayer(layer, out, NULL, options);
    if (FAILED(hr))
        return hd_fail_api("HcsExportLayer", hr);
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        printf("%s/layer%s\n", out, kinds[kind].ext);
    else
        printf("%s\n", out);
    return HCSDIAG_OK;
}

int hcsdiag_layer_create(const hcsdiag_command *cmd, int argc, char **argv)
{
    int rc = 0;
    if (plain_args(cmd, argc, argv, 2, true, &rc) < 0)
        return rc;
    char **paths = abs_paths(argc, argv, optind);
    AUTOFREE char *data =
        paths != NULL ? hd_layer_data(paths + 1, (size_t)(argc - optind - 1)) : NULL;
    if (data == NULL) {
        free_paths(paths);
        return hd_fail("out of memory");
    }
    HRESULT hr = HcsInitializeWritableLayer(paths[0], data, NULL);
    rc = FAILED(hr) ? hd_fail_api("HcsInitializeWritableLayer", hr) : HCSDIAG_OK;
    free_paths(paths);
    return rc;
}

int hcsdiag_layer_mount(const hcsdiag_command *cmd, int argc, char **argv)
{
    int rc = 0;
    if (plain_args(cmd, argc, argv, 1, true, &rc) < 0)
        return rc;
    char **paths = abs_paths(argc, argv, optind);
    size_t n_parents = (size_t)(argc - optind - 1);
    AUTOFREE char *data = paths != NULL ? hd_layer_data(paths + 1, n_parents) : NULL;
    if (paths == NULL || (n_parents > 0 && data == NULL)) {
        free_paths(paths);
        return hd_fail("out of memory");
    }
    HRESULT hr = HcsAttachLayerStorageFilter(paths[0], data);
    if (FAILED(hr))
        rc = hd_fail_api("HcsAttachLayerStorageFilter", hr);
    else
        printf("%s/%s\n", paths[0], HCS_LAYER_ROOTFS);
    free_paths(paths);
    return rc;
}

int hcsdiag_layer_unmount(const hcsdiag_command *cmd, int argc, char **argv)
{
    int rc = 0;
    if (plain_args(cmd, argc, argv, 1, false, &rc) < 0)
        return rc;
    AUTOFREE char *path = hd_abspath(argv[optind]);
    if (path == NULL)
        return hd_fail("out of memory");
    HRESULT hr = HcsDetachLayerStorageFilter(path);
    return FAILED(hr) ? hd_fail_api("HcsDetachLayerStorageFilter", hr) : HCSDIAG_OK;
}

int hcsdiag_layer_remove(const hcsdiag_command *cmd, int argc, char **argv)
{
    int rc = 0;
    if (plain_args(cmd, argc, argv, 1, false, &rc) < 0)
        return rc;
    AUTOFREE char *path = hd_abspath(argv[optind]);
    if (path == NULL)
        return hd_fail("out of memory");
    HRESULT hr = HcsDestroyLayer(path);
    return FAILED(hr) ? hd_fail_api("HcsDestroyLayer", hr) : HCSDIAG_OK;
}
