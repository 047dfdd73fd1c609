/*
 * unpack.h - writing the entries of a layer (from an archive or a folder, both read with
 * libarchive) into a layer folder being imported, in the union's form. Internal to lib/layer
 * (import.c).
 *
 * Every path is resolved beneath the layer folder without following any symlink, so nothing
 * is ever written outside it; entries that try are refused with HCS_E_INVALID_LAYER and a
 * message naming the entry and the reason. Limits (max_bytes, max_entries) give E_INVALIDARG.
 */
#ifndef HCS_LAYER_UNPACK_H
#define HCS_LAYER_UNPACK_H

#include <stdint.h>

#include "common/error.h"

struct archive;
struct archive_entry;

typedef struct hcs_unpack hcs_unpack;

/*
 * Start unpacking into the folder root_fd (not taken: the caller keeps it open until
 * hcs_unpack_free): Files/ is created now, Hives/ with its first entry. Limits of 0 mean the
 * defaults of layer.h.
 */
int hcs_unpack_new(int root_fd, uint64_t max_bytes, uint64_t max_entries, hcs_unpack **out,
                   hcs_error **err);

/*
 * Write entry e (its path as the layer sees it: "./usr/bin/ls", "Hives/x"), whose data, if
 * any, is read from a with archive_read_data_block.
 */
int hcs_unpack_entry(hcs_unpack *u, struct archive *a, struct archive_entry *e, hcs_error **err);

/* Apply the folders' times (deepest first), once every entry is written. */
int hcs_unpack_finish(hcs_unpack *u, hcs_error **err);

/* Bytes of file data written and entries unpacked so far. */
uint64_t hcs_unpack_written(const hcs_unpack *u);
uint64_t hcs_unpack_entries(const hcs_unpack *u);
/* The unpacked size: the sum of the sizes of regular files (holes included). */
uint64_t hcs_unpack_size(const hcs_unpack *u);

void hcs_unpack_free(hcs_unpack *u);

#endif
