/* The context and the allocator hooks. */
#include "core/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

/* libxml2 2.9's xmlInitParser() is not safe when two threads run it for
 * the first time at once: every context creation funnels through one
 * pthread_once, the library's only process-wide initialisation. */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void init_xml(void) {
    xmlInitParser();
}

static void *default_malloc(size_t size, void *ud) {
    (void)ud;
    return malloc(size);
}
static void *default_realloc(void *p, size_t size, void *ud) {
    (void)ud;
    return realloc(p, size);
}
static void default_free(void *p, void *ud) {
    (void)ud;
    free(p);
}

int xmpp_ctx_new(xmpp_ctx **out, const xmpp_allocator *alloc) {
    xmpp_ctx *ctx;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    pthread_once(&xml_once, init_xml);
    if (alloc != NULL &&
        (alloc->malloc == NULL || alloc->realloc == NULL || alloc->free == NULL))
        return XMPP_ERR_INVALID;
    if (alloc != NULL)
        ctx = alloc->malloc(sizeof(*ctx), alloc->user_data);
    else
        ctx = malloc(sizeof(*ctx));
    if (ctx == NULL)
        return XMPP_ERR_NOMEM;
    memset(ctx, 0, sizeof(*ctx));
    if (alloc != NULL) {
        ctx->alloc = *alloc;
    } else {
        ctx->alloc.malloc = default_malloc;
        ctx->alloc.realloc = default_realloc;
        ctx->alloc.free = default_free;
    }
    ctx->log_level = XMPP_LOG_NONE;
    *out = ctx;
    return XMPP_OK;
}

void xmpp_ctx_free(xmpp_ctx *ctx) {
    if (ctx == NULL)
        return;
    ctx->alloc.free(ctx, ctx->alloc.user_data);
}

void xmpp_ctx_set_log(xmpp_ctx *ctx, xmpp_log_fn fn, xmpp_log_level level,
                      void *user_data) {
    if (ctx == NULL)
        return;
    ctx->log_fn = fn;
    ctx->log_ud = user_data;
    ctx->log_level = level;
}

void xmpp_free(xmpp_ctx *ctx, void *ptr) {
    if (ctx != NULL && ptr != NULL)
        ctx->alloc.free(ptr, ctx->alloc.user_data);
}

void *xmpp__malloc(const xmpp_ctx *ctx, size_t size) {
    return ctx->alloc.malloc(size ? size : 1, ctx->alloc.user_data);
}

void *xmpp__realloc(const xmpp_ctx *ctx, void *ptr, size_t size) {
    return ctx->alloc.realloc(ptr, size ? size : 1, ctx->alloc.user_data);
}

void xmpp__free(const xmpp_ctx *ctx, void *ptr) {
    if (ptr != NULL)
        ctx->alloc.free(ptr, ctx->alloc.user_data);
}

char *xmpp__strndup(const xmpp_ctx *ctx, const char *s, size_t n) {
    char *p;
    if (n == SIZE_MAX)
        return NULL;
    p = xmpp__malloc(ctx, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xmpp__strdup(const xmpp_ctx *ctx, const char *s) {
    return xmpp__strndup(ctx, s, strlen(s));
}
