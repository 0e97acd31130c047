/* A growing byte buffer allocated through a context. Always NUL-terminated
 * when non-empty so the contents can be handed out as a C string. */
#ifndef XMPP_CORE_BUF_H
#define XMPP_CORE_BUF_H

#include "core/internal.h"

typedef struct xmpp_buf {
    const xmpp_ctx *ctx;
    char *data;
    size_t len;
    size_t cap;
    int oom; /* sticky: set by the first failed append */
} xmpp_buf;

void xmpp__buf_init(xmpp_buf *b, const xmpp_ctx *ctx);
/* Ensures room for `extra` more bytes plus the terminator. */
int xmpp__buf_reserve(xmpp_buf *b, size_t extra);
int xmpp__buf_append(xmpp_buf *b, const char *s, size_t n);
int xmpp__buf_append_str(xmpp_buf *b, const char *s);
int xmpp__buf_append_char(xmpp_buf *b, char c);
/* Hands the data to the caller (NUL-terminated, free with xmpp__free) and
 * resets the buffer. Returns NULL after an allocation failure. */
char *xmpp__buf_steal(xmpp_buf *b, size_t *len);
void xmpp__buf_reset(xmpp_buf *b); /* keeps capacity */
void xmpp__buf_free(xmpp_buf *b);

#endif
