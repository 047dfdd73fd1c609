/*
 * writable_internal.h - private to lib/layer: the pieces behind writable layers (writable.c,
 * holders.c, backend.c, copy.c) that those files share, and hooks the tests use.
 */
#ifndef HCS_LAYER_WRITABLE_INTERNAL_H
#define HCS_LAYER_WRITABLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "layer.h"

/* Copy backend: W/.copied exists once the merged parents have been copied into W/rootfs. */
#define HCS_LAYER_COPIED ".copied"

/*
 * Run the backend probe in the existing folder dir (a temporary folder is made in it and
 * removed, whatever happens): OVERLAY when an overlay with a whiteout and an upper folder
 * mounts and behaves there, else COPY. hcs_layer_backend() calls it once, on the data root.
 */
enum hcs_layer_backend hcs_layer_backend_probe(const char *dir);

/*
 * Fill the empty folder dest with the merge of the read-only trees files[0..n) (nearest
 * first): whiteouts delete, opaque folders replace, everything else replaces what is below it.
 * Modes, owners, times, xattrs (but trusted.overlay.*), symlinks, devices, hard links within
 * one layer and holes are kept. The root of dest takes the attributes of the nearest root.
 */
int hcs_layer_copy_merge(const char *const *files, size_t n, const char *dest, hcs_error **err);

/*
 * Refuse (HCS_E_INVALID_STATE, naming the holder) when the layer at path (real path real) has a
 * live holder; stale holders are removed. 0 when none is live.
 */
int hcs_layer_holders_check(const char *path, const char *real, hcs_error **err);

/*
 * The files folders of the parents of the writable layer info (hcs_layer_files_path of each),
 * nearest first; errors name "LayerData.Layers[i]". Free with hcs_layer_strv_free.
 */
int hcs_layer_parent_files(const hcs_layer_info *info, char ***out, hcs_error **err);
void hcs_layer_strv_free(char **v, size_t n);

/* Whether parent (a real path) is one of the parents of the writable layer real_w (attached). */
bool hcs_layer_writable_holds(const char *real_w, const char *parent_real);

#endif
