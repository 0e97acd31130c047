/* RFC 6455 client framing (lib/transport/ws.c): the upgrade handshake
 * (RFC 7395 subprotocol, the RFC 6455 §1.3 accept vector), masked frames
 * out, every receive rule, close handshake, every split point, torture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/ws.h"
#include "testhelp.h"

/* --- helpers --------------------------------------------------------------------- */

typedef struct msgs {
    char all[8192]; /* messages joined by '|' */
    size_t len;
    int count, stop_at, stop_rc;
} msgs;

static int on_msg(void *ud, const char *data, size_t len) {
    msgs *m = ud;
    assert_true(m->len + len + 1 < sizeof(m->all));
    memcpy(m->all + m->len, data, len);
    m->len += len;
    m->all[m->len++] = '|';
    m->all[m->len] = '\0';
    m->count++;
    if (m->stop_at != 0 && m->count == m->stop_at)
        return m->stop_rc;
    return 0;
}

/* Builds the 101 for the key in req (the text of our upgrade request). */
static void make_101(const char *req, char *out, size_t cap, const char *extra) {
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    char key[64], acc[29];
    size_t n;
    assert_non_null(k);
    k += 19;
    n = strcspn(k, "\r");
    assert_true(n < sizeof(key));
    memcpy(key, k, n);
    key[n] = '\0';
    assert_int_equal(xmpp__ws_accept_for(key, acc), XMPP_OK);
    snprintf(out, cap,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, "
             "UPGRADE\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
             acc, extra ? extra : "Sec-WebSocket-Protocol: xmpp\r\n");
}

/* A new ws object past the handshake. */
static xmpp__ws *open_ws(xmpp_ctx *ctx, size_t limit) {
    xmpp__ws *ws;
    xmpp_buf req;
    xmpp__http_resp *r;
    char resp[512];
    assert_int_equal(xmpp__ws_new(&ws, ctx, limit), XMPP_OK);
    xmpp__buf_init(&req, ctx);
    assert_int_equal(xmpp__ws_handshake_request(ws, &req, "example.org", "/xmpp-websocket", NULL, 0),
                     XMPP_OK);
    make_101(req.data, resp, sizeof(resp), NULL);
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 0), XMPP_OK);
    assert_int_equal(xmpp__http_resp_feed(r, resp, strlen(resp), NULL), XMPP_OK);
    assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_OK);
    assert_int_equal(xmpp__ws_get_state(ws), XMPP_WS_OPEN);
    xmpp__http_resp_free(r);
    xmpp__buf_free(&req);
    return ws;
}

/* Decodes one masked client frame from p; returns the frame length. */
static size_t unmask(const unsigned char *p, size_t n, int *op, unsigned char *payload,
                     size_t *plen) {
    size_t hl = 2, len = p[1] & 0x7F, i;
    assert_true(n >= 2);
    assert_true(p[0] & 0x80);       /* FIN */
    assert_int_equal(p[0] & 0x70, 0);
    assert_true(p[1] & 0x80);       /* masked */
    *op = p[0] & 0x0F;
    if (len == 126) {
        len = (size_t)p[2] << 8 | p[3];
        hl = 4;
    } else if (len == 127) {
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        hl = 10;
    }
    assert_true(n >= hl + 4 + len);
    for (i = 0; i < len; i++)
        payload[i] = p[hl + 4 + i] ^ p[hl + (i & 3)];
    *plen = len;
    return hl + 4 + len;
}

/* A server frame (unmasked unless asked). */
static size_t frame(unsigned char *out, int b0, const void *data, size_t len, int masked) {
    size_t hl = 2, i;
    out[0] = (unsigned char)b0;
    if (len < 126) {
        out[1] = (unsigned char)len;
    } else if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        hl = 4;
    } else {
        out[1] = 127;
        for (i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
        hl = 10;
    }
    if (masked) {
        out[1] |= 0x80;
        memset(out + hl, 0, 4);
        hl += 4;
    }
    if (len > 0)
        memcpy(out + hl, data, len);
    return hl + len;
}

