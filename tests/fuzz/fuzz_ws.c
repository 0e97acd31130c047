/* libFuzzer target: WebSocket frame decoding (lib/transport/ws.h).
 *
 * Input: 2 header bytes ([0] seed for the read sizes, [1] the message
 * limit in units of 64 bytes, 0: the default), then the bytes a hostile
 * server sends after a valid 101. The frames are decoded once whole and
 * once in reads of pseudo-random sizes (1..32 bytes).
 * Invariants checked with abort(): both runs deliver the same messages and
 * end with the same result, state and queued output length (the queued
 * frames are masked with fresh random keys, so only lengths compare);
 * every message is within the limit and valid XML UTF-8; errors come with
 * a text and are sticky.
 *
 * Seed corpus (tests/fuzz/corpus/ws): text, a fragmented message with a
 * ping inside, 16- and 64-bit lengths, close with a reason, a masked
 * frame, a reserved opcode, an invalid close code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/ws.h"

typedef struct sink {
    unsigned char digest[64];
    size_t count, bytes, limit;
} sink;

static int on_msg(void *ud, const char *data, size_t len) {
    sink *s = ud;
    size_t i;
    if (len > s->limit || (len > 0 && !xmpp__xml_text_ok(data, len)))
        abort();
    for (i = 0; i < len; i++)
        s->digest[(s->bytes + i) % sizeof(s->digest)] ^= (unsigned char)(data[i] + i);
    s->count++;
    s->bytes += len;
    return 0;
}

static xmpp__ws *open_ws(xmpp_ctx *ctx, size_t limit) {
    xmpp__ws *ws;
    xmpp__http_resp *r;
    xmpp_buf req;
    char resp[512], key[32], acc[29];
    const char *k;
    size_t n;
    if (xmpp__ws_new(&ws, ctx, limit) != XMPP_OK)
        abort();
    xmpp__buf_init(&req, ctx);
    if (xmpp__ws_handshake_request(ws, &req, "example.org", "/ws", NULL, 0) != XMPP_OK)
        abort();
    k = strstr(req.data, "Sec-WebSocket-Key: ") + 19;
    n = strcspn(k, "\r");
    memcpy(key, k, n);
    key[n] = '\0';
    if (xmpp__ws_accept_for(key, acc) != XMPP_OK)
        abort();
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n",
             acc);
    if (xmpp__http_resp_new(&r, ctx, 0) != XMPP_OK ||
        xmpp__http_resp_feed(r, resp, strlen(resp), NULL) != XMPP_OK ||
        xmpp__ws_handshake_check(ws, r) != XMPP_OK)
        abort();
    xmpp__http_resp_free(r);
    xmpp__buf_free(&req);
    return ws;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp__ws *a, *b;
    sink sa, sb;
    uint32_t seed;
    size_t limit, pos;
    int ra, rb = XMPP_OK;
    if (size < 2)
        return 0;
    seed = data[0] * 2654435761u + 7;
    limit = (size_t)data[1] * 64;
    data += 2;
    size -= 2;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    a = open_ws(ctx, limit);
    b = open_ws(ctx, limit);
    memset(&sa, 0, sizeof(sa));
    memset(&sb, 0, sizeof(sb));
    sa.limit = sb.limit = limit ? limit : XMPP_WS_DEFAULT_MAX_MESSAGE;
    ra = xmpp__ws_feed(a, data, size, on_msg, &sa);
    for (pos = 0; pos < size && rb == XMPP_OK;) {
        size_t n;
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 32;
        if (n > size - pos)
            n = size - pos;
        rb = xmpp__ws_feed(b, data + pos, n, on_msg, &sb);
        pos += n;
    }
    if (ra != rb || sa.count != sb.count || sa.bytes != sb.bytes ||
        memcmp(sa.digest, sb.digest, sizeof(sa.digest)) != 0 ||
        xmpp__ws_get_state(a) != xmpp__ws_get_state(b) || xmpp__ws_pending(a) != xmpp__ws_pending(b))
        abort();
    if (ra != XMPP_OK && ra != XMPP_ERR_CLOSED) {
        if (xmpp__ws_error(a)[0] == '\0' || xmpp__ws_feed(a, "", 0, on_msg, &sa) != ra)
            abort();
    }
    xmpp__ws_free(a);
    xmpp__ws_free(b);
    xmpp_ctx_free(ctx);
    return 0;
}
