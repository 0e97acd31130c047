/* The session's RFC 7395 framing mode, driven by a scripted WebSocket
 * server: the HTTP upgrade, <open/> instead of the stream header (also on
 * the restart after SASL), one element per text message with its
 * namespace, pings answered, <close/> both ways with the closing
 * handshake, see-other-uri; and hostile input (reserved bits, masked
 * server frames, oversized lengths, fragmented control frames, bad close
 * codes, two elements in one message, a refused upgrade) ending the
 * session with a clear error and no leak. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>

#include "transport/ws.h"
#include "testhelp.h"

#define FRAMING "urn:ietf:params:xml:ns:xmpp-framing"
#define SOPEN                                                                                \
    "<open xmlns='" FRAMING "' from='example.com' id='s1' version='1.0' xml:lang='en'/>"
#define FEAT_PLAIN                                                                           \
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"                      \
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"      \
    "</mechanisms></stream:features>"
#define FEAT_BIND                                                                            \
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"                      \
    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"

#define MAXMSG 32

struct fix {
    xmpp_ctx *ctx;
    xmpp_session *s;
    th_alloc alloc;
    uint64_t now;
    char http[4096]; /* the upgrade request */
    size_t http_len;
    int upgraded;
    /* the client's frames since take() */
    unsigned char raw[1 << 16];
    size_t raw_len;
    int nmsg;
    int op[MAXMSG];
    char msg[MAXMSG][2048];
    size_t len[MAXMSG];
    int ready, closed, messages;
    xmpp_disconnect_cause cause;
};

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    char *body = NULL;
    (void)s;
    assert_non_null(xmpp_stanza_child(st, "body", NULL));
    assert_int_equal(xmpp_stanza_text(xmpp_stanza_child(st, "body", NULL), &body, NULL), XMPP_OK);
    assert_string_equal(body, "in two");
    xmpp_free(((struct fix *)ud)->ctx, body);
    ((struct fix *)ud)->messages++;
    return 1;
}

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)s;
    (void)jid;
    ((struct fix *)ud)->ready++;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->closed++;
    f->cause = cause;
}

/* Decodes the client's complete frames (each must be masked). */
static void decode(struct fix *f) {
    size_t off = 0;
    while (f->raw_len - off >= 2) {
        const unsigned char *p = f->raw + off;
        size_t hl = 2, n = p[1] & 0x7f, i;
        assert_true(p[1] & 0x80); /* RFC 6455 §5.3: clients mask */
        assert_int_equal(p[0] & 0x70, 0);
        assert_true(p[0] & 0x80); /* the session never fragments */
        if (n == 126) {
            if (f->raw_len - off < 4)
                break;
            n = ((size_t)p[2] << 8) | p[3];
            hl = 4;
        } else if (n == 127) {
            fail_msg("no 64-bit frames expected here");
        }
        if (f->raw_len - off < hl + 4 + n)
            break;
        assert_true(f->nmsg < MAXMSG);
        assert_true(n < sizeof(f->msg[0]));
        for (i = 0; i < n; i++)
            f->msg[f->nmsg][i] = (char)(p[hl + 4 + i] ^ p[hl + (i & 3)]);
        f->msg[f->nmsg][n] = '\0';
        f->len[f->nmsg] = n;
        f->op[f->nmsg++] = p[0] & 0x0f;
        off += hl + 4 + n;
    }
    memmove(f->raw, f->raw + off, f->raw_len - off);
    f->raw_len -= off;
}

static void pump(struct fix *f) {
    const void *d;
    size_t n;
    assert_int_equal(xmpp_session_drain(f->s, &d, &n), XMPP_OK);
    if (n == 0)
        return;
    if (!f->upgraded) {
        assert_true(f->http_len + n < sizeof(f->http));
        memcpy(f->http + f->http_len, d, n);
        f->http_len += n;
        f->http[f->http_len] = '\0';
    } else {
        assert_true(f->raw_len + n <= sizeof(f->raw));
        memcpy(f->raw + f->raw_len, d, n);
        f->raw_len += n;
        decode(f);
    }
    assert_int_equal(xmpp_session_consume(f->s, n), XMPP_OK);
}

static void take(struct fix *f) {
    f->nmsg = 0;
}

static void server_raw(struct fix *f, const void *bytes, size_t len) {
    assert_int_equal(xmpp_session_recv(f->s, bytes, len, f->now), XMPP_OK);
    pump(f);
}