static int feed_bytes(size_t limit, const unsigned char *in, size_t n, msgs *m,
                      unsigned *queued_close) {
    xmpp_ctx *ctx = NULL;
    xmpp__ws *ws;
    xmpp_buf out;
    int rc;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    ws = open_ws(ctx, limit);
    rc = xmpp__ws_feed(ws, in, n, on_msg, m);
    if (queued_close != NULL) {
        unsigned char pl[200];
        size_t plen = 0, pos = 0;
        int op = -1;
        *queued_close = 0;
        xmpp__buf_init(&out, ctx);
        assert_int_equal(xmpp__ws_take_output(ws, &out), XMPP_OK);
        while (pos < out.len) {
            pos += unmask((unsigned char *)out.data + pos, out.len - pos, &op, pl, &plen);
            if (op == 8)
                *queued_close = plen >= 2 ? (unsigned)pl[0] << 8 | pl[1] : 1005;
        }
        xmpp__buf_free(&out);
    }
    if (rc != XMPP_OK && rc != XMPP_ERR_CLOSED && rc > -1000)
        assert_true(strlen(xmpp__ws_error(ws)) > 0 || rc == XMPP_ERR_STATE);
    xmpp__ws_free(ws);
    xmpp_ctx_free(ctx);
    return rc;
}

static int feed1(const unsigned char *in, size_t n, unsigned *close) {
    msgs m;
    memset(&m, 0, sizeof(m));
    return feed_bytes(0, in, n, &m, close);
}

/* --- tests ------------------------------------------------------------------------- */

