#include "testhelp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <execinfo.h>

/* TH_TRACE=1 prints a backtrace at each refused allocation (debugging). */
static void trace_refusal(void) {
    void *frames[16];
    int n;
    if (getenv("TH_TRACE") == NULL)
        return;
    n = backtrace(frames, 16);
    backtrace_symbols_fd(frames, n, 2);
}

/* Each block carries a header with its size so realloc can be counted. */
static void *th_malloc(size_t size, void *ud) {
    th_alloc *st = ud;
    if (st->fail_at >= 0 && st->count++ == st->fail_at) {
        st->failed = 1;
        trace_refusal();
        return NULL;
    }
    if (st->fail_at < 0)
        st->count++;
    {
        void *p = malloc(size);
        if (p != NULL)
            st->live++;
        return p;
    }
}

static void *th_realloc(void *ptr, size_t size, void *ud) {
    th_alloc *st = ud;
    void *p;
    if (ptr == NULL)
        return th_malloc(size, ud);
    if (st->fail_at >= 0 && st->count++ == st->fail_at) {
        st->failed = 1;
        trace_refusal();
        return NULL;
    }
    if (st->fail_at < 0)
        st->count++;
    p = realloc(ptr, size);
    return p;
}

static void th_free(void *ptr, void *ud) {
    th_alloc *st = ud;
    if (ptr == NULL)
        return;
    st->live--;
    free(ptr);
}

xmpp_ctx *th_ctx_new(th_alloc *state) {
    xmpp_allocator a;
    xmpp_ctx *ctx = NULL;
    long saved = state->fail_at;
    a.malloc = th_malloc;
    a.realloc = th_realloc;
    a.free = th_free;
    a.user_data = state;
    state->fail_at = -1;
    if (xmpp_ctx_new(&ctx, &a) != XMPP_OK)
        return NULL;
    /* the context's own block is not part of any scenario */
    state->live = 0;
    state->count = 0;
    state->fail_at = saved;
    state->failed = 0;
    return ctx;
}

void th_alloc_reset(th_alloc *state, long fail_at) {
    state->fail_at = fail_at;
    state->count = 0;
    state->live = 0;
    state->failed = 0;
}

long th_torture(int (*scenario)(xmpp_ctx *ctx, void *arg), void *arg) {
    long n;
    for (n = 0;; n++) {
        th_alloc st;
        xmpp_ctx *ctx;
        int rc;
        memset(&st, 0, sizeof(st));
        st.fail_at = -1;
        ctx = th_ctx_new(&st);
        assert_non_null(ctx);
        th_alloc_reset(&st, n);
        rc = scenario(ctx, arg);
        if (st.failed) {
            if (rc >= 0)
                fail_msg("allocation %ld failed but the scenario reported success", n);
        } else {
            assert_int_equal(rc, 0);
        }
        if (st.live != 0)
            fail_msg("allocation failure at %ld: %ld block(s) leaked", n, st.live);
        st.live = 1; /* the context block itself */
        xmpp_ctx_free(ctx);
        if (!st.failed)
            return n;
        if (n > 1000000)
            fail_msg("torture did not converge");
    }
}

char *th_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        size_t r;
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}
