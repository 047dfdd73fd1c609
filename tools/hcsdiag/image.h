/*
 * image.h - an image found in a source (image_resolve.c): its layer blobs in order, base
 * first, and the diff ids of its config. Every manifest and config read was checked against
 * its digest; the layer blobs are checked by the importer (image.c).
 */
#ifndef HCSDIAG_IMAGE_H
#define HCSDIAG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hcsdiag.h"
#include "source.h"

typedef struct hd_blob {
    char *path;                 /* inside the source */
    char digest[HD_DIGEST_LEN]; /* expected sha256, or "" when the source does not give one */
    uint64_t size;              /* expected size, or 0 when unknown */
} hd_blob;

typedef struct hd_image {
    const char *format; /* "OCI layout" or "docker-archive" */
    char *config;       /* the config's digest, or its file name when it has none */
    char *platform;     /* "os/arch[/variant]" from the config */
    hd_blob *layers;    /* base first */
    size_t n_layers;
    char **diff_ids; /* the config's rootfs.diff_ids, n_layers of them */
} hd_image;

typedef struct hd_select {
    const char *platform; /* "os/arch[/variant]" asked for, or NULL: the host's */
    const char *tag;      /* a ref name or repository tag, or NULL */
} hd_select;

/* Find the image to import in the source (OCI layout or docker-archive). */
int hd_image_resolve(const hd_source *src, const hd_select *sel, hd_image *out, hcs_error **err);
void hd_image_free(hd_image *img);

/* "linux/amd64" (with "/v7" etc. where the host has a variant): the default platform. */
const char *hd_host_platform(void);

#endif