static void test_accept_vector(void **state) {
    char acc[29];
    (void)state;
    /* RFC 6455 §1.3 */
    assert_int_equal(xmpp__ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc), XMPP_OK);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_handshake(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp__ws *ws;
    xmpp_buf req;
    xmpp__http_resp *r;
    xmpp__http_field origin = {"Origin", "https://example.org"}, bad = {"Sec-WebSocket-Key", "x"};
    char resp[1024], acc[29];
    static const char *const bad_extra[] = {
        "Sec-WebSocket-Protocol: xmpp2\r\n", "",
        "Sec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Protocol: xmpp\r\n",
        "Sec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        "Sec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Accept: x\r\n",
    };
    size_t i;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp__ws_new(&ws, ctx, 0), XMPP_OK);
    xmpp__buf_init(&req, ctx);
    assert_int_equal(xmpp__http_resp_new(&r, ctx, 0), XMPP_OK);
    assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_ERR_STATE); /* no request yet */
    assert_int_equal(xmpp__ws_feed(ws, "x", 1, on_msg, NULL), XMPP_ERR_STATE);
    assert_int_equal(xmpp__ws_handshake_request(ws, &req, "h", "/", &bad, 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__ws_handshake_request(ws, &req, "h\r\nX: y", "/", NULL, 0),
                     XMPP_ERR_INVALID);
    assert_int_equal(req.len, 0);
    assert_int_equal(xmpp__ws_handshake_request(ws, &req, "example.org", "/ws", &origin, 1), XMPP_OK);
    assert_non_null(strstr(req.data, "GET /ws HTTP/1.1\r\n"));
    assert_non_null(strstr(req.data, "\r\nHost: example.org\r\n"));
    assert_non_null(strstr(req.data, "\r\nUpgrade: websocket\r\n"));
    assert_non_null(strstr(req.data, "\r\nConnection: Upgrade\r\n"));
    assert_non_null(strstr(req.data, "\r\nSec-WebSocket-Version: 13\r\n"));
    assert_non_null(strstr(req.data, "\r\nSec-WebSocket-Protocol: xmpp\r\n"));
    assert_non_null(strstr(req.data, "\r\nOrigin: https://example.org\r\n"));
    {
        const char *k = strstr(req.data, "Sec-WebSocket-Key: ") + 19;
        assert_int_equal(strcspn(k, "\r"), 24); /* base64 of 16 bytes */
        assert_int_equal(k[22], '=');
    }
    /* wrong responses */
    for (i = 0; i < sizeof(bad_extra) / sizeof(bad_extra[0]); i++) {
        make_101(req.data, resp, sizeof(resp), bad_extra[i]);
        xmpp__http_resp_reset(r);
        assert_int_equal(xmpp__http_resp_feed(r, resp, strlen(resp), NULL), XMPP_OK);
        assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_WS_ERR_HANDSHAKE);
        assert_true(strlen(xmpp__ws_error(ws)) > 0);
    }
    assert_int_equal(xmpp__ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc), XMPP_OK);
    {
        static const char *const wrong[] = {
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 101 x\r\nConnection: upgrade\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n",
            "HTTP/1.1 101 x\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
            "HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n",
        };
        for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
            xmpp__http_resp_reset(r);
            assert_int_equal(xmpp__http_resp_feed(r, wrong[i], strlen(wrong[i]), NULL), XMPP_OK);
            assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_WS_ERR_HANDSHAKE);
        }
        /* the accept for another key */
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n",
                 acc);
        xmpp__http_resp_reset(r);
        assert_int_equal(xmpp__http_resp_feed(r, resp, strlen(resp), NULL), XMPP_OK);
        assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_WS_ERR_HANDSHAKE);
        /* incomplete */
        xmpp__http_resp_reset(r);
        assert_int_equal(xmpp__http_resp_feed(r, resp, 20, NULL), XMPP_HTTP_AGAIN);
        assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_WS_ERR_HANDSHAKE);
    }
    /* the right one, with the first frame in the same read */
    make_101(req.data, resp, sizeof(resp), NULL);
    strcat(resp, "\x81\x04<a/");
    {
        size_t c, n = strlen(resp) + 1; /* the NUL above is not part of it */
        msgs m;
        memset(&m, 0, sizeof(m));
        n -= 1;
        xmpp__http_resp_reset(r);
        assert_int_equal(xmpp__http_resp_feed(r, resp, n, &c), XMPP_OK);
        assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_OK);
        assert_int_equal(xmpp__ws_handshake_check(ws, r), XMPP_ERR_STATE);
        assert_int_equal(xmpp__ws_feed(ws, resp + c, n - c, on_msg, &m), XMPP_OK);
        assert_int_equal(xmpp__ws_feed(ws, ">", 1, on_msg, &m), XMPP_OK);
        assert_string_equal(m.all, "<a/>|");
    }
    assert_int_equal(xmpp__ws_handshake_request(ws, &req, "h", "/", NULL, 0), XMPP_ERR_STATE);
    xmpp__http_resp_free(r);
    xmpp__buf_free(&req);
    xmpp__ws_free(ws);
    xmpp_ctx_free(ctx);
}