/* One server frame: b0 is FIN/RSV/opcode as sent. */
static void server_frame(struct fix *f, unsigned b0, const char *payload, size_t n) {
    unsigned char buf[8192];
    size_t hl = 2;
    assert_true(n + 10 <= sizeof(buf));
    buf[0] = (unsigned char)b0;
    if (n < 126) {
        buf[1] = (unsigned char)n;
    } else {
        buf[1] = 126;
        buf[2] = (unsigned char)(n >> 8);
        buf[3] = (unsigned char)n;
        hl = 4;
    }
    if (n)
        memcpy(buf + hl, payload, n);
    server_raw(f, buf, hl + n);
}

static void server(struct fix *f, const char *xml) {
    server_frame(f, 0x81, xml, strlen(xml));
}

static int has(const struct fix *f, const char *needle) {
    int i;
    for (i = 0; i < f->nmsg; i++)
        if (f->op[i] == 1 && strstr(f->msg[i], needle) != NULL)
            return 1;
    return 0;
}

/* The 101 for the request in f->http. */
static void upgrade_101(struct fix *f, const char *extra) {
    char key[32], accept[29], resp[512];
    const char *k = strstr(f->http, "Sec-WebSocket-Key: ");
    size_t kl;
    assert_non_null(k);
    k += strlen("Sec-WebSocket-Key: ");
    kl = strcspn(k, "\r");
    assert_true(kl < sizeof(key));
    memcpy(key, k, kl);
    key[kl] = '\0';
    assert_int_equal(xmpp__ws_accept_for(key, accept), XMPP_OK);
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: xmpp\r\n%s\r\n",
             accept, extra ? extra : "");
    f->upgraded = 1;
    server_raw(f, resp, strlen(resp));
}

static int sm_mode = XMPP_SM_OFF;

