/* RFC 6455 client framing (see ws.h).
 *
 * Why not wslay (issue 7 asks to prefer a well-kept sans-I/O library).
 * wslay (Debian libwslay-dev) was considered, both of its layers:
 *  - wslay_event: the context pulls input through a recv_callback that
 *    wslay_event_recv() calls until it would block, and pushes output
 *    through a send_callback; the session is push-based (bytes are handed
 *    to xmpp_session_recv() and drained from an xmpp_buf), so using it
 *    means emulating EAGAIN in a callback and keeping a second queue of
 *    outbound frames in wslay's own lists. Its memory comes from malloc
 *    with no allocator hook, while DESIGN.md wants every allocation to go
 *    through the context's allocator (the OOM-injection tests rely on it).
 *    Text messages are delivered as bytes: the UTF-8/XML character check
 *    and RFC 7395's "one element per message" remain ours anyway.
 *  - wslay_frame: one frame at a time through the same recv/send
 *    callbacks; fragmentation, control-frame rules, close codes and the
 *    message limit would all remain to be written here, which is most of
 *    this file.
 * Neither does the HTTP/1.1 upgrade (http.c is needed either way). What
 * wslay would save is the ~250 lines of frame coding below, against a new
 * runtime dependency that is not on the build machines, callback
 * plumbing and a second allocator. So the framing stays here; it is
 * covered by tests/unit/test_ws.c, the session transcript tests
 * (tests/unit/test_websocket.c) and the fuzz target tests/fuzz/fuzz_ws.c.
 *
 * The decoder is a byte-level state machine over the frame header (at most
 * 10 bytes: no mask key is ever accepted) followed by a payload copied in
 * runs; every decision is taken when the byte that makes it possible has
 * arrived, so the result does not depend on how the input was split. Data
 * frames are reassembled in one buffer whose final size is checked against
 * the limit from each frame header before any payload is stored; control
 * payloads (at most 125 bytes) go to a fixed array. */
#include "transport/ws.h"
#include "stream/base64.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum op { OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

enum rx { RX_HEADER, RX_PAYLOAD };

struct xmpp__ws {
    const xmpp_ctx *ctx;
    enum xmpp__ws_state state;
    int have_key;
    int err;       /* sticky failure, 0 if none */
    int in_cb;
    size_t max_message;
    char key[25];
    char accept[29];
    /* receiving */
    enum rx rx;
    unsigned char hdr[10];
    size_t hlen, hneed;
    int fin, opcode;
    unsigned long long remaining;
    int in_message; /* a fragmented text message is open */
    xmpp_buf msg;
    unsigned char ctrl[XMPP_WS_CONTROL_MAX];
    size_t ctrl_len;
    /* the peer's close */
    unsigned peer_code;
    char peer_reason[XMPP_WS_CONTROL_MAX];
    /* queued control frames */
    xmpp_buf outq;
    char errmsg[128];
};

const char *xmpp__ws_strerror(int code) {
    switch (code) {
    case XMPP_OK: return "ok";
    case XMPP_WS_ERR_HANDSHAKE: return "unacceptable WebSocket handshake";
    case XMPP_WS_ERR_MASKED: return "masked frame from the server";
    case XMPP_WS_ERR_RSV: return "reserved bit set";
    case XMPP_WS_ERR_OPCODE: return "unexpected opcode";
    case XMPP_WS_ERR_CONTROL: return "control frame too long or fragmented";
    case XMPP_WS_ERR_FRAGMENT: return "bad fragmentation";
    case XMPP_WS_ERR_LENGTH: return "bad payload length";
    case XMPP_WS_ERR_TOO_BIG: return "message too big";
    case XMPP_WS_ERR_UTF8: return "invalid UTF-8";
    case XMPP_WS_ERR_CLOSE: return "bad close frame";
    case XMPP_WS_ERR_RANDOM: return "no random bytes";
    case XMPP_ERR_CLOSED: return "data after the close frame";
    case XMPP_ERR_STATE: return "wrong state";
    case XMPP_ERR_NOMEM: return "out of memory";
    case XMPP_ERR_INVALID: return "invalid argument";
    default: return "unknown error";
    }
}

