/* XEP-0138 stream compression in the session, driven by a scripted server
 * that really deflates and inflates (zlib): negotiation only after
 * authentication and when asked for, the restart, both directions
 * compressed, refusal, and the compression bomb of SECURITY.md ending the
 * session with policy-violation in bounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include <xmpp/xmpp.h>

#include "testhelp.h"

#define HDR                                                                                  \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                             \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "            \
    "version='1.0'>"
#define FEAT_PLAIN                                                                           \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"                \
    "<mechanism>PLAIN</mechanism></mechanisms>"                                              \
    "<compression xmlns='http://jabber.org/features/compress'><method>zlib</method>"         \
    "</compression></stream:features>"
#define FEAT_BIND_COMPRESS                                                                   \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"                      \
    "<compression xmlns='http://jabber.org/features/compress'><method>lzw</method>"          \
    "<method>zlib</method></compression></stream:features>"
#define FEAT_BIND "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"

struct fix {
    xmpp_ctx *ctx;
    xmpp_session *s;
    th_alloc alloc;
    uint64_t now;
    char out[1 << 16]; /* what the client wrote (inflated once compressed) */
    size_t out_len;
    int compressed;    /* the client's output is compressed from here */
    z_stream in;       /* inflates the client's output */
    z_stream def;      /* deflates the server's output */
    int ready, closed;
    xmpp_disconnect_cause cause;
};

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

static void add_out(struct fix *f, const void *d, size_t n) {
    assert_true(f->out_len + n < sizeof(f->out));
    memcpy(f->out + f->out_len, d, n);
    f->out_len += n;
    f->out[f->out_len] = '\0';
}

static void pump(struct fix *f) {
    const void *d;
    size_t n;
    assert_int_equal(xmpp_session_drain(f->s, &d, &n), XMPP_OK);
    if (n == 0)
        return;
    if (!f->compressed) {
        add_out(f, d, n);
    } else {
        unsigned char buf[8192];
        f->in.next_in = (unsigned char *)d;
        f->in.avail_in = (unsigned)n;
        do {
            int rc;
            f->in.next_out = buf;
            f->in.avail_out = sizeof(buf);
            rc = inflate(&f->in, Z_SYNC_FLUSH);
            assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
            add_out(f, buf, sizeof(buf) - f->in.avail_out);
        } while (f->in.avail_in > 0 || f->in.avail_out == 0);
    }
    assert_int_equal(xmpp_session_consume(f->s, n), XMPP_OK);
}

static void take(struct fix *f) {
    f->out_len = 0;
    f->out[0] = '\0';
}

static void server_raw(struct fix *f, const void *bytes, size_t len) {
    assert_int_equal(xmpp_session_recv(f->s, bytes, len, f->now), XMPP_OK);
    pump(f);
}

static void server(struct fix *f, const char *xml) {
    server_raw(f, xml, strlen(xml));
}

/* Deflates (sync flush, so it can be inflated at once) and sends. */
static void server_z(struct fix *f, const char *xml, size_t len) {
    unsigned char buf[1 << 15];
    f->def.next_in = (unsigned char *)xml;
    f->def.avail_in = (unsigned)len;
    do {
        f->def.next_out = buf;
        f->def.avail_out = sizeof(buf);
        assert_int_equal(deflate(&f->def, Z_SYNC_FLUSH), Z_OK);
        if (sizeof(buf) - f->def.avail_out > 0 && xmpp_session_get_state(f->s) != XMPP_STATE_CLOSED)
            assert_int_equal(xmpp_session_recv(f->s, buf, sizeof(buf) - f->def.avail_out, f->now),
                             XMPP_OK);
    } while (f->def.avail_out == 0);
    pump(f);
}

