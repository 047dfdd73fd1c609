/* store_enumerate.c - list the compute systems of the runtime root, filtered, sorted by id. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/json.h"
#include "common/util.h"
#include "store.h"
#include "store_internal.h"

/* The fields every item starts with, in this order; "RuntimeOsType" follows them. */
static const char *const leading_fields[] = {"Name", "SystemType", "State", "Owner"};

typedef struct {
    char **v;
    size_t n, cap;
} name_list;

static void name_list_cleanup(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static void dir_cleanup(DIR **d)
{
    if (*d != NULL)
        closedir(*d);
}

static int name_list_add(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, nc * sizeof(*nv));
        if (nv == NULL)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    if ((l->v[l->n] = strdup(s)) == NULL)
        return -1;
    l->n++;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* n == 0: no filter. Otherwise v must be a string equal to one of the list's strings. */
static int matches(const char *const *list, size_t n, const char *v)
{
    if (n == 0)
        return 1;
    if (v == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (list[i] != NULL && strcmp(list[i], v) == 0)
            return 1;
    return 0;
}

static const char *state_string(const cJSON *state, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(state, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_leading_field(const char *name)
{
    if (strcmp(name, "Id") == 0 || strcmp(name, "RuntimeOsType") == 0)
        return 1;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(leading_fields); i++)
        if (strcmp(name, leading_fields[i]) == 0)
            return 1;
    return 0;
}

static int add_copy(cJSON *item, const char *name, const cJSON *v)
{
    cJSON *c = hcs_json_dup_exact(v);
    if (c == NULL)
        return -1;
    if (!cJSON_AddItemToObject(item, name, c)) {
        cJSON_Delete(c);
        return -1;
    }
    return 0;
}

/* The enumeration item of one system; NULL when out of memory. */
static cJSON *build_item(const char *id, const cJSON *state)
{
    AUTOJSON cJSON *item = cJSON_CreateObject();
    if (item == NULL || cJSON_AddStringToObject(item, "Id", id) == NULL)
        return NULL;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(leading_fields); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(state, leading_fields[i]);
        if (v != NULL && add_copy(item, leading_fields[i], v) < 0)
            return NULL;
    }
    if (cJSON_AddStringToObject(item, "RuntimeOsType", "Linux") == NULL)
        return NULL;
    for (const cJSON *k = state->child; k != NULL; k = k->next)
        if (!is_leading_field(k->string) && add_copy(item, k->string, k) < 0)
            return NULL;
    return steal_ptr(&item);
}

/*
 * Add the item of systems/<id> to arr if its state is readable and matches f. Returns 0 (added
 * or skipped) or -1 (out of memory: the only reason the whole enumeration fails here).
 */
static int add_system(int sfd, const char *id, const hcs_store_filter *f, cJSON *arr,
                      hcs_error **err)
{
    AUTOCLOSE int fd = openat(sfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        char buf[128];
        hcs_log(HCS_LOG_DEBUG, "enumerate: skipping systems/%s: %s", id,
                strerror_r(errno, buf, sizeof(buf)));
        return 0;
    }
    AUTOERR hcs_error *skip = NULL;
    AUTOFREE char *text = NULL;
    size_t len = 0;
    AUTOJSON cJSON *state = NULL;
    if (hcs_read_file_at(fd, HCS_STORE_STATE_FILE, HCS_STORE_STATE_MAX, &text, &len, &skip) < 0 ||
        hcs_json_parse(text, len, HCS_STORE_STATE_FILE, &state, &skip) < 0) {
        if (skip->hr == E_OUTOFMEMORY) {
            hcs_err_move(err, &skip);
            return hcs_err_wrap(err, "compute system \"%s\"", id);
        }
        hcs_log(HCS_LOG_DEBUG, "enumerate: skipping compute system \"%s\": %s", id, skip->message);
        return 0;
    }
    if (!cJSON_IsObject(state)) {
        hcs_log(HCS_LOG_DEBUG,
                "enumerate: skipping compute system \"%s\": " HCS_STORE_STATE_FILE
                " is not a JSON object",
                id);
        return 0;
    }
    if (!matches(f->names, f->n_names, state_string(state, "Name")) ||
        !matches(f->types, f->n_types, state_string(state, "SystemType")) ||
        !matches(f->owners, f->n_owners, state_string(state, "Owner")))
        return 0;
    cJSON *item = build_item(id, state);
    if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return hcs_err_set(err, E_OUTOFMEMORY, "compute system \"%s\": out of memory", id);
    }
    return 0;
}

static int check_filter(const hcs_store_filter *f, hcs_error **err)
{
    const struct {
        const char *name;
        const void *list;
        size_t n;
    } lists[] = {{"ids", f->ids, f->n_ids},
                 {"names", f->names, f->n_names},
                 {"types", f->types, f->n_types},
                 {"owners", f->owners, f->n_owners}};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(lists); i++)
        if (lists[i].n > 0 && lists[i].list == NULL)
            return hcs_err_set(err, E_INVALIDARG, "filter: %s is NULL but its count is %zu",
                               lists[i].name, lists[i].n);
    return 0;
}

int hcs_store_enumerate(const hcs_store_filter *f, cJSON **out_array, hcs_error **err)
{
    static const hcs_store_filter no_filter;
    *out_array = NULL;
    if (f == NULL)
        f = &no_filter;
    if (check_filter(f, err) < 0)
        return hcs_err_wrap(err, "enumerate compute systems");
    AUTOJSON cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "enumerate compute systems: out of memory");
    AUTOFREE char *systems = NULL;
    if (hcs_store_systems_path(&systems, err) < 0)
        return hcs_err_wrap(err, "enumerate compute systems");

    int sfd = open(systems, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0) {
        if (errno == ENOENT) { /* nothing was ever created under this root */
            *out_array = steal_ptr(&arr);
            return 0;
        }
        return hcs_err_errno(err, errno, "enumerate compute systems: open %s", systems);
    }
    __attribute__((cleanup(dir_cleanup))) DIR *d = fdopendir(sfd);
    if (d == NULL) {
        int e = errno;
        close(sfd);
        return hcs_err_errno(err, e, "enumerate compute systems: list %s", systems);
    }

    __attribute__((cleanup(name_list_cleanup))) name_list ids = {0};
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                return hcs_err_errno(err, errno, "enumerate compute systems: list %s", systems);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        AUTOERR hcs_error *bad = NULL;
        if (hcs_store_validate_id(de->d_name, &bad) < 0) {
            hcs_log(HCS_LOG_DEBUG, "enumerate: ignoring a folder in %s: %s", systems, bad->message);
            continue;
        }
        if (!matches(f->ids, f->n_ids, de->d_name))
            continue;
        if (name_list_add(&ids, de->d_name) < 0)
            return hcs_err_set(err, E_OUTOFMEMORY, "enumerate compute systems: out of memory");
    }
    if (ids.n > 1)
        qsort(ids.v, ids.n, sizeof(*ids.v), compare_names);
    for (size_t i = 0; i < ids.n; i++)
        if (add_system(dirfd(d), ids.v[i], f, arr, err) < 0)
            return hcs_err_wrap(err, "enumerate compute systems");
    *out_array = steal_ptr(&arr);
    return 0;
}