int xmpp__ws_close_code_ok(unsigned code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

/* --- lifetime ----------------------------------------------------------------- */

int xmpp__ws_new(xmpp__ws **out, const xmpp_ctx *ctx, size_t max_message) {
    xmpp__ws *ws;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL)
        return XMPP_ERR_INVALID;
    ws = xmpp__malloc(ctx, sizeof(*ws));
    if (ws == NULL)
        return XMPP_ERR_NOMEM;
    memset(ws, 0, sizeof(*ws));
    ws->ctx = ctx;
    ws->state = XMPP_WS_CONNECTING;
    ws->max_message = max_message ? max_message : XMPP_WS_DEFAULT_MAX_MESSAGE;
    ws->hneed = 2;
    xmpp__buf_init(&ws->msg, ctx);
    xmpp__buf_init(&ws->outq, ctx);
    *out = ws;
    return XMPP_OK;
}

void xmpp__ws_free(xmpp__ws *ws) {
    if (ws == NULL)
        return;
    xmpp__buf_free(&ws->msg);
    xmpp__buf_free(&ws->outq);
    xmpp__free(ws->ctx, ws);
}

/* --- handshake ------------------------------------------------------------------ */

int xmpp__ws_accept_for(const char *key, char out[29]) {
    unsigned char dig[20];
    char in[64 + sizeof(WS_GUID)];
    size_t n;
    if (key == NULL || out == NULL || (n = strlen(key)) > 64)
        return XMPP_ERR_INVALID;
    memcpy(in, key, n);
    memcpy(in + n, WS_GUID, sizeof(WS_GUID) - 1);
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, in, n + sizeof(WS_GUID) - 1, dig) != 0)
        return XMPP_ERR_INVALID;
    xmpp__b64_encode(dig, sizeof(dig), out);
    return XMPP_OK;
}

static const char *const own_fields[] = {"host", "upgrade", "connection", "sec-websocket-key",
                                         "sec-websocket-version", "sec-websocket-protocol",
                                         "sec-websocket-extensions"};

int xmpp__ws_handshake_request(xmpp__ws *ws, xmpp_buf *out, const char *host, const char *path,
                               const xmpp__http_field *extra, size_t nextra) {
    xmpp__http_field f[7 + 16];
    unsigned char nonce[16];
    size_t i, j;
    int rc;
    if (ws == NULL || out == NULL || host == NULL || path == NULL || nextra > 16 ||
        (extra == NULL && nextra > 0))
        return XMPP_ERR_INVALID;
    if (ws->state != XMPP_WS_CONNECTING)
        return XMPP_ERR_STATE;
    for (i = 0; i < nextra; i++) {
        if (extra[i].name == NULL)
            return XMPP_ERR_INVALID;
        for (j = 0; j < sizeof(own_fields) / sizeof(own_fields[0]); j++)
            if (xmpp__http_casecmp(extra[i].name, own_fields[j]) == 0)
                return XMPP_ERR_INVALID;
    }
    if (gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof(nonce)) != 0)
        return XMPP_WS_ERR_RANDOM;
    xmpp__b64_encode(nonce, sizeof(nonce), ws->key);
    if ((rc = xmpp__ws_accept_for(ws->key, ws->accept)) != XMPP_OK)
        return rc;
    f[0].name = "Host";
    f[0].value = host;
    f[1].name = "Upgrade";
    f[1].value = "websocket";
    f[2].name = "Connection";
    f[2].value = "Upgrade";
    f[3].name = "Sec-WebSocket-Key";
    f[3].value = ws->key;
    f[4].name = "Sec-WebSocket-Version";
    f[4].value = "13";
    f[5].name = "Sec-WebSocket-Protocol";
    f[5].value = "xmpp";
    for (i = 0; i < nextra; i++)
        f[6 + i] = extra[i];
    rc = xmpp__http_request(out, "GET", path, f, 6 + nextra, NULL, 0);
    if (rc == XMPP_OK)
        ws->have_key = 1;
    return rc;
}

static int hs_fail(xmpp__ws *ws, const char *why) {
    snprintf(ws->errmsg, sizeof(ws->errmsg), "%s: %s", xmpp__ws_strerror(XMPP_WS_ERR_HANDSHAKE),
             why);
    return XMPP_WS_ERR_HANDSHAKE;
}