static struct fix *fix_new_url(const char *url, int plain_ok) {
    static struct fix f;
    xmpp_session_options *o;
    memset(&f, 0, sizeof(f));
    f.now = 1000;
    f.ctx = th_ctx_new(&f.alloc);
    th_alloc_reset(&f.alloc, -1);
    assert_non_null(f.ctx);
    assert_int_equal(xmpp_session_options_new(&o, f.ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    /* plain_ok: 1 allowed, 0 not allowed (creation must fail), 2 not
     * allowed (creation must succeed: TLS) */
    assert_int_equal(xmpp_session_options_allow_plaintext(o, plain_ok == 1), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_stream_management(o, sm_mode), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_websocket(o, url), XMPP_OK);
    assert_string_equal(xmpp_session_options_get_websocket(o), url);
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, &f), XMPP_OK);
    if (!plain_ok) {
        assert_int_equal(xmpp_session_new(&f.s, f.ctx, o), XMPP_ERR_INVALID);
        xmpp_session_options_free(o);
        return &f;
    }
    assert_int_equal(xmpp_session_new(&f.s, f.ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_session_start(f.s, f.now), XMPP_OK);
    pump(&f);
    return &f;
}

static struct fix *fix_new(void) {
    return fix_new_url("ws://127.0.0.1:5280/xmpp-websocket", 1);
}

static void fix_free(struct fix *f) {
    xmpp_session_free(f->s);
    assert_int_equal(f->alloc.live, 0);
    xmpp_ctx_free(f->ctx);
}

/* Upgrade and the server's <open/> with PLAIN offered. */
static void opened(struct fix *f) {
    upgrade_101(f, NULL);
    assert_int_equal(f->nmsg, 1);
    assert_string_equal(f->msg[0], "<open xmlns='" FRAMING
                                   "' to='example.com' version='1.0' xml:lang='en'/>");
    take(f);
    server(f, SOPEN);
    assert_int_equal(f->nmsg, 0);
    server(f, FEAT_PLAIN);
    assert_int_equal(f->nmsg, 1);
    assert_non_null(strstr(f->msg[0], "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                      "mechanism='PLAIN'>"));
}

/* ... up to READY: SASL restart, bind. */
static void login(struct fix *f) {
    const char *id;
    char res[512];
    opened(f);
    take(f);
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    /* the restart: a new <open/>, not a stream header */
    assert_int_equal(f->nmsg, 1);
    assert_non_null(strstr(f->msg[0], "<open xmlns='" FRAMING "'"));
    take(f);
    server(f, SOPEN);
    server(f, FEAT_BIND);
    assert_int_equal(f->nmsg, 1);
    /* the stream's default namespace is not inherited: declared */
    assert_non_null(strstr(f->msg[0], "<iq xmlns='jabber:client' "));
    id = strstr(f->msg[0], "id=\"");
    assert_non_null(id);
    snprintf(res, sizeof(res),
             "<iq xmlns='jabber:client' type='result' id='%.*s'>"
             "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/r</jid>"
             "</bind></iq>",
             (int)(strchr(id + 4, '"') - id - 4), id + 4);
    take(f);
    server(f, res);
    assert_int_equal(f->ready, 1);
}

static void test_upgrade_request(void **state) {
    struct fix *f = fix_new();
    (void)state;
    assert_non_null(strstr(f->http, "GET /xmpp-websocket HTTP/1.1\r\n"));
    assert_non_null(strstr(f->http, "Host: 127.0.0.1:5280\r\n"));
    assert_non_null(strstr(f->http, "Sec-WebSocket-Protocol: xmpp\r\n"));
    assert_non_null(strstr(f->http, "Sec-WebSocket-Version: 13\r\n"));
    /* nothing but the request before the 101: the <open/> waits */
    assert_null(strstr(f->http, "<open"));
    assert_null(strstr(f->http, "stream:stream"));
    fix_free(f);
}

static void test_session_over_websocket(void **state) {
    struct fix *f = fix_new();
    xmpp_stanza *m = NULL;
    (void)state;
    login(f);
    /* a stanza: one text message, namespaced */
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "m1", "hi"),
                     XMPP_OK);
    take(f);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    xmpp_stanza_unref(m);
    pump(f);
    assert_int_equal(f->nmsg, 1);
    assert_non_null(strstr(f->msg[0], "<message xmlns='jabber:client' "));
    assert_non_null(strstr(f->msg[0], "<body>hi</body></message>"));
    /* a server ping: a pong with the same payload */
    take(f);
    server_frame(f, 0x89, "abc", 3);
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->op[0], 10);
    assert_memory_equal(f->msg[0], "abc", 3);
    /* a stanza in two frames of one message (fragmented), a ping between */
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, on_message, f, NULL),
                     XMPP_OK);
    take(f);
    server_frame(f, 0x01, "<message xmlns='jabber:client' from='bob@example.com/x'>",
                 strlen("<message xmlns='jabber:client' from='bob@example.com/x'>"));
    server_frame(f, 0x89, "", 0);
    assert_int_equal(f->messages, 0);
    server_frame(f, 0x80, "<body>in two</body></message>", strlen("<body>in two</body></message>"));
    assert_int_equal(f->messages, 1);
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->op[0], 10);
    /* close: <close/>, the server's <close/>, then the closing handshake */
    take(f);
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    pump(f);
    assert_int_equal(f->nmsg, 1);
    assert_string_equal(f->msg[0], "<close xmlns='" FRAMING "'/>");
    take(f);
    server(f, "<close xmlns='" FRAMING "'/>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(f->nmsg, 1);
    assert_int_equal(f->op[0], 8);
    assert_int_equal(f->len[0], 2);
    assert_int_equal(((unsigned char)f->msg[0][0] << 8) | (unsigned char)f->msg[0][1], 1000);
    fix_free(f);
}

static void test_server_close_element(void **state) {
    struct fix *f = fix_new();
    (void)state;
    login(f);
    take(f);
    server(f, "<close xmlns='" FRAMING "'/>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_REMOTE_CLOSE);
    /* answered with <close/> and a close frame */
    assert_int_equal(f->nmsg, 2);
    assert_string_equal(f->msg[0], "<close xmlns='" FRAMING "'/>");
    assert_int_equal(f->op[1], 8);
    fix_free(f);
}

static void test_see_other_uri(void **state) {
    struct fix *f = fix_new();
    xmpp_stream_condition cond;
    const char *text = NULL;
    (void)state;
    opened(f);
    server(f, "<close xmlns='" FRAMING "' see-other-uri='wss://other.example.com/ws'/>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(xmpp_session_get_error(f->s, &cond, &text), XMPP_CAUSE_STREAM_ERROR);
    assert_int_equal(cond, XMPP_SC_SEE_OTHER_HOST);
    assert_string_equal(xmpp_session_redirect(f->s), "wss://other.example.com/ws");
    fix_free(f);
    /* not a WebSocket URL: a protocol error, nothing to follow */
    f = fix_new();
    opened(f);
    server(f, "<close xmlns='" FRAMING "' see-other-uri='http://evil.example/'/>");
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_null(xmpp_session_redirect(f->s));
    fix_free(f);
}

/* A hostile frame after login: the session ends with `cause`, the error
 * text holds `why`, and the client's last frame is a close with `code`
 * (0: none checked). */
static void hostile(const void *frame, size_t n, xmpp_disconnect_cause cause, const char *why,
                    unsigned code) {
    struct fix *f = fix_new();
    const char *text = NULL;
    login(f);
    take(f);
    server_raw(f, frame, n);
    assert_int_equal(f->closed, 1);
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), cause);
    assert_non_null(text);
    if (strstr(text, why) == NULL)
        fail_msg("error text \"%s\" lacks \"%s\"", text, why);
    if (code) {
        assert_true(f->nmsg >= 1);
        assert_int_equal(f->op[f->nmsg - 1], 8);
        assert_int_equal(((unsigned char)f->msg[f->nmsg - 1][0] << 8) |
                             (unsigned char)f->msg[f->nmsg - 1][1],
                         code);
    }
    /* nothing more is accepted */
    assert_int_equal(xmpp_session_recv(f->s, "x", 1, f->now), XMPP_ERR_CLOSED);
    fix_free(f);
}

