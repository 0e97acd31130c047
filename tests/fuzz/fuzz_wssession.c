/* libFuzzer target: the session in RFC 7395 framing mode
 * (lib/session/websocket.c) behind a valid WebSocket upgrade.
 *
 * Input: 1 header byte (seed for the read sizes), then the bytes a hostile
 * server sends after its 101: frames carrying <open/>, features, SASL,
 * stanzas, pings, close frames, in any order. The session is driven with
 * PLAIN over ws:// (plaintext allowed) and answers whatever it can; its
 * output is drained after every read.
 * Invariants checked with abort(): xmpp_session_recv() returns XMPP_OK
 * until the end and XMPP_ERR_CLOSED after it; on_closed fires at most once
 * and only with an end state; a closed session reports a cause. Leaks are
 * the sanitizer's (and the replay under valgrind).
 *
 * Seed corpus (tests/fuzz/corpus/wssession): a login up to bind, a server
 * <close/>, a ping, see-other-uri, a masked frame. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xmpp.h>

#include "transport/ws.h"

static int closed_count;

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    (void)ud;
    closed_count++;
    if (cause == XMPP_CAUSE_NONE || xmpp_session_get_state(s) != XMPP_STATE_CLOSED)
        abort();
}

static void drain(xmpp_session *s, char *keep, size_t cap, size_t *kept) {
    const void *d;
    size_t n;
    if (xmpp_session_drain(s, &d, &n) != XMPP_OK)
        abort();
    if (keep != NULL && n > 0 && *kept + n < cap) {
        memcpy(keep + *kept, d, n);
        *kept += n;
        keep[*kept] = '\0';
    }
    xmpp_session_consume(s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static xmpp_ctx *ctx;
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    char req[2048], key[32], accept[29], resp[256];
    const char *k;
    size_t kept = 0, off = 1, kl;
    unsigned seed;
    int n;
    if (size < 1)
        return 0;
    if (ctx == NULL && xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        abort();
    seed = data[0];
    closed_count = 0;
    if (xmpp_session_options_new(&o, ctx) != XMPP_OK ||
        xmpp_session_options_set_jid(o, "alice@example.com") != XMPP_OK ||
        xmpp_session_options_set_password(o, "secret") != XMPP_OK ||
        xmpp_session_options_allow_plaintext(o, 1) != XMPP_OK ||
        xmpp_session_options_set_websocket(o, "ws://example.com/ws") != XMPP_OK ||
        xmpp_session_options_set_callbacks(o, NULL, on_closed, NULL) != XMPP_OK ||
        xmpp_session_new(&s, ctx, o) != XMPP_OK)
        abort();
    xmpp_session_options_free(o);
    if (xmpp_session_start(s, 1) != XMPP_OK)
        abort();
    drain(s, req, sizeof(req), &kept);
    k = strstr(req, "Sec-WebSocket-Key: ");
    if (k == NULL)
        abort();
    k += 19;
    kl = strcspn(k, "\r");
    if (kl >= sizeof(key))
        abort();
    memcpy(key, k, kl);
    key[kl] = '\0';
    if (xmpp__ws_accept_for(key, accept) != XMPP_OK)
        abort();
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n",
                 accept);
    if (xmpp_session_recv(s, resp, (size_t)n, 2) != XMPP_OK)
        abort();
    drain(s, NULL, 0, NULL);
    while (off < size) {
        size_t chunk;
        int rc;
        seed = seed * 1103515245u + 12345u;
        chunk = 1 + (seed >> 16) % 64;
        if (chunk > size - off)
            chunk = size - off;
        rc = xmpp_session_recv(s, data + off, chunk, 3);
        if (xmpp_session_get_state(s) == XMPP_STATE_CLOSED) {
            if (rc != XMPP_OK && rc != XMPP_ERR_CLOSED)
                abort();
            if (xmpp_session_get_error(s, NULL, NULL) == XMPP_CAUSE_NONE)
                abort();
        } else if (rc != XMPP_OK) {
            abort();
        }
        drain(s, NULL, 0, NULL);
        off += chunk;
    }
    if (closed_count > 1)
        abort();
    xmpp_session_free(s);
    return 0;
}