static void test_send(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp__ws *ws;
    xmpp_buf out;
    unsigned char pl[70000];
    char *big;
    size_t plen, pos;
    int op;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    ws = open_ws(ctx, 0);
    xmpp__buf_init(&out, ctx);
    assert_int_equal(xmpp__ws_send_text(ws, "<open/>", 7, &out), XMPP_OK);
    pos = unmask((unsigned char *)out.data, out.len, &op, pl, &plen);
    assert_int_equal(op, 1);
    assert_int_equal(plen, 7);
    assert_memory_equal(pl, "<open/>", 7);
    assert_int_equal(pos, out.len);
    /* 16-bit and 64-bit lengths */
    big = malloc(70000);
    assert_non_null(big);
    memset(big, 'a', 70000);
    xmpp__buf_reset(&out);
    assert_int_equal(xmpp__ws_send_text(ws, big, 300, &out), XMPP_OK);
    assert_int_equal(((unsigned char *)out.data)[1], 0x80 | 126);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(plen, 300);
    xmpp__buf_reset(&out);
    assert_int_equal(xmpp__ws_send_text(ws, big, 70000, &out), XMPP_OK);
    assert_int_equal(((unsigned char *)out.data)[1], 0x80 | 127);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(plen, 70000);
    assert_memory_equal(pl, big, 70000);
    free(big);
    /* invalid text, control sizes */
    xmpp__buf_reset(&out);
    assert_int_equal(xmpp__ws_send_text(ws, "\xc0\xaf", 2, &out), XMPP_WS_ERR_UTF8);
    assert_int_equal(xmpp__ws_send_ping(ws, pl, 126, &out), XMPP_ERR_INVALID);
    assert_int_equal(out.len, 0);
    assert_int_equal(xmpp__ws_send_ping(ws, "p", 1, &out), XMPP_OK);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(op, 9);
    xmpp__buf_reset(&out);
    assert_int_equal(xmpp__ws_send_pong(ws, "q", 1, &out), XMPP_OK);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(op, 10);
    xmpp__buf_reset(&out);
    assert_int_equal(xmpp__ws_send_close(ws, 1004, NULL, &out), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__ws_send_close(ws, 0, "r", &out), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__ws_send_close(ws, 1000, "bye", &out), XMPP_OK);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(op, 8);
    assert_int_equal(plen, 5);
    assert_memory_equal(pl, "\x03\xe8" "bye", 5);
    assert_int_equal(xmpp__ws_get_state(ws), XMPP_WS_CLOSING);
    assert_int_equal(xmpp__ws_send_text(ws, "x", 1, &out), XMPP_ERR_STATE);
    assert_int_equal(xmpp__ws_send_close(ws, 1000, NULL, &out), XMPP_ERR_STATE);
    /* the peer's close completes the handshake; no reply is queued */
    {
        msgs m;
        memset(&m, 0, sizeof(m));
        assert_int_equal(xmpp__ws_feed(ws, "\x81\x02hi\x88\x02\x03\xe8", 8, on_msg, &m), XMPP_OK);
        assert_string_equal(m.all, "hi|"); /* data still arrives while closing */
        assert_int_equal(xmpp__ws_get_state(ws), XMPP_WS_CLOSED);
        assert_int_equal(xmpp__ws_pending(ws), 0);
        assert_int_equal(xmpp__ws_feed(ws, "\x81", 1, on_msg, &m), XMPP_ERR_CLOSED);
    }
    xmpp__buf_free(&out);
    xmpp__ws_free(ws);
    xmpp_ctx_free(ctx);
}

