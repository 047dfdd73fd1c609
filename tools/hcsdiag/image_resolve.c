/*
 * image_resolve.c - find the image in a source and read its manifest and config.
 *
 *   OCI layout:      oci-layout, index.json -> manifests (nested indexes followed) -> the
 *                    manifest for the platform/tag asked -> config (rootfs.diff_ids), layers.
 *   docker-archive:  manifest.json [{"Config": "<file>", "RepoTags": [...], "Layers": [...]}];
 *                    files named by a sha256 (blobs/sha256/<hex>, <hex>.json, <hex>.tar, also
 *                    through symlinks) are checked against it.
 *
 * An index or manifest read is checked against the digest and size of its descriptor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "image.h"

#define JSON_MAX (4u << 20)
#define MAX_DEPTH 4

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

typedef struct cand {
    char digest[HD_DIGEST_LEN]; /* OCI: the manifest */
    uint64_t size;
    char *ref;          /* OCI: its ref name annotation, or NULL */
    const cJSON *entry; /* docker-archive: the manifest.json element */
    char *platform;     /* from the descriptor, or once loaded; NULL while unknown */
    hd_image img;       /* loaded when loaded is true */
    bool loaded;
} cand;

typedef struct cands {
    cand *v;
    size_t n, cap;
} cands;

static void cands_free(cands *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].ref);
        free(c->v[i].platform);
        hd_image_free(&c->v[i].img);
    }
    free(c->v);
}

static cand *cands_add(cands *c)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        cand *nv = realloc(c->v, nc * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n] = (cand){0};
    return &c->v[c->n++];
}

void hd_image_free(hd_image *img)
{
    for (size_t i = 0; i < img->n_layers; i++) {
        free(img->layers[i].path);
        if (img->diff_ids != NULL)
            free(img->diff_ids[i]);
    }
    free(img->layers);
    free(img->diff_ids);
    free(img->config);
    free(img->platform);
    memset(img, 0, sizeof(*img));
}

const char *hd_host_platform(void)
{
    static char platform[80];
    static const struct {
        const char *machine, *arch;
    } map[] = {{"x86_64", "amd64"},        {"aarch64", "arm64"}, {"armv7l", "arm/v7"},
               {"armv6l", "arm/v6"},       {"i686", "386"},      {"i386", "386"},
               {"ppc64le", "ppc64le"},     {"s390x", "s390x"},   {"riscv64", "riscv64"},
               {"loongarch64", "loong64"}, {"mips64", "mips64"}};
    if (platform[0] != '\0')
        return platform;
    struct utsname u;
    const char *arch = "amd64";
    if (uname(&u) == 0) {
        arch = u.machine;
        for (size_t i = 0; i < HCS_ARRAY_SIZE(map); i++)
            if (strcmp(u.machine, map[i].machine) == 0)
                arch = map[i].arch;
    }
    snprintf(platform, sizeof(platform), "linux/%s", arch);
    return platform;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *platform_text(const char *os, const char *arch, const char *variant)
{
    if (variant != NULL && variant[0] != '\0')
        return hcs_asprintf("%s/%s/%s", os ? os : "?", arch ? arch : "?", variant);
    return hcs_asprintf("%s/%s", os ? os : "?", arch ? arch : "?");
}

/* Whether have ("os/arch[/variant]") is what want asks for (a variant only when asked). */
static bool platform_matches(const char *have, const char *want)
{
    size_t n = strlen(want);
    const char *slash = strchr(want, '/');
    if (have == NULL || slash == NULL || strncmp(have, want, n) != 0)
        return false;
    /* "linux/arm64" takes "linux/arm64/v8"; "linux/arm/v7" only itself. */
    return have[n] == '\0' || (have[n] == '/' && strchr(slash + 1, '/') == NULL);
}

/* name is tag, or a "repository:tag" whose tag part is tag. */
static bool tag_matches(const char *name, const char *tag)
{
    if (strcmp(name, tag) == 0)
        return true;
    const char *colon = strrchr(name, ':'), *slash = strrchr(name, '/');
    return colon != NULL && (slash == NULL || colon > slash) && strcmp(colon + 1, tag) == 0;
}

static char *blob_path(const char *digest)
{
    return hcs_asprintf("blobs/sha256/%s", digest + 7);
}

/* A descriptor's digest (sha256 only) and size (0 when absent). */
static int descriptor(const cJSON *d, const char *src, const char *where,
                      char digest[HD_DIGEST_LEN], uint64_t *size, hcs_error **err)
{
    const char *dg = jstr(d, "digest");
    if (!cJSON_IsObject(d) || dg == NULL)
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: %s: expected a descriptor with a digest",
                           src, where);
    if (!hd_digest_valid(dg))
        return hcs_err_set(err, HCS_E_INVALID_JSON,
                           "%s: %s: digest \"%s\": expected sha256:<64 lowercase hex digits>", src,
                           where, dg);
    snprintf(digest, HD_DIGEST_LEN, "%s", dg);
    *size = 0;
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(d, "size");
    if (sz != NULL && hcs_json_u64(sz, size) < 0)
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: %s: size: expected a byte count", src,
                           where);
    return 0;
}

