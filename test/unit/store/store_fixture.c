/* store_fixture.c - helpers shared by the store unit tests. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "store_fixture.h"

char *fx_run_path(const char *rel)
{
    char *p = rel[0] ? hcs_asprintf("%s/run/%s", hcs_test_root(), rel)
                     : hcs_asprintf("%s/run", hcs_test_root());
    ck_assert_ptr_nonnull(p);
    return p;
}

hcs_store_entry *fx_reserve(const char *id)
{
    hcs_error *err = NULL;
    hcs_store_entry *e = NULL;
    int rc = hcs_store_reserve(id, &e, &err);
    ck_assert_msg(rc == 0, "reserve %s: %s", id, err ? err->message : "?");
    ck_assert_ptr_nonnull(e);
    return e;
}

void fx_system(const char *id, const char *name, const char *type, const char *state,
               const char *owner)
{
    hcs_store_entry *e = fx_reserve(id);
    AUTOJSON cJSON *st = cJSON_CreateObject();
    if (name)
        cJSON_AddStringToObject(st, "Name", name);
    if (type)
        cJSON_AddStringToObject(st, "SystemType", type);
    if (state)
        cJSON_AddStringToObject(st, "State", state);
    if (owner)
        cJSON_AddStringToObject(st, "Owner", owner);
    hcs_error *err = NULL;
    ck_assert_msg(hcs_store_write_state(e, st, &err) == 0, "%s", err ? err->message : "?");
    ck_assert_int_eq(hcs_store_release(e, 0, NULL), 0);
}

void fx_write_raw(const char *id, const char *name, const char *text)
{
    AUTOFREE char *dir = hcs_asprintf("%s/run/systems/%s", hcs_test_root(), id);
    ck_assert_int_eq(hcs_mkdir_p(dir, 0700, NULL), 0);
    AUTOFREE char *path = hcs_asprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "we");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

size_t fx_count_entries(const char *path, const char *prefix)
{
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "opendir %s: %s", path, strerror(errno));
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

unsigned fx_mode(const char *path)
{
    struct stat st;
    ck_assert_msg(lstat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
    return (unsigned)(st.st_mode & 07777);
}

char *fx_enumerate_ids(const hcs_store_filter *f)
{
    hcs_error *err = NULL;
    AUTOJSON cJSON *arr = NULL;
    int rc = hcs_store_enumerate(f, &arr, &err);
    ck_assert_msg(rc == 0, "enumerate: %s", err ? err->message : "?");
    ck_assert(cJSON_IsArray(arr));
    char *out = strdup("");
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "Id");
        ck_assert(cJSON_IsString(id));
        char *next = hcs_asprintf("%s%s%s", out, out[0] ? "," : "", id->valuestring);
        free(out);
        out = next;
    }
    ck_assert_ptr_nonnull(out);
    return out;
}