static void test_receive_rules(void **state) {
    unsigned char f[300], big[200];
    size_t n;
    unsigned cl;
    (void)state;
    memset(big, 'x', sizeof(big));
    /* masked server frame */
    n = frame(f, 0x81, "hi", 2, 1);
    assert_int_equal(feed1(f, n, &cl), XMPP_WS_ERR_MASKED);
    assert_int_equal(cl, 1002);
    /* reserved bits */
    assert_int_equal(feed1((const unsigned char *)"\xC1\x00", 2, &cl), XMPP_WS_ERR_RSV);
    assert_int_equal(feed1((const unsigned char *)"\xA1\x00", 2, &cl), XMPP_WS_ERR_RSV);
    assert_int_equal(feed1((const unsigned char *)"\x91\x00", 2, &cl), XMPP_WS_ERR_RSV);
    assert_int_equal(cl, 1002);
    /* opcodes */
    assert_int_equal(feed1((const unsigned char *)"\x83\x00", 2, &cl), XMPP_WS_ERR_OPCODE);
    assert_int_equal(feed1((const unsigned char *)"\x8B\x00", 2, &cl), XMPP_WS_ERR_OPCODE);
    assert_int_equal(feed1((const unsigned char *)"\x82\x00", 2, &cl), XMPP_WS_ERR_OPCODE);
    assert_int_equal(cl, 1003);
    /* control frames: at most 125 bytes, never fragmented */
    n = frame(f, 0x89, big, 125, 0);
    assert_int_equal(feed1(f, n, &cl), XMPP_OK);
    n = frame(f, 0x89, big, 126, 0);
    assert_int_equal(feed1(f, n, &cl), XMPP_WS_ERR_CONTROL);
    assert_int_equal(feed1((const unsigned char *)"\x09\x00", 2, &cl), XMPP_WS_ERR_CONTROL);
    assert_int_equal(feed1((const unsigned char *)"\x08\x00", 2, &cl), XMPP_WS_ERR_CONTROL);
    /* fragmentation */
    assert_int_equal(feed1((const unsigned char *)"\x80\x01x", 3, &cl), XMPP_WS_ERR_FRAGMENT);
    assert_int_equal(feed1((const unsigned char *)"\x01\x01x\x81\x01y", 6, &cl),
                     XMPP_WS_ERR_FRAGMENT);
    {
        msgs m;
        memset(&m, 0, sizeof(m));
        /* text "<a" + ping in between + "/>" continuation, then an empty text */
        assert_int_equal(feed_bytes(0, (const unsigned char *)"\x01\x02<a\x89\x01P\x80\x02/>\x81\x00",
                                    13, &m, &cl),
                         XMPP_OK);
        assert_string_equal(m.all, "<a/>||");
        assert_int_equal(cl, 0);
    }
    /* lengths */
    assert_int_equal(feed1((const unsigned char *)"\x81\x7E\x00\x7D", 4, &cl), XMPP_WS_ERR_LENGTH);
    assert_int_equal(feed1((const unsigned char *)"\x81\x7F\x80\x00\x00\x00\x00\x00\x00\x00", 10, &cl),
                     XMPP_WS_ERR_LENGTH);
    assert_int_equal(feed1((const unsigned char *)"\x81\x7F\x00\x00\x00\x00\x00\x00\xFF\xFF", 10, &cl),
                     XMPP_WS_ERR_LENGTH);
    /* over the limit: refused from the header alone (nothing buffered) */
    assert_int_equal(feed1((const unsigned char *)"\x81\x7F\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10, &cl),
                     XMPP_WS_ERR_TOO_BIG);
    assert_int_equal(cl, 1009);
    {
        msgs m;
        memset(&m, 0, sizeof(m));
        n = frame(f, 0x81, big, 10, 0);
        assert_int_equal(feed_bytes(10, f, n, &m, &cl), XMPP_OK);
        n = frame(f, 0x81, big, 11, 0);
        assert_int_equal(feed_bytes(10, f, 2, &m, &cl), XMPP_WS_ERR_TOO_BIG);
        /* the limit applies to the reassembled message */
        assert_int_equal(feed_bytes(10, (const unsigned char *)"\x01\x06xxxxxx\x80\x05", 10, &m, &cl),
                         XMPP_WS_ERR_TOO_BIG);
    }
    /* UTF-8: overlong, lone continuation, surrogate, truncated, split valid */
    assert_int_equal(feed1((const unsigned char *)"\x81\x02\xc0\xaf", 4, &cl), XMPP_WS_ERR_UTF8);
    assert_int_equal(cl, 1007);
    assert_int_equal(feed1((const unsigned char *)"\x81\x01\x80", 3, &cl), XMPP_WS_ERR_UTF8);
    assert_int_equal(feed1((const unsigned char *)"\x81\x03\xed\xa0\x80", 5, &cl), XMPP_WS_ERR_UTF8);
    assert_int_equal(feed1((const unsigned char *)"\x81\x03\xf0\x9f\x98", 5, &cl), XMPP_WS_ERR_UTF8);
    assert_int_equal(feed1((const unsigned char *)"\x01\x02\xf0\x9f\x80\x02\x98\x80", 8, &cl), XMPP_OK);
}

static void test_ping_close(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp__ws *ws;
    xmpp_buf out;
    unsigned char pl[200];
    size_t plen;
    int op;
    unsigned cl;
    const char *reason;
    msgs m;
    (void)state;
    memset(&m, 0, sizeof(m));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    ws = open_ws(ctx, 0);
    xmpp__buf_init(&out, ctx);
    assert_int_equal(xmpp__ws_feed(ws, "\x89\x03" "abc\x8A\x01z", 8, on_msg, &m), XMPP_OK);
    assert_true(xmpp__ws_pending(ws) > 0);
    assert_int_equal(xmpp__ws_take_output(ws, &out), XMPP_OK);
    assert_int_equal(xmpp__ws_pending(ws), 0);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(op, 10);
    assert_int_equal(plen, 3);
    assert_memory_equal(pl, "abc", 3);
    /* close with code and reason: a reply echoing the code is queued */
    xmpp__buf_reset(&out);
    assert_int_equal(xmpp__ws_feed(ws, "\x88\x05\x0f\xa0" "bye", 7, on_msg, &m), XMPP_OK);
    assert_int_equal(xmpp__ws_get_state(ws), XMPP_WS_CLOSED);
    assert_int_equal(xmpp__ws_peer_close(ws, &reason), 4000);
    assert_string_equal(reason, "bye");
    assert_int_equal(xmpp__ws_take_output(ws, &out), XMPP_OK);
    assert_int_equal(unmask((unsigned char *)out.data, out.len, &op, pl, &plen), out.len);
    assert_int_equal(op, 8);
    assert_int_equal(plen, 2);
    assert_memory_equal(pl, "\x0f\xa0", 2);
    assert_int_equal(xmpp__ws_feed(ws, "\x81\x00", 2, on_msg, &m), XMPP_ERR_CLOSED);
    assert_int_equal(xmpp__ws_send_text(ws, "x", 1, &out), XMPP_ERR_STATE);
    xmpp__buf_free(&out);
    xmpp__ws_free(ws);
    xmpp_ctx_free(ctx);
    /* empty close: an empty reply; bad close frames */
    assert_int_equal(feed1((const unsigned char *)"\x88\x00", 2, &cl), XMPP_OK);
    assert_int_equal(cl, 1005);
    assert_int_equal(feed1((const unsigned char *)"\x88\x01\x03", 3, &cl), XMPP_WS_ERR_CLOSE);
    assert_int_equal(cl, 1002);
    assert_int_equal(feed1((const unsigned char *)"\x88\x03\x03\xe8\xff", 5, &cl), XMPP_WS_ERR_UTF8);
    assert_int_equal(feed1((const unsigned char *)"\x88\x02\x03\xe8\x81\x00", 6, &cl), XMPP_ERR_CLOSED);
    {
        static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999};
        static const unsigned invalid[] = {0, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000, 65535};
        size_t i;
        unsigned char fr[4] = {0x88, 0x02, 0, 0};
        for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
            fr[2] = (unsigned char)(valid[i] >> 8);
            fr[3] = (unsigned char)valid[i];
            assert_int_equal(feed1(fr, 4, &cl), XMPP_OK);
            assert_int_equal(cl, valid[i]);
            assert_true(xmpp__ws_close_code_ok(valid[i]));
        }
        for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
            fr[2] = (unsigned char)(invalid[i] >> 8);
            fr[3] = (unsigned char)invalid[i];
            assert_int_equal(feed1(fr, 4, &cl), XMPP_WS_ERR_CLOSE);
            assert_false(xmpp__ws_close_code_ok(invalid[i]));
        }
    }
}

