/* XEP-0363: the slot, shared by the slot request (upload.c) and the HTTP
 * transfer (upload_http.c). */
#ifndef XMPP_XEP_UPLOAD_INT_H
#define XMPP_XEP_UPLOAD_INT_H

#include <stdint.h>

#include <xmpp/xep/upload.h>

#define UPLOAD_MAX_URL     4096 /* bytes of a slot URL */
#define UPLOAD_MAX_HEADER  1024 /* bytes of a header value */
#define UPLOAD_MAX_HEADERS 8

struct xmpp_upload_slot {
    xmpp_ctx *ctx;
    char *put_url;
    char *get_url;
    char *content_type; /* as requested, or NULL */
    uint64_t size;
    size_t n_headers;
    char *hname[UPLOAD_MAX_HEADERS];
    char *hvalue[UPLOAD_MAX_HEADERS];
};

/* A deep copy (NULL on out of memory). */
xmpp_upload_slot *xmpp__upload_slot_copy(const xmpp_upload_slot *src);

/* Whether a URL is acceptable: https (or http when allowed), a host, at
 * most UPLOAD_MAX_URL bytes, no whitespace or control characters. */
int xmpp__upload_url_ok(const char *url, int allow_http);

#endif
