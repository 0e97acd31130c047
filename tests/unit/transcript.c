/* The shared transcript fixture; see transcript.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>
#include <xmpp/session.h>

#include "transcript.h"

void (*g_setup)(xmpp_session_options *o);

void on_ready(xmpp_session *s, const char *jid, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->ready++;
    snprintf(f->bound, sizeof(f->bound), "%s", jid);
}

void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->closed++;
    f->cause = cause;
}

void pump(struct fix *f) {
    const void *d;
    size_t n;
    assert_int_equal(xmpp_session_drain(f->s, &d, &n), XMPP_OK);
    if (n) {
        assert_true(f->out_len + n < sizeof(f->out));
        memcpy(f->out + f->out_len, d, n);
        f->out_len += n;
        f->out[f->out_len] = '\0';
        assert_int_equal(xmpp_session_consume(f->s, n), XMPP_OK);
    }
}

void take(struct fix *f) {
    f->out_len = 0;
    f->out[0] = '\0';
}

void server(struct fix *f, const char *bytes) {
    assert_int_equal(xmpp_session_recv(f->s, bytes, strlen(bytes), f->now), XMPP_OK);
    pump(f);
}

struct fix *fix_new(const char *jid, int plaintext) {
    return fix_new_opts(jid, plaintext, NULL);
}

struct fix *fix_new_opts(const char *jid, int plaintext, void (*setup)(xmpp_session_options *o)) {
    static struct fix f;
    xmpp_session_options *o;
    memset(&f, 0, sizeof(f));
    f.now = 1000;
    assert_int_equal(xmpp_ctx_new(&f.ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, f.ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, jid), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    if (plaintext) {
        assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
        assert_int_equal(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE), XMPP_OK);
    }
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, &f), XMPP_OK);
    if (setup)
        setup(o);
    assert_int_equal(xmpp_session_new(&f.s, f.ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_session_start(f.s, f.now), XMPP_OK);
    pump(&f);
    return &f;
}

void fix_free(struct fix *f) {
    xmpp_session_free(f->s);
    xmpp_ctx_free(f->ctx);
}

struct fix *login(const char *jid, const char *bound) {
    return login_with(jid, bound, FEAT_BIND);
}

struct fix *login_with(const char *jid, const char *bound, const char *features) {
    struct fix *f = fix_new_opts(jid, 1, g_setup);
    char res[512];
    const char *id;
    assert_non_null(strstr(f->out, "<stream:stream to='example.com'"));
    take(f);
    server(f, HDR FEAT_PLAIN);
    /* AGFsaWNlAHNlY3JldA== is "\0alice\0secret" */
    assert_non_null(strstr(f->out, "mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>"));
    take(f);
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    assert_non_null(strstr(f->out, "<stream:stream to='example.com'"));
    take(f);
    assert_true(strlen(HDR) + strlen(features) < 1024);
    {
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s%s", HDR, features);
        server(f, buf);
    }
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    id = strstr(f->out, "id=\"");
    assert_non_null(id);
    snprintf(res, sizeof(res),
             "<iq type='result' id='%.*s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             "<jid>%s</jid></bind></iq>",
             (int)(strchr(id + 4, '"') - id - 4), id + 4, bound);
    take(f);
    server(f, res);
    return f;
}

int count_of(const char *hay, const char *needle) {
    int n = 0;
    const char *p = hay;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}