static void test_callback_stop(void **state) {
    msgs m;
    (void)state;
    memset(&m, 0, sizeof(m));
    m.stop_at = 1;
    m.stop_rc = -7777;
    assert_int_equal(feed_bytes(0, (const unsigned char *)"\x81\x01" "a\x81\x01" "b", 6, &m, NULL),
                     -7777);
    assert_string_equal(m.all, "a|");
}

/* --- every split point ------------------------------------------------------------- */

static void test_splits(void **state) {
    static const unsigned char stream[] =
        "\x81\x05<a/>x"
        "\x01\x02<b\x89\x02pp\x00\x01/\x80\x01>"
        "\x81\x7E\x00\x80"
        "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
        "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
        "\x8A\x00\x88\x02\x03\xe8";
    size_t n = sizeof(stream) - 1, a, b;
    msgs whole, part;
    unsigned cw, cp;
    int rw;
    (void)state;
    memset(&whole, 0, sizeof(whole));
    rw = feed_bytes(0, stream, n, &whole, &cw);
    assert_int_equal(rw, XMPP_OK);
    assert_int_equal(whole.count, 3);
    assert_int_equal(cw, 1000);
    for (a = 0; a <= n; a++) {
        for (b = a; b <= n; b++) {
            xmpp_ctx *ctx = NULL;
            xmpp__ws *ws;
            int rc;
            memset(&part, 0, sizeof(part));
            assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
            ws = open_ws(ctx, 0);
            rc = xmpp__ws_feed(ws, stream, a, on_msg, &part);
            if (rc == XMPP_OK)
                rc = xmpp__ws_feed(ws, stream + a, b - a, on_msg, &part);
            if (rc == XMPP_OK)
                rc = xmpp__ws_feed(ws, stream + b, n - b, on_msg, &part);
            assert_int_equal(rc, rw);
            assert_string_equal(part.all, whole.all);
            assert_int_equal(xmpp__ws_get_state(ws), XMPP_WS_CLOSED);
            cp = (unsigned)xmpp__ws_pending(ws);
            assert_true(cp > 0);
            xmpp__ws_free(ws);
            xmpp_ctx_free(ctx);
        }
    }
}