/* Read and parse a JSON file of the source, checked against digest/size when given. */
static int read_json(const hd_source *src, const char *path, const char *digest, uint64_t size,
                     cJSON **out, hcs_error **err)
{
    AUTOFREE char *text = NULL;
    size_t len = 0;
    if (hd_source_read(src, path, digest, size, JSON_MAX, &text, &len, err) < 0)
        return -1;
    AUTOFREE char *what = hcs_asprintf("%s: %s", src->name, path);
    return hcs_json_parse(text, len, what != NULL ? what : path, out, err);
}

/* --- OCI layout ------------------------------------------------------------------------------ */

static int oci_collect(const hd_source *src, const cJSON *index, const char *where, const char *ref,
                       int depth, cands *c, hcs_error **err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    if (!cJSON_IsArray(list))
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: %s: expected a \"manifests\" array",
                           src->name, where);
    int i = -1;
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        i++;
        char at[256], digest[HD_DIGEST_LEN];
        uint64_t size = 0;
        snprintf(at, sizeof(at), "%s manifests[%d]", where, i);
        if (descriptor(d, src->name, at, digest, &size, err) < 0)
            return -1;
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(d, "annotations");
        const char *name = jstr(ann, "org.opencontainers.image.ref.name");
        if (name == NULL)
            name = jstr(ann, "io.containerd.image.name");
        if (name == NULL)
            name = ref;
        const char *mt = jstr(d, "mediaType");
        if (mt != NULL && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)) {
            if (depth >= MAX_DEPTH)
                return hcs_err_set(err, HCS_E_INVALID_JSON,
                                   "%s: %s: indexes nested more than %d deep", src->name, at,
                                   MAX_DEPTH);
            AUTOFREE char *path = blob_path(digest);
            AUTOJSON cJSON *inner = NULL;
            if (path == NULL)
                return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            if (read_json(src, path, digest, size, &inner, err) < 0 ||
                oci_collect(src, inner, path, name, depth + 1, c, err) < 0)
                return -1;
            continue;
        }
        if (mt != NULL && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
            continue; /* an artifact that is not an image */
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "platform");
        const char *os = jstr(p, "os"), *arch = jstr(p, "architecture");
        if (os != NULL && strcmp(os, "unknown") == 0)
            continue; /* attestations and signatures carry platform unknown/unknown */
        cand *k = cands_add(c);
        if (k == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        memcpy(k->digest, digest, sizeof(digest));
        k->size = size;
        k->ref = name != NULL ? strdup(name) : NULL;
        k->platform =
            os != NULL && arch != NULL ? platform_text(os, arch, jstr(p, "variant")) : NULL;
    }
    return 0;
}