int xmpp__ws_handshake_check(xmpp__ws *ws, const xmpp__http_resp *resp) {
    const char *v;
    size_t n, i;
    int conn = 0;
    if (ws == NULL || resp == NULL)
        return XMPP_ERR_INVALID;
    if (ws->state != XMPP_WS_CONNECTING || !ws->have_key)
        return XMPP_ERR_STATE;
    if (!xmpp__http_resp_done(resp))
        return hs_fail(ws, "incomplete response");
    if (xmpp__http_resp_status(resp) != 101)
        return hs_fail(ws, "status is not 101");
    v = xmpp__http_resp_find(resp, "Upgrade", &n);
    if (v == NULL || n != 1 || !xmpp__http_list_has(v, "websocket"))
        return hs_fail(ws, "no Upgrade: websocket");
    for (i = 0; i < xmpp__http_resp_header_count(resp); i++) {
        const char *name, *value;
        xmpp__http_resp_header(resp, i, &name, &value);
        if (xmpp__http_casecmp(name, "Connection") == 0 && xmpp__http_list_has(value, "upgrade"))
            conn = 1;
    }
    if (!conn)
        return hs_fail(ws, "no Connection: upgrade");
    v = xmpp__http_resp_find(resp, "Sec-WebSocket-Accept", &n);
    if (v == NULL || n != 1 || strcmp(v, ws->accept) != 0)
        return hs_fail(ws, "wrong Sec-WebSocket-Accept");
    v = xmpp__http_resp_find(resp, "Sec-WebSocket-Protocol", &n);
    if (v == NULL || n != 1 || strcmp(v, "xmpp") != 0)
        return hs_fail(ws, "subprotocol xmpp not selected");
    if (xmpp__http_resp_find(resp, "Sec-WebSocket-Extensions", NULL) != NULL)
        return hs_fail(ws, "an extension nobody offered");
    ws->state = XMPP_WS_OPEN;
    return XMPP_OK;
}

/* --- frame writing ----------------------------------------------------------------- */

/* One masked frame: payload = a[0..an) b[0..bn). */
static int put_frame(xmpp_buf *out, int opcode, const void *a, size_t an, const void *b,
                     size_t bn) {
    unsigned char h[14], mask[4];
    size_t hl = 2, len = an + bn, i;
    unsigned char *p;
    if (len < an)
        return XMPP_ERR_INVALID;
    if (gnutls_rnd(GNUTLS_RND_NONCE, mask, sizeof(mask)) != 0)
        return XMPP_WS_ERR_RANDOM;
    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[1] = (unsigned char)(0x80 | len);
    } else if (len <= 0xFFFF) {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    } else {
        unsigned long long l = len;
        h[1] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)(l >> (56 - 8 * i));
        hl = 10;
    }
    memcpy(h + hl, mask, 4);
    hl += 4;
    if (len > SIZE_MAX - hl - 1 || xmpp__buf_reserve(out, hl + len) != XMPP_OK) {
        out->oom = 0;
        return XMPP_ERR_NOMEM;
    }
    p = (unsigned char *)out->data + out->len;
    memcpy(p, h, hl);
    p += hl;
    if (an > 0)
        memcpy(p, a, an);
    if (bn > 0)
        memcpy(p + an, b, bn);
    for (i = 0; i < len; i++)
        p[i] ^= mask[i & 3];
    out->len += hl + len;
    out->data[out->len] = '\0';
    return XMPP_OK;
}

