/* Growing buffer with geometric growth: appends are amortised O(1). */
#include "core/buf.h"

#include <string.h>

void xmpp__buf_init(xmpp_buf *b, const xmpp_ctx *ctx) {
    b->ctx = ctx;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

int xmpp__buf_reserve(xmpp_buf *b, size_t extra) {
    size_t need, cap;
    char *p;
    if (b->oom)
        return XMPP_ERR_NOMEM;
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = 1;
        return XMPP_ERR_NOMEM;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return XMPP_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = xmpp__realloc(b->ctx, b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return XMPP_ERR_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return XMPP_OK;
}

int xmpp__buf_append(xmpp_buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap || b->oom) {
        int rc = xmpp__buf_reserve(b, n);
        if (rc != XMPP_OK)
            return rc;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return XMPP_OK;
}

int xmpp__buf_append_str(xmpp_buf *b, const char *s) {
    return xmpp__buf_append(b, s, strlen(s));
}

int xmpp__buf_append_char(xmpp_buf *b, char c) {
    return xmpp__buf_append(b, &c, 1);
}

char *xmpp__buf_steal(xmpp_buf *b, size_t *len) {
    char *p;
    if (b->oom) {
        xmpp__buf_free(b);
        return NULL;
    }
    if (b->data == NULL && xmpp__buf_reserve(b, 0) != XMPP_OK)
        return NULL;
    b->data[b->len] = '\0';
    p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void xmpp__buf_reset(xmpp_buf *b) {
    b->len = 0;
    b->oom = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void xmpp__buf_free(xmpp_buf *b) {
    xmpp__free(b->ctx, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