static void test_hostile_frames(void **state) {
    static const unsigned char rsv[] = {0xc1, 0x01, ' '};          /* RSV1 */
    static const unsigned char masked[] = {0x81, 0x81, 1, 2, 3, 4, ' '};
    static const unsigned char huge[] = {0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char big[] = {0x81, 127, 0, 0, 0, 0, 0x10, 0, 0, 0}; /* 256 MiB */
    static const unsigned char frag_ping[] = {0x09, 0x00};          /* ping without FIN */
    static const unsigned char binary[] = {0x82, 0x01, 'x'};
    static const unsigned char opcode[] = {0x83, 0x00};
    static const unsigned char cont[] = {0x80, 0x01, 'x'};          /* continuation alone */
    static const unsigned char bad_code[] = {0x88, 0x02, 0x03, 0xed}; /* 1005: reserved */
    static const unsigned char low_code[] = {0x88, 0x02, 0x03, 0xe7}; /* 999 */
    static const unsigned char one_byte[] = {0x88, 0x01, 0x03};
    static const unsigned char bad_utf8[] = {0x81, 0x02, 0xc3, 0x28};
    static const unsigned char long_ping[] = {0x89, 126, 0x00, 0x80};
    static const unsigned char going_away[] = {0x88, 0x06, 0x03, 0xe9, 'b', 'y', 'e', '!'};
    (void)state;
    hostile(rsv, sizeof(rsv), XMPP_CAUSE_PROTOCOL, "reserved", 1002);
    hostile(masked, sizeof(masked), XMPP_CAUSE_PROTOCOL, "mask", 1002);
    hostile(huge, sizeof(huge), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(big, sizeof(big), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1009);
    hostile(frag_ping, sizeof(frag_ping), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(long_ping, sizeof(long_ping), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(binary, sizeof(binary), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1003);
    hostile(opcode, sizeof(opcode), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(cont, sizeof(cont), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(bad_code, sizeof(bad_code), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(low_code, sizeof(low_code), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(one_byte, sizeof(one_byte), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1002);
    hostile(bad_utf8, sizeof(bad_utf8), XMPP_CAUSE_PROTOCOL, "WebSocket protocol error", 1007);
    /* a well-formed close from the server: a remote close, code reported */
    hostile(going_away, sizeof(going_away), XMPP_CAUSE_REMOTE_CLOSE, "code 1001: bye!", 1001);
}

static void test_framing_violations(void **state) {
    struct fix *f;
    const char *text = NULL;
    (void)state;
    /* two elements in one message */
    f = fix_new();
    login(f);
    server(f, "<message xmlns='jabber:client' from='bob@example.com/x'><body>1</body></message>"
              "<message xmlns='jabber:client' from='bob@example.com/x'><body>2</body></message>");
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    assert_non_null(strstr(text, "not exactly one XML element"));
    fix_free(f);
    /* half an element */
    f = fix_new();
    login(f);
    server(f, "<message xmlns='jabber:client'><body>1</body>");
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    fix_free(f);
    /* a stanza before the server's <open/> */
    f = fix_new();
    upgrade_101(f, NULL);
    server(f, FEAT_PLAIN);
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    assert_non_null(strstr(text, "before the server's <open/>"));
    fix_free(f);
    /* a second <open/> on one stream */
    f = fix_new();
    opened(f);
    server(f, SOPEN);
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    fix_free(f);
    /* an <open/> without version 1.x: the negotiator's own check */
    f = fix_new();
    upgrade_101(f, NULL);
    server(f, "<open xmlns='" FRAMING "' from='example.com' id='s1'/>");
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    fix_free(f);
    /* a server that answers without the xmpp subprotocol or not 101 */
    f = fix_new();
    f->upgraded = 1;
    server_raw(f, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
               strlen("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    assert_non_null(strstr(text, "WebSocket upgrade refused: HTTP 403 Forbidden"));
    fix_free(f);
    f = fix_new();
    f->upgraded = 1;
    server_raw(f,
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"
               "Sec-WebSocket-Protocol: xmpp\r\n\r\n",
               strlen("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                      "Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"
                      "Sec-WebSocket-Protocol: xmpp\r\n\r\n"));
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    assert_non_null(strstr(text, "WebSocket upgrade"));
    fix_free(f);
    /* garbage instead of HTTP */
    f = fix_new();
    f->upgraded = 1;
    server_raw(f, "<stream:stream>\r\n\r\n", 19);
    assert_int_equal(xmpp_session_get_error(f->s, NULL, &text), XMPP_CAUSE_PROTOCOL);
    assert_non_null(strstr(text, "bad HTTP response"));
    fix_free(f);
}

/* The 101 and the first frames in one read, split at every byte. */
static void test_split_input(void **state) {
    size_t cut;
    (void)state;
    for (cut = 1; cut < 40; cut += 3) {
        struct fix *f = fix_new();
        char key[32], accept[29], buf[1024];
        const char *k = strstr(f->http, "Sec-WebSocket-Key: ") + 19;
        size_t kl = strcspn(k, "\r"), n;
        memcpy(key, k, kl);
        key[kl] = '\0';
        assert_int_equal(xmpp__ws_accept_for(key, accept), XMPP_OK);
        n = (size_t)snprintf(buf, sizeof(buf),
                             "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n",
                             accept);
        buf[n++] = (char)0x81;
        buf[n++] = (char)strlen(SOPEN);
        memcpy(buf + n, SOPEN, strlen(SOPEN));
        n += strlen(SOPEN);
        f->upgraded = 1;
        server_raw(f, buf, cut);
        server_raw(f, buf + cut, n - cut);
        assert_int_equal(f->closed, 0);
        take(f);
        server(f, FEAT_PLAIN);
        assert_true(has(f, "mechanism='PLAIN'"));
        fix_free(f);
    }
}

static void test_options(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp_session_options *o;
    xmpp__ws_url u;
    static const char *const bad[] = {
        "http://h/", "ws:/h", "ws://", "ws://h:0/", "ws://h:65536/", "ws://u@h/", "ws://h/#f",
        "ws://h/a b", "ws://h:/", "ws://[::1/", "wss://h\x01/", "ws://h\xc3\xa9/", "ws://h;x/"};
    size_t i;
    struct fix *f;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, ctx), XMPP_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (xmpp_session_options_set_websocket(o, bad[i]) != XMPP_ERR_INVALID)
            fail_msg("accepted %s", bad[i]);
    }
    assert_null(xmpp_session_options_get_websocket(o));
    assert_int_equal(xmpp_session_options_set_websocket(o, "WSS://[::1]:8443/x?y=1"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_websocket(o, NULL), XMPP_OK);
    assert_null(xmpp_session_options_get_websocket(o));
    assert_int_equal(xmpp_session_options_set_websocket(NULL, "ws://h/"), XMPP_ERR_INVALID);
    xmpp_session_options_free(o);
    xmpp_ctx_free(ctx);

    assert_int_equal(xmpp__ws_url_parse("WSS://[::1]:8443/x?y=1", &u), XMPP_OK);
    assert_int_equal(u.secure, 1);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.authority, "[::1]:8443");
    assert_string_equal(u.target, "/x?y=1");
    assert_int_equal(xmpp__ws_url_parse("ws://example.com", &u), XMPP_OK);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.authority, "example.com");
    assert_string_equal(u.target, "/");
    assert_int_equal(xmpp__ws_url_parse("wss://example.com?q", &u), XMPP_OK);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.target, "/?q");

    /* ws:// is plaintext: refused without the permission */
    f = fix_new_url("ws://example.com/ws", 0);
    assert_null(f->s);
    assert_int_equal(f->alloc.live, 0);
    xmpp_ctx_free(f->ctx);
}

/* wss://: TLS from the first byte (a ClientHello, not HTTP), the URL's
 * host as SNI; the scheme is case-insensitive (RFC 3986 §3.1), so "WsS"
 * is TLS too, and does not need the plaintext permission. */
static void test_wss_starts_tls(void **state) {
    struct fix *f = fix_new_url("WsS://ws.example.net/xmpp", 2);
    (void)state;
    assert_true(f->http_len > 5);
    assert_int_equal((unsigned char)f->http[0], 0x16); /* TLS handshake record */
    assert_non_null(memmem(f->http, f->http_len, "ws.example.net", 14));
    assert_null(memmem(f->http, f->http_len, "xmpp-client", 11)); /* no XEP-0368 ALPN */
    assert_null(memmem(f->http, f->http_len, "GET ", 4));
    fix_free(f);
}

/* Stream management over WebSocket: enabled after bind; the connection
 * drops; the same session on a new connection does a new upgrade (a new
 * key), a new <open/>, and resumes instead of binding. */
static void test_resume_after_reconnect(void **state) {
    struct fix *f;
    const char *id;
    char res[512], key1[32];
    (void)state;
    sm_mode = XMPP_SM_RESUME;
    f = fix_new();
    sm_mode = XMPP_SM_OFF;
    opened(f);
    take(f);
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    take(f);
    server(f, SOPEN);
    server(f, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
              "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>"
              "</stream:features>");
    assert_true(has(f, "<iq xmlns='jabber:client' "));
    assert_true(has(f, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"));
    id = strstr(f->msg[0], "id=\"");
    assert_non_null(id);
    snprintf(res, sizeof(res),
             "<iq xmlns='jabber:client' type='result' id='%.*s'>"
             "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/r</jid>"
             "</bind></iq>",
             (int)(strchr(id + 4, '"') - id - 4), id + 4);
    take(f);
    server(f, res);
    server(f, "<enabled xmlns='urn:xmpp:sm:3' id='sm-ws' resume='true' max='300'/>");
    assert_int_equal(f->ready, 1);
    /* the TCP connection under the WebSocket breaks */
    snprintf(key1, sizeof(key1), "%.24s", strstr(f->http, "Sec-WebSocket-Key: ") + 19);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, "reset"), XMPP_OK);
    assert_int_equal(f->closed, 1);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now + 1000), 1);
    /* a new connection: upgrade again */
    f->upgraded = 0;
    f->http_len = 0;
    f->raw_len = 0;
    take(f);
    f->now += 1000;
    /* the session wiped its password once authenticated (as the driver) */
    assert_int_equal(xmpp_session_set_password(f->s, "secret"), XMPP_OK);
    assert_int_equal(xmpp_session_start(f->s, f->now), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->http, "GET /xmpp-websocket HTTP/1.1\r\n"));
    assert_null(strstr(f->http, key1)); /* a fresh key */
    opened(f);
    take(f);
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    take(f);
    server(f, SOPEN);
    server(f, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
              "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>"
              "</stream:features>");
    assert_int_equal(f->nmsg, 1);
    assert_non_null(strstr(f->msg[0], "<resume xmlns='urn:xmpp:sm:3'"));
    assert_non_null(strstr(f->msg[0], "previd='sm-ws'"));
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-ws'/>");
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_READY);
    fix_free(f);
}

/* Every allocation failing in turn during a whole login: an error, never a
 * crash or a leak. */
static int login_scenario(xmpp_ctx *ctx, void *arg) {
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    int rc;
    (void)arg;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_session_options_set_jid(o, "alice@example.com")) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, "secret")) != XMPP_OK ||
        (rc = xmpp_session_options_allow_plaintext(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_websocket(o, "ws://h/ws")) != XMPP_OK ||
        (rc = xmpp_session_new(&s, ctx, o)) != XMPP_OK) {
        xmpp_session_options_free(o);
        return rc;
    }
    xmpp_session_options_free(o);
    rc = xmpp_session_start(s, 1);
    if (rc == XMPP_OK) {
        const void *d;
        size_t n;
        xmpp_session_drain(s, &d, &n);
        rc = xmpp_session_get_state(s) == XMPP_STATE_CLOSED || n == 0 ? XMPP_ERR_NOMEM : XMPP_OK;
    }
    xmpp_session_free(s);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(login_scenario, NULL) > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_request),
        cmocka_unit_test(test_session_over_websocket),
        cmocka_unit_test(test_server_close_element),
        cmocka_unit_test(test_see_other_uri),
        cmocka_unit_test(test_hostile_frames),
        cmocka_unit_test(test_framing_violations),
        cmocka_unit_test(test_split_input),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_wss_starts_tls),
        cmocka_unit_test(test_resume_after_reconnect),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