/* rootfs.diff_ids and the platform of a config document. */
static int read_config(const hd_source *src, const char *path, const char *digest, uint64_t size,
                       size_t n_layers, hd_image *img, hcs_error **err)
{
    AUTOJSON cJSON *cfg = NULL;
    if (read_json(src, path, digest, size, &cfg, err) < 0)
        return -1;
    const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(cfg, "rootfs");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
    const char *type = jstr(rootfs, "type");
    if (!cJSON_IsArray(ids) || type == NULL || strcmp(type, "layers") != 0)
        return hcs_err_set(
            err, HCS_E_INVALID_JSON,
            "%s: config %s: expected rootfs {\"type\":\"layers\",\"diff_ids\":[...]}", src->name,
            path);
    size_t n = (size_t)cJSON_GetArraySize(ids);
    if (n != n_layers)
        return hcs_err_set(err, HCS_E_INVALID_JSON,
                           "%s: config %s has %zu rootfs.diff_ids for %zu layers in the manifest",
                           src->name, path, n, n_layers);
    img->diff_ids = calloc(n + 1, sizeof(char *));
    if (img->diff_ids == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    size_t i = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        if (!cJSON_IsString(id) || !hd_digest_valid(id->valuestring))
            return hcs_err_set(err, HCS_E_INVALID_JSON,
                               "%s: config %s: rootfs.diff_ids[%zu]: expected sha256:<64 "
                               "lowercase hex digits>",
                               src->name, path, i);
        img->diff_ids[i] = strdup(id->valuestring);
        if (img->diff_ids[i++] == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    img->platform = platform_text(jstr(cfg, "os"), jstr(cfg, "architecture"), jstr(cfg, "variant"));
    if (img->platform == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return 0;
}

static int oci_load(const hd_source *src, cand *k, hcs_error **err)
{
    hd_image *img = &k->img;
    AUTOFREE char *path = blob_path(k->digest);
    AUTOJSON cJSON *m = NULL;
    if (path == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (read_json(src, path, k->digest, k->size, &m, err) < 0)
        return -1;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
    if (!cJSON_IsArray(layers))
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: manifest %s: expected a \"layers\" array",
                           src->name, path);
    img->format = "OCI layout";
    img->n_layers = (size_t)cJSON_GetArraySize(layers);
    img->layers = calloc(img->n_layers + 1, sizeof(hd_blob));
    if (img->layers == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    size_t i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, layers)
    {
        char at[300];
        snprintf(at, sizeof(at), "manifest %s layers[%zu]", path, i);
        hd_blob *b = &img->layers[i++];
        if (descriptor(d, src->name, at, b->digest, &b->size, err) < 0)
            return -1;
        const char *mt = jstr(d, "mediaType");
        if (mt != NULL && (strstr(mt, ".tar") == NULL || strstr(mt, "encrypted") != NULL))
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s: %s: media type %s: expected a tar layer (plain, gzip or zstd)",
                               src->name, at, mt);
        b->path = blob_path(b->digest);
        if (b->path == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    char cdigest[HD_DIGEST_LEN];
    uint64_t csize = 0;
    AUTOFREE char *at = hcs_asprintf("manifest %s config", path);
    if (descriptor(cJSON_GetObjectItemCaseSensitive(m, "config"), src->name, at ? at : path,
                   cdigest, &csize, err) < 0)
        return -1;
    AUTOFREE char *cpath = blob_path(cdigest);
    img->config = strdup(cdigest);
    if (cpath == NULL || img->config == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (read_config(src, cpath, cdigest, csize, img->n_layers, img, err) < 0)
        return -1;
    k->loaded = true;
    return 0;
}

/* --- docker-archive -------------------------------------------------------------------------- */

/* The sha256 a file name states: blobs/sha256/<hex>, <hex>.json, <hex>.tar...; "" when none. */
static void digest_of_name(const char *name, char digest[HD_DIGEST_LEN])
{
    digest[0] = '\0';
    size_t hex = strspn(name, "0123456789abcdef");
    if (hex == 64 && (name[64] == '\0' || name[64] == '.'))
        snprintf(digest, HD_DIGEST_LEN, "sha256:%.64s", name);
}

static int docker_collect(const cJSON *manifest, const hd_source *src, cands *c, hcs_error **err)
{
    if (!cJSON_IsArray(manifest))
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: manifest.json: expected an array",
                           src->name);
    int i = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, manifest)
    {
        i++;
        if (jstr(e, "Config") == NULL ||
            !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "Layers")))
            return hcs_err_set(err, HCS_E_INVALID_JSON,
                               "%s: manifest.json[%d]: expected {\"Config\": file, \"Layers\": "
                               "[files]}",
                               src->name, i);
        cand *k = cands_add(c);
        if (k == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        k->entry = e;
    }
    return 0;
}

static int docker_load(const hd_source *src, cand *k, hcs_error **err)
{
    hd_image *img = &k->img;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(k->entry, "Layers");
    img->format = "docker-archive";
    img->n_layers = (size_t)cJSON_GetArraySize(layers);
    img->layers = calloc(img->n_layers + 1, sizeof(hd_blob));
    if (img->layers == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    size_t i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        hd_blob *b = &img->layers[i++];
        if (!cJSON_IsString(l))
            return hcs_err_set(err, HCS_E_INVALID_JSON,
                               "%s: manifest.json Layers[%zu]: expected a file name", src->name,
                               i - 1);
        b->path = strdup(l->valuestring);
        AUTOFREE char *final = NULL;
        AUTOCLOSE int fd = -1;
        if (b->path == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        if (hd_source_open_file(src, b->path, &fd, &final, err) < 0)
            return hcs_err_wrap(err, "manifest.json Layers[%zu]", i - 1);
        digest_of_name(final, b->digest);
    }
    const char *config = jstr(k->entry, "Config");
    AUTOFREE char *final = NULL;
    AUTOCLOSE int fd = -1;
    if (hd_source_open_file(src, config, &fd, &final, err) < 0)
        return hcs_err_wrap(err, "manifest.json Config");
    char digest[HD_DIGEST_LEN];
    digest_of_name(final, digest);
    img->config = strdup(digest[0] != '\0' ? digest : config);
    if (img->config == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (read_config(src, config, digest[0] != '\0' ? digest : NULL, 0, img->n_layers, img, err) < 0)
        return -1;
    k->loaded = true;
    return 0;
}

/* --- choosing -------------------------------------------------------------------------------- */

static bool cand_has_tag(const cand *k, const char *tag)
{
    if (k->ref != NULL)
        return tag_matches(k->ref, tag);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(k->entry, "RepoTags"))
    {
        if (cJSON_IsString(t) && tag_matches(t->valuestring, tag))
            return true;
    }
    return false;
}

/* The names of the candidates, for messages: "a, b, c" (or "none"). */
static char *cand_names(const cands *c, bool platforms)
{
    AUTOFREE char *s = strdup("");
    for (size_t i = 0; i < c->n && s != NULL; i++) {
        const cand *k = &c->v[i];
        const char *name = platforms ? k->platform : k->ref;
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(k->entry, "RepoTags");
        if (!platforms && name == NULL && cJSON_GetArraySize(tags) > 0)
            name = cJSON_GetArrayItem(tags, 0)->valuestring;
        char *next = hcs_asprintf("%s%s%s", s, i ? ", " : "", name ? name : "(no name)");
        free(s);
        s = next;
    }
    if (s != NULL && s[0] == '\0') {
        free(s);
        s = strdup("none");
    }
    return steal_ptr(&s);
}

static int load(const hd_source *src, cand *k, hcs_error **err)
{
    if (k->loaded)
        return 0;
    int rc = k->entry != NULL ? docker_load(src, k, err) : oci_load(src, k, err);
    if (rc == 0 && k->platform == NULL) {
        k->platform = strdup(k->img.platform != NULL ? k->img.platform : "?/?");
        if (k->platform == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    return rc;
}

static int choose(const hd_source *src, const hd_select *sel, cands *c, hd_image *out,
                  hcs_error **err)
{
    if (sel->tag != NULL) {
        size_t kept = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (cand_has_tag(&c->v[i], sel->tag)) {
                cand t = c->v[kept];
                c->v[kept++] = c->v[i];
                c->v[i] = t;
            }
        }
        if (kept == 0) {
            AUTOFREE char *names = cand_names(c, false);
            return hcs_err_set(err, E_INVALIDARG, "%s: no image tagged \"%s\" (it has: %s)",
                               src->name, sel->tag, names ? names : "?");
        }
        /* Look at the kept ones only; c still owns them all (the caller frees it). */
        cands view = {c->v, kept, kept};
        return choose(src, &(hd_select){sel->platform, NULL}, &view, out, err);
    }
    if (c->n == 0)
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: no image in it", src->name);
    const char *want = sel->platform != NULL ? sel->platform : hd_host_platform();
    cand *pick = NULL;
    if (c->n == 1 && sel->platform == NULL) {
        pick = &c->v[0];
    } else {
        size_t matches = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (c->v[i].platform == NULL && load(src, &c->v[i], err) < 0)
                return -1;
            if (platform_matches(c->v[i].platform, want)) {
                /* Two names of one manifest (two tags) are one image. */
                if (pick != NULL && pick->entry == NULL && c->v[i].entry == NULL &&
                    strcmp(pick->digest, c->v[i].digest) == 0)
                    continue;
                matches++;
                if (pick == NULL)
                    pick = &c->v[i];
            }
        }
        if (matches == 0) {
            AUTOFREE char *names = cand_names(c, true);
            return hcs_err_set(err, E_INVALIDARG, "%s: no image for %s (it has: %s)", src->name,
                               want, names ? names : "?");
        }
        if (matches > 1) {
            AUTOFREE char *names = cand_names(c, false);
            return hcs_err_set(err, E_INVALIDARG,
                               "%s: %zu images for %s: pick one with --tag (names: %s)", src->name,
                               matches, want, names ? names : "?");
        }
    }
    if (load(src, pick, err) < 0)
        return -1;
    *out = pick->img;
    memset(&pick->img, 0, sizeof(pick->img));
    pick->loaded = false;
    return 0;
}

int hd_image_resolve(const hd_source *src, const hd_select *sel, hd_image *out, hcs_error **err)
{
    memset(out, 0, sizeof(*out));
    cands c = {0};
    AUTOJSON cJSON *doc = NULL;
    int rc = -1;
    if (hd_source_exists(src, "oci-layout") && hd_source_exists(src, "index.json")) {
        AUTOJSON cJSON *layout = NULL;
        if (read_json(src, "oci-layout", NULL, 0, &layout, err) < 0)
            goto done;
        if (jstr(layout, "imageLayoutVersion") == NULL) {
            hcs_err_set(err, HCS_E_INVALID_JSON,
                        "%s: oci-layout: expected {\"imageLayoutVersion\": \"1.0.0\"}", src->name);
            goto done;
        }
        if (read_json(src, "index.json", NULL, 0, &doc, err) < 0 ||
            oci_collect(src, doc, "index.json", NULL, 0, &c, err) < 0)
            goto done;
    } else if (hd_source_exists(src, "manifest.json")) {
        if (read_json(src, "manifest.json", NULL, 0, &doc, err) < 0 ||
            docker_collect(doc, src, &c, err) < 0)
            goto done;
    } else {
        hcs_err_set(err, E_INVALIDARG,
                    "%s: expected an OCI image layout (oci-layout, index.json) or a "
                    "docker-archive (manifest.json), found neither",
                    src->name);
        goto done;
    }
    rc = choose(src, sel, &c, out, err);
done:
    cands_free(&c);
    return rc;
}
