/* libFuzzer target: the HTTP/1.1 response parser (lib/transport/http.h).
 *
 * Input: 1 header byte (the seed for the read sizes), then the bytes a
 * hostile server sends. The response is parsed once whole and once in
 * reads of pseudo-random sizes (1..64 bytes), then eof is signalled.
 * Invariants checked with abort(): both runs give the same result, the
 * same bytes consumed, status, field list and body (split invariance);
 * results are XMPP_OK, XMPP_HTTP_AGAIN or an XMPP_HTTP_ERR_* code with an
 * error text; failures are sticky; the body never exceeds the limit.
 *
 * Seed corpus (tests/fuzz/corpus/http): Content-Length, chunked with
 * extensions and trailers, a 101 with frame bytes behind it, folding, a
 * bare LF, a smuggling attempt (Transfer-Encoding with Content-Length). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http.h"

#define LIMIT 4096

typedef struct run {
    int rc, status;
    size_t consumed, nfields, body_len;
    const char *body;
} run;

static void check_rc(int rc, const xmpp__http_resp *r) {
    if (rc == XMPP_OK || rc == XMPP_HTTP_AGAIN)
        return;
    if (rc > XMPP_HTTP_ERR_STATUS || rc < XMPP_HTTP_ERR_TRUNCATED)
        abort();
    if (xmpp__http_resp_error(r)[0] == '\0')
        abort();
}

static void collect(xmpp__http_resp *r, run *o, int rc) {
    o->rc = rc;
    o->status = xmpp__http_resp_status(r);
    o->nfields = xmpp__http_resp_header_count(r);
    o->body = xmpp__http_resp_body(r, &o->body_len);
    if (o->body_len > LIMIT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp__http_resp *a = NULL, *b = NULL;
    run ra, rb;
    uint32_t seed;
    size_t pos, c, i;
    int rc;
    if (size < 1)
        return 0;
    seed = data[0] * 2654435761u + 1;
    data++;
    size--;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    if (xmpp__http_resp_new(&a, ctx, LIMIT) != XMPP_OK || xmpp__http_resp_new(&b, ctx, LIMIT) != XMPP_OK)
        abort();
    rc = xmpp__http_resp_feed(a, data, size, &c);
    check_rc(rc, a);
    if (rc == XMPP_HTTP_AGAIN && c != size)
        abort();
    ra.consumed = c;
    collect(a, &ra, rc);
    rb.consumed = 0;
    rc = XMPP_HTTP_AGAIN;
    for (pos = 0; pos < size && rc == XMPP_HTTP_AGAIN;) {
        size_t n;
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 64;
        if (n > size - pos)
            n = size - pos;
        rc = xmpp__http_resp_feed(b, data + pos, n, &c);
        check_rc(rc, b);
        rb.consumed += c;
        pos += n;
    }
    collect(b, &rb, rc);
    if (ra.rc != rb.rc || ra.consumed != rb.consumed || ra.status != rb.status ||
        ra.nfields != rb.nfields || ra.body_len != rb.body_len ||
        memcmp(ra.body, rb.body, ra.body_len) != 0)
        abort();
    for (i = 0; i < ra.nfields; i++) {
        const char *n1, *v1, *n2, *v2;
        if (xmpp__http_resp_header(a, i, &n1, &v1) != XMPP_OK ||
            xmpp__http_resp_header(b, i, &n2, &v2) != XMPP_OK || strcmp(n1, n2) != 0 ||
            strcmp(v1, v2) != 0)
            abort();
    }
    if (ra.rc != XMPP_OK && ra.rc != XMPP_HTTP_AGAIN &&
        xmpp__http_resp_feed(a, "x", 1, NULL) != ra.rc)
        abort(); /* sticky */
    rc = xmpp__http_resp_eof(a);
    check_rc(rc, a);
    if (rc == XMPP_HTTP_AGAIN)
        abort();
    xmpp__http_resp_free(a);
    xmpp__http_resp_free(b);
    xmpp_ctx_free(ctx);
    return 0;
}
