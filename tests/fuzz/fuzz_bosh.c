/* libFuzzer target: BOSH response handling (lib/transport/bosh.h).
 *
 * Input: the bodies of up to four HTTP 200 responses separated by a NUL
 * byte. The first answers the session creation request; each later one
 * answers the next request (a payload is queued before each, and a
 * restart before the third, so restarts and payload requests are both
 * exercised). Invariants checked with abort(): every result is one of the
 * documented codes; a failed session has a condition name and accepts
 * nothing more; a request is only made when one is wanted; the number of
 * requests in flight never exceeds the limit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/bosh.h"

static void on_open(void *ud, const xmpp_stanza *body) {
    (void)ud;
    if (body == NULL)
        abort();
}

static void on_payload(void *ud, xmpp_stanza *el) {
    size_t *n = ud;
    if (el == NULL || xmpp_stanza_name(el) == NULL)
        abort();
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const xmpp__bosh_events ev = {on_open, on_payload};
    xmpp_ctx *ctx = NULL;
    xmpp__bosh *b = NULL;
    xmpp__bosh_config cfg;
    xmpp_buf out;
    size_t payloads = 0, off = 0;
    uint64_t now = 0;
    int round;
    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "cm.example";
    cfg.path = "/bosh";
    cfg.to = "example.com";
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    if (xmpp__bosh_new(&b, ctx, &cfg, 77, &ev, &payloads) != XMPP_OK)
        abort();
    xmpp__buf_init(&out, ctx);
    for (round = 0; round < 4 && off <= size; round++) {
        const uint8_t *end = memchr(data + off, 0, size - off);
        size_t len = end ? (size_t)(end - (data + off)) : size - off;
        xmpp__http_resp *r = NULL;
        char head[64];
        uint64_t rid = 0;
        int rc, n;
        if (round > 0) {
            if (round == 2)
                (void)xmpp__bosh_restart(b);
            (void)xmpp__bosh_queue(b, "<message xmlns='jabber:client'/>", 32);
        }
        if (!xmpp__bosh_want_request(b, now))
            break;
        out.len = 0;
        if (xmpp__bosh_make_request(b, now, &out, &rid) != XMPP_OK)
            abort(); /* wanted, so it must be made */
        if (xmpp__bosh_inflight(b) > xmpp__bosh_max_inflight(b))
            abort();
        if (xmpp__http_resp_new(&r, ctx, 0) != XMPP_OK)
            abort();
        n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", len);
        if (xmpp__http_resp_feed(r, head, (size_t)n, NULL) != XMPP_HTTP_AGAIN && len > 0)
            abort();
        if (len > 0 && xmpp__http_resp_feed(r, data + off, len, NULL) != XMPP_OK)
            abort();
        rc = xmpp__bosh_response(b, rid, now, r);
        xmpp__http_resp_free(r);
        if (rc != XMPP_OK && rc != XMPP_ERR_STREAM && rc != XMPP_ERR_CLOSED &&
            rc != XMPP_ERR_NOMEM)
            abort();
        if (rc == XMPP_ERR_STREAM) {
            if (xmpp__bosh_state(b) != XMPP_BOSH_FAILED || xmpp__bosh_condition(b, NULL) == NULL)
                abort();
            if (xmpp__bosh_want_request(b, now) || xmpp__bosh_queue(b, "<x/>", 4) != XMPP_ERR_STATE)
                abort();
            break;
        }
        if (rc != XMPP_OK)
            break;
        off += len + 1;
        now += 1000;
    }
    xmpp__buf_free(&out);
    xmpp__bosh_free(b);
    xmpp_ctx_free(ctx);
    return 0;
}