int xmpp__ws_send_text(xmpp__ws *ws, const void *data, size_t len, xmpp_buf *out) {
    if (ws == NULL || out == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (ws->state != XMPP_WS_OPEN)
        return XMPP_ERR_STATE;
    if (len > 0 && !xmpp__xml_text_ok(data, len))
        return XMPP_WS_ERR_UTF8;
    return put_frame(out, OP_TEXT, data, len, NULL, 0);
}

static int send_control(xmpp__ws *ws, int op, const void *data, size_t len, xmpp_buf *out) {
    if (ws == NULL || out == NULL || (data == NULL && len > 0) || len > XMPP_WS_CONTROL_MAX)
        return XMPP_ERR_INVALID;
    if (ws->state != XMPP_WS_OPEN)
        return XMPP_ERR_STATE;
    return put_frame(out, op, data, len, NULL, 0);
}

int xmpp__ws_send_ping(xmpp__ws *ws, const void *data, size_t len, xmpp_buf *out) {
    return send_control(ws, OP_PING, data, len, out);
}

int xmpp__ws_send_pong(xmpp__ws *ws, const void *data, size_t len, xmpp_buf *out) {
    return send_control(ws, OP_PONG, data, len, out);
}

static int close_frame(xmpp_buf *out, unsigned code, const char *reason) {
    unsigned char c[2];
    if (code == 0)
        return put_frame(out, OP_CLOSE, NULL, 0, NULL, 0);
    c[0] = (unsigned char)(code >> 8);
    c[1] = (unsigned char)code;
    return put_frame(out, OP_CLOSE, c, 2, reason, reason ? strlen(reason) : 0);
}

int xmpp__ws_send_close(xmpp__ws *ws, unsigned code, const char *reason, xmpp_buf *out) {
    size_t rl = reason ? strlen(reason) : 0;
    int rc;
    if (ws == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (code == 0 ? rl > 0 : (!xmpp__ws_close_code_ok(code) || rl > XMPP_WS_CONTROL_MAX - 2))
        return XMPP_ERR_INVALID;
    if (rl > 0 && !xmpp__xml_text_ok(reason, rl))
        return XMPP_WS_ERR_UTF8;
    if (ws->state != XMPP_WS_OPEN)
        return XMPP_ERR_STATE;
    rc = close_frame(out, code, reason);
    if (rc == XMPP_OK)
        ws->state = XMPP_WS_CLOSING;
    return rc;
}

/* --- frame reading ------------------------------------------------------------------- */

/* Fails the connection: queues a close frame unless one went out already. */
static int fail(xmpp__ws *ws, int err, unsigned close_code, const char *detail) {
    if (ws->state == XMPP_WS_OPEN && close_code != 0)
        (void)close_frame(&ws->outq, close_code, NULL); /* best effort */
    ws->state = XMPP_WS_FAILED;
    ws->err = err;
    snprintf(ws->errmsg, sizeof(ws->errmsg), "%s%s%s", xmpp__ws_strerror(err),
             detail ? ": " : "", detail ? detail : "");
    return err;
}

static int header_byte0(xmpp__ws *ws, unsigned char b) {
    ws->fin = (b & 0x80) != 0;
    ws->opcode = b & 0x0F;
    if (b & 0x70)
        return fail(ws, XMPP_WS_ERR_RSV, 1002, NULL);
    switch (ws->opcode) {
    case OP_CONT:
        if (!ws->in_message)
            return fail(ws, XMPP_WS_ERR_FRAGMENT, 1002, "continuation without a message");
        return XMPP_OK;
    case OP_TEXT:
        if (ws->in_message)
            return fail(ws, XMPP_WS_ERR_FRAGMENT, 1002, "new message inside a fragmented one");
        return XMPP_OK;
    case OP_BIN:
        return fail(ws, XMPP_WS_ERR_OPCODE, 1003, "binary frame (RFC 7395 uses text)");
    case OP_CLOSE:
    case OP_PING:
    case OP_PONG:
        if (!ws->fin)
            return fail(ws, XMPP_WS_ERR_CONTROL, 1002, "fragmented control frame");
        return XMPP_OK;
    default:
        return fail(ws, XMPP_WS_ERR_OPCODE, 1002, "reserved opcode");
    }
}

static int header_byte1(xmpp__ws *ws, unsigned char b) {
    unsigned l7 = b & 0x7F;
    if (b & 0x80)
        return fail(ws, XMPP_WS_ERR_MASKED, 1002, NULL);
    if (ws->opcode >= 8 && l7 > XMPP_WS_CONTROL_MAX)
        return fail(ws, XMPP_WS_ERR_CONTROL, 1002, "control payload over 125 bytes");
    ws->hneed = l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
    return XMPP_OK;
}

static int deliver(xmpp__ws *ws, xmpp__ws_message_fn cb, void *ud) {
    int rc = 0;
    if (ws->msg.len > 0 && !xmpp__xml_text_ok(ws->msg.data, ws->msg.len))
        return fail(ws, XMPP_WS_ERR_UTF8, 1007, "text message");
    ws->in_message = 0;
    if (cb != NULL) {
        ws->in_cb = 1;
        rc = cb(ud, ws->msg.data != NULL ? ws->msg.data : "", ws->msg.len);
        ws->in_cb = 0;
    }
    xmpp__buf_reset(&ws->msg);
    if (rc != 0) {
        ws->err = rc;
        ws->state = XMPP_WS_FAILED;
        snprintf(ws->errmsg, sizeof(ws->errmsg), "stopped by the message callback (%d)", rc);
        return rc;
    }
    return XMPP_OK;
}

static int control_done(xmpp__ws *ws) {
    size_t n = ws->ctrl_len;
    switch (ws->opcode) {
    case OP_PING:
        if (ws->state == XMPP_WS_OPEN &&
            put_frame(&ws->outq, OP_PONG, ws->ctrl, n, NULL, 0) != XMPP_OK)
            return fail(ws, XMPP_ERR_NOMEM, 0, "queueing a pong");
        return XMPP_OK;
    case OP_PONG:
        return XMPP_OK;
    default: /* close */
        if (n == 1)
            return fail(ws, XMPP_WS_ERR_CLOSE, 1002, "1-byte payload");
        if (n >= 2) {
            unsigned code = (unsigned)ws->ctrl[0] << 8 | ws->ctrl[1];
            if (!xmpp__ws_close_code_ok(code))
                return fail(ws, XMPP_WS_ERR_CLOSE, 1002, "invalid close code");
            if (n > 2 && !xmpp__xml_text_ok((const char *)ws->ctrl + 2, n - 2))
                return fail(ws, XMPP_WS_ERR_UTF8, 1007, "close reason");
            ws->peer_code = code;
            memcpy(ws->peer_reason, ws->ctrl + 2, n - 2);
            ws->peer_reason[n - 2] = '\0';
        }
        if (ws->state == XMPP_WS_OPEN &&
            close_frame(&ws->outq, ws->peer_code, NULL) != XMPP_OK)
            return fail(ws, XMPP_ERR_NOMEM, 0, "queueing the close reply");
        ws->state = XMPP_WS_CLOSED;
        return XMPP_OK;
    }
}

static int frame_done(xmpp__ws *ws, xmpp__ws_message_fn cb, void *ud) {
    int rc = XMPP_OK;
    ws->rx = RX_HEADER;
    ws->hlen = 0;
    ws->hneed = 2;
    if (ws->opcode >= 8) {
        rc = control_done(ws);
    } else if (ws->fin) {
        rc = deliver(ws, cb, ud);
    } else {
        ws->in_message = 1;
    }
    ws->ctrl_len = 0;
    return rc;
}

static int header_done(xmpp__ws *ws, xmpp__ws_message_fn cb, void *ud) {
    unsigned long long len = ws->hdr[1] & 0x7F;
    size_t i;
    if (ws->hneed == 4) {
        len = (unsigned)ws->hdr[2] << 8 | ws->hdr[3];
        if (len < 126)
            return fail(ws, XMPP_WS_ERR_LENGTH, 1002, "non-minimal 16-bit length");
    } else if (ws->hneed == 10) {
        if (ws->hdr[2] & 0x80)
            return fail(ws, XMPP_WS_ERR_LENGTH, 1002, "64-bit length with the high bit set");
        len = 0;
        for (i = 2; i < 10; i++)
            len = len << 8 | ws->hdr[i];
        if (len <= 0xFFFF)
            return fail(ws, XMPP_WS_ERR_LENGTH, 1002, "non-minimal 64-bit length");
    }
    if (ws->opcode < 8 && len > ws->max_message - ws->msg.len)
        return fail(ws, XMPP_WS_ERR_TOO_BIG, 1009, NULL);
    ws->remaining = len;
    ws->ctrl_len = 0;
    if (len == 0)
        return frame_done(ws, cb, ud);
    ws->rx = RX_PAYLOAD;
    return XMPP_OK;
}

int xmpp__ws_feed(xmpp__ws *ws, const void *data, size_t len, xmpp__ws_message_fn cb,
                  void *ud) {
    const unsigned char *p = data;
    size_t i = 0;
    int rc = XMPP_OK;
    if (ws == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (ws->in_cb)
        return XMPP_ERR_RECURSIVE;
    if (ws->err != 0)
        return ws->err;
    if (ws->state == XMPP_WS_CONNECTING)
        return XMPP_ERR_STATE;
    while (i < len) {
        if (ws->state == XMPP_WS_CLOSED)
            return XMPP_ERR_CLOSED;
        if (ws->rx == RX_HEADER) {
            unsigned char b = p[i++];
            ws->hdr[ws->hlen++] = b;
            if (ws->hlen == 1)
                rc = header_byte0(ws, b);
            else if (ws->hlen == 2)
                rc = header_byte1(ws, b);
            if (rc == XMPP_OK && ws->hlen == ws->hneed)
                rc = header_done(ws, cb, ud);
        } else {
            size_t n = len - i;
            if (n > ws->remaining)
                n = (size_t)ws->remaining;
            if (ws->opcode >= 8) {
                memcpy(ws->ctrl + ws->ctrl_len, p + i, n);
                ws->ctrl_len += n;
            } else if (xmpp__buf_append(&ws->msg, (const char *)p + i, n) != XMPP_OK) {
                return fail(ws, XMPP_ERR_NOMEM, 0, NULL);
            }
            i += n;
            ws->remaining -= n;
            if (ws->remaining == 0)
                rc = frame_done(ws, cb, ud);
        }
        if (rc != XMPP_OK)
            return rc;
    }
    return XMPP_OK;
}

int xmpp__ws_take_output(xmpp__ws *ws, xmpp_buf *out) {
    if (ws == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (ws->outq.len == 0)
        return XMPP_OK;
    if (xmpp__buf_append(out, ws->outq.data, ws->outq.len) != XMPP_OK) {
        out->oom = 0;
        return XMPP_ERR_NOMEM;
    }
    xmpp__buf_reset(&ws->outq);
    return XMPP_OK;
}

size_t xmpp__ws_pending(const xmpp__ws *ws) {
    return ws != NULL ? ws->outq.len : 0;
}

enum xmpp__ws_state xmpp__ws_get_state(const xmpp__ws *ws) {
    return ws != NULL ? ws->state : XMPP_WS_FAILED;
}

unsigned xmpp__ws_peer_close(const xmpp__ws *ws, const char **reason) {
    if (reason != NULL)
        *reason = ws != NULL ? ws->peer_reason : "";
    return ws != NULL ? ws->peer_code : 0;
}

const char *xmpp__ws_error(const xmpp__ws *ws) {
    return ws != NULL ? ws->errmsg : "";
}

/* --- URL ---------------------------------------------------------------------- */

static int host_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

int xmpp__ws_url_parse(const char *url, xmpp__ws_url *out) {
    const char *p, *h, *he, *pe;
    size_t n;
    unsigned long port = 0;
    int explicit_port = 0, v6 = 0;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (url == NULL)
        return XMPP_ERR_INVALID;
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#' || *p == '@')
            return XMPP_ERR_INVALID;
    if (strncasecmp(url, "ws://", 5) == 0) {
        p = url + 5;
    } else if (strncasecmp(url, "wss://", 6) == 0) {
        out->secure = 1;
        p = url + 6;
    } else {
        return XMPP_ERR_INVALID;
    }
    h = p;
    if (*p == '[') {
        v6 = 1;
        h = ++p;
        while (*p && (host_char(*p) || *p == ':' || *p == '%'))
            p++;
        if (*p != ']')
            goto bad;
        he = p++;
    } else {
        while (host_char(*p))
            p++;
        he = p;
    }
    if (he == h || (size_t)(he - h) >= sizeof(out->host))
        goto bad;
    memcpy(out->host, h, (size_t)(he - h));
    out->host[he - h] = '\0';
    if (*p == ':') {
        if (p[1] < '0' || p[1] > '9')
            goto bad;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            port = port * 10 + (unsigned long)(*p - '0');
            if (port > 65535)
                goto bad;
        }
        if (port == 0)
            goto bad;
        explicit_port = 1;
    }
    pe = p;
    if (*p != '\0' && *p != '/' && *p != '?')
        goto bad;
    out->port = explicit_port ? (unsigned)port : out->secure ? 443u : 80u;
    n = (size_t)snprintf(out->authority, sizeof(out->authority), "%s%s%s", v6 ? "[" : "",
                         out->host, v6 ? "]" : "");
    if (explicit_port && n < sizeof(out->authority))
        n += (size_t)snprintf(out->authority + n, sizeof(out->authority) - n, ":%u", out->port);
    if (n >= sizeof(out->authority))
        goto bad;
    (void)pe;
    n = strlen(p);
    if (n + 2 > sizeof(out->target))
        goto bad;
    if (*p == '/')
        memcpy(out->target, p, n + 1);
    else
        snprintf(out->target, sizeof(out->target), "/%s", p); /* "?q" -> "/?q" */
    return XMPP_OK;
bad:
    memset(out, 0, sizeof(*out));
    return XMPP_ERR_INVALID;
}