/* --- allocation failure torture ---------------------------------------------------- */

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    xmpp__ws *ws;
    xmpp_buf req, out;
    xmpp__http_resp *r = NULL;
    char resp[512];
    msgs m;
    int rc;
    (void)arg;
    memset(&m, 0, sizeof(m));
    if ((rc = xmpp__ws_new(&ws, ctx, 0)) != XMPP_OK)
        return rc;
    xmpp__buf_init(&req, ctx);
    xmpp__buf_init(&out, ctx);
    rc = xmpp__ws_handshake_request(ws, &req, "example.org", "/", NULL, 0);
    if (rc == XMPP_OK)
        rc = xmpp__http_resp_new(&r, ctx, 0);
    if (rc == XMPP_OK) {
        make_101(req.data, resp, sizeof(resp), NULL);
        rc = xmpp__http_resp_feed(r, resp, strlen(resp), NULL);
    }
    if (rc == XMPP_OK)
        rc = xmpp__ws_handshake_check(ws, r);
    if (rc == XMPP_OK)
        rc = xmpp__ws_feed(ws, "\x01\x02<a\x89\x01p\x80\x02/>\x88\x02\x03\xe8", 15, on_msg, &m);
    if (rc == XMPP_OK)
        rc = xmpp__ws_take_output(ws, &out);
    if (rc == XMPP_OK)
        rc = xmpp__ws_send_text(ws, "x", 1, &out) == XMPP_ERR_STATE ? XMPP_OK : -99;
    if (rc == XMPP_OK)
        assert_string_equal(m.all, "<a/>|");
    else
        assert_int_equal(rc, XMPP_ERR_NOMEM);
    xmpp__http_resp_free(r);
    xmpp__buf_free(&req);
    xmpp__buf_free(&out);
    xmpp__ws_free(ws);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(torture_scenario, NULL) >= 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_vector), cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_send),          cmocka_unit_test(test_receive_rules),
        cmocka_unit_test(test_ping_close),    cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_splits),        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