static struct fix *fix_new(int compression) {
    static struct fix f;
    xmpp_session_options *o;
    memset(&f, 0, sizeof(f));
    f.now = 1000;
    f.ctx = th_ctx_new(&f.alloc);
    th_alloc_reset(&f.alloc, -1);
    assert_non_null(f.ctx);
    assert_int_equal(inflateInit(&f.in), Z_OK);
    assert_int_equal(deflateInit(&f.def, Z_DEFAULT_COMPRESSION), Z_OK);
    assert_int_equal(xmpp_session_options_new(&o, f.ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_stream_management(o, XMPP_SM_OFF), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_compression(o, compression), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, &f), XMPP_OK);
    assert_int_equal(xmpp_session_new(&f.s, f.ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_session_start(f.s, f.now), XMPP_OK);
    pump(&f);
    return &f;
}

static void fix_free(struct fix *f) {
    xmpp_session_free(f->s);
    inflateEnd(&f->in);
    deflateEnd(&f->def);
    assert_int_equal(f->alloc.live, 0);
    xmpp_ctx_free(f->ctx);
}

/* Plaintext PLAIN login up to the features after authentication; the
 * compression offered before authentication is never taken. */
static void login(struct fix *f, const char *post) {
    take(f);
    server(f, HDR FEAT_PLAIN);
    assert_null(strstr(f->out, "compress"));
    assert_non_null(strstr(f->out, "mechanism='PLAIN'"));
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    take(f);
    {
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s%s", HDR, post);
        server(f, buf);
    }
}

static void bind_result(struct fix *f, int compressed) {
    const char *id = strstr(f->out, "id=\"");
    char res[512];
    int n;
    assert_non_null(id);
    n = snprintf(res, sizeof(res),
                 "<iq type='result' id='%.*s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                 "<jid>alice@example.com/r</jid></bind></iq>",
                 (int)(strchr(id + 4, '"') - id - 4), id + 4);
    take(f);
    if (compressed)
        server_z(f, res, (size_t)n);
    else
        server(f, res);
}

static void test_compressed_session(void **state) {
    struct fix *f = fix_new(1);
    xmpp_stanza *m = NULL;
    (void)state;
    login(f, FEAT_BIND_COMPRESS);
    assert_non_null(strstr(f->out, "<compress xmlns='http://jabber.org/protocol/compress'>"
                                   "<method>zlib</method></compress>"));
    assert_null(strstr(f->out, "<bind"));
    take(f);
    /* <compressed/>: from the next byte on, both directions are compressed */
    f->compressed = 1;
    server(f, "<compressed xmlns='http://jabber.org/protocol/compress'/>");
    assert_non_null(strstr(f->out, "<stream:stream to='example.com'"));
    take(f);
    server_z(f, HDR FEAT_BIND, strlen(HDR FEAT_BIND));
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    bind_result(f, 1);
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "m1", "squeezed"),
                     XMPP_OK);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    xmpp_stanza_unref(m);
    pump(f);
    assert_non_null(strstr(f->out, "<body>squeezed</body>"));
    fix_free(f);
}

static void test_refused_and_not_asked(void **state) {
    struct fix *f;
    (void)state;
    /* refused: carry on uncompressed with the features already received */
    f = fix_new(1);
    login(f, FEAT_BIND_COMPRESS);
    assert_non_null(strstr(f->out, "<compress "));
    take(f);
    server(f, "<failure xmlns='http://jabber.org/protocol/compress'><setup-failed/></failure>");
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    bind_result(f, 0);
    assert_int_equal(f->ready, 1);
    fix_free(f);
    /* off by default: offered, never asked for */
    f = fix_new(0);
    login(f, FEAT_BIND_COMPRESS);
    assert_null(strstr(f->out, "compress"));
    assert_non_null(strstr(f->out, "<bind"));
    fix_free(f);
}

/* SECURITY.md, compression bomb: 64 MiB of white space, deflated to some
 * 64 KiB, must end the session with policy-violation long before it is all
 * inflated, and without memory growing with it. */
static void test_bomb(void **state) {
    struct fix *f = fix_new(1);
    size_t big = 64u << 20, chunk = 1u << 20, done;
    char *spaces = malloc(chunk);
    (void)state;
    assert_non_null(spaces);
    memset(spaces, ' ', chunk);
    login(f, FEAT_BIND_COMPRESS);
    take(f);
    f->compressed = 1;
    server(f, "<compressed xmlns='http://jabber.org/protocol/compress'/>");
    server_z(f, HDR FEAT_BIND, strlen(HDR FEAT_BIND));
    bind_result(f, 1);
    assert_int_equal(f->ready, 1);
    take(f);
    for (done = 0; done < big && xmpp_session_get_state(f->s) != XMPP_STATE_CLOSED; done += chunk)
        server_z(f, spaces, chunk);
    free(spaces);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    {
        xmpp_stream_condition cond;
        xmpp_session_get_error(f->s, &cond, NULL);
        assert_int_equal(cond, XMPP_SC_POLICY_VIOLATION);
    }
    /* stopped within the first few MiB, and the stream error went out */
    assert_true(done <= 16u << 20);
    assert_non_null(strstr(f->out, "policy-violation"));
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compressed_session),
        cmocka_unit_test(test_refused_and_not_asked),
        cmocka_unit_test(test_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
