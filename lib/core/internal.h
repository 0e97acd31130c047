/* Internal core services: the context, allocation, logging, UTF-8 checks.
 * Nothing here is exported; every library file includes this first. */
#ifndef XMPP_CORE_INTERNAL_H
#define XMPP_CORE_INTERNAL_H

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <xmpp/common.h>

struct xmpp_ctx {
    xmpp_allocator alloc;
    xmpp_log_fn log_fn;
    void *log_ud;
    xmpp_log_level log_level;
};

/* Allocation through the context's hooks. Sizes are checked for overflow by
 * the callers that multiply (see xmpp__mul_ok). */
void *xmpp__malloc(const xmpp_ctx *ctx, size_t size);
void *xmpp__realloc(const xmpp_ctx *ctx, void *ptr, size_t size);
void xmpp__free(const xmpp_ctx *ctx, void *ptr);
char *xmpp__strdup(const xmpp_ctx *ctx, const char *s);
char *xmpp__strndup(const xmpp_ctx *ctx, const char *s, size_t n);

static inline int xmpp__mul_ok(size_t a, size_t b) {
    return b == 0 || a <= SIZE_MAX / b;
}

/* Logging: the level test happens before any formatting. */
#define xmpp__log_enabled(ctx, lvl)                                            \
    ((ctx) != NULL && (ctx)->log_fn != NULL && (lvl) >= (ctx)->log_level)
void xmpp__log_emit(const xmpp_ctx *ctx, xmpp_log_level lvl, const char *area,
                    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define xmpp__log(ctx, lvl, area, ...)                                         \
    do {                                                                       \
        if (xmpp__log_enabled(ctx, lvl))                                       \
            xmpp__log_emit(ctx, lvl, area, __VA_ARGS__);                       \
    } while (0)

/* UTF-8: returns 1 when s[0..n) is valid UTF-8 holding only characters
 * allowed by XML 1.0 (§2.2 Char production). */
int xmpp__xml_text_ok(const char *s, size_t n);
/* 1 when s[0..n) is an XML NCName (a name without ':'). */
int xmpp__xml_ncname_ok(const char *s, size_t n);

#endif
