/* The sans-I/O session driven by scripted server bytes: negotiation,
 * dispatch, IQ tracking and the hostile negotiation scenarios of
 * SECURITY.md that need no TLS (d.4, d.5 #45, #47, ORG-05, ORG-08,
 * TLS-01/02 stripping). Time is passed in; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>
#include <xmpp/session.h>

#include "testhelp.h"
#include "transcript.h"

static void test_login_plain(void **state) {
    struct fix *f;
    (void)state;
    f = login("alice@example.com/phone", "alice@example.com/phone-1234");
    assert_int_equal(f->ready, 1);
    assert_string_equal(f->bound, "alice@example.com/phone-1234");
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_READY);
    assert_string_equal(xmpp_session_jid(f->s), "alice@example.com/phone-1234");
    assert_string_equal(xmpp_session_mechanism(f->s), "PLAIN");
    assert_int_equal(xmpp_session_sasl_pins(f->s), 0);
    /* close: our </stream:stream>, then the server's */
    assert_int_equal(xmpp_session_close(f->s), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "</stream:stream>"));
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_CLOSING);
    server(f, "</stream:stream>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(xmpp_session_recv(f->s, "x", 1, f->now), XMPP_ERR_CLOSED);
    fix_free(f);
}

static void test_bytewise_login(void **state) {
    /* the whole server side fed one byte at a time */
    struct fix *f = fix_new("alice@example.com", 1);
    const char *script = HDR FEAT_PLAIN "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
    size_t i;
    (void)state;
    for (i = 0; script[i]; i++)
        assert_int_equal(xmpp_session_recv(f->s, script + i, 1, f->now), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "AGFsaWNlAHNlY3JldA=="));
    /* the restart happened: a second header went out */
    assert_non_null(strstr(strstr(f->out, "</auth>"), "<stream:stream"));
    fix_free(f);
}

static int msg_handler(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->handled++;
    assert_string_equal(xmpp_stanza_name(st), "message");
    return 1;
}

static void test_dispatch_and_service_unavailable(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    unsigned long h;
    (void)state;
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, "chat", msg_handler, f, &h),
                     XMPP_OK);
    take(f);
    server(f, "<message from='bob@example.com/x' type='chat' id='m1'><body>hi</body></message>");
    assert_int_equal(f->handled, 1);
    server(f, "<message from='bob@example.com/x' type='normal'><body>hi</body></message>");
    assert_int_equal(f->handled, 1); /* type does not match */
    assert_int_equal(xmpp_session_remove_handler(f->s, h), XMPP_OK);
    assert_int_equal(xmpp_session_remove_handler(f->s, h), XMPP_ERR_NOT_FOUND);
    server(f, "<message from='bob@example.com/x' type='chat'><body>hi</body></message>");
    assert_int_equal(f->handled, 1);
    /* ORG-08 / #47: an unhandled IQ request is answered, never ignored */
    take(f);
    server(f, "<iq type='set' id='ah1' from='example.com'><command "
              "xmlns='http://jabber.org/protocol/commands' action='execute'/></iq>");
    assert_non_null(strstr(f->out, "<iq type=\"error\" to=\"example.com\" id=\"ah1\">"));
    assert_non_null(strstr(f->out, "<service-unavailable"));
    /* an unmatched result is dropped silently */
    take(f);
    server(f, "<iq type='result' id='nobody' from='example.com'/>");
    assert_int_equal(f->out_len, 0);
    fix_free(f);
}

static void iq_cb(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->iq_calls++;
    f->iq_status = st;
    if (st == XMPP_IQ_RESULT || st == XMPP_IQ_ERROR)
        assert_non_null(reply);
    else
        assert_null(reply);
}

static void send_query(struct fix *f, const char *to, const char *id, unsigned timeout) {
    xmpp_stanza *iq;
    assert_int_equal(xmpp_iq_new(&iq, f->ctx, "get", to, id), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(iq, "query", "jabber:iq:version", NULL), XMPP_OK);
    assert_int_equal(xmpp_session_send_iq(f->s, iq, timeout, iq_cb, f), XMPP_OK);
    xmpp_stanza_unref(iq);
    pump(f);
}

static void test_iq_sender_checks(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    (void)state;
    send_query(f, "bob@example.com/desk", "v1", 5000);
    /* #45: right id, wrong sender: not matched (CVE-2013-6483) */
    server(f, "<iq type='result' id='v1' from='mallory@evil.com/x'/>");
    server(f, "<iq type='result' id='v1'/>");
    server(f, "<iq type='result' id='v1' from='bob@example.com'/>");
    assert_int_equal(f->iq_calls, 0);
    /* the right sender, compared on the prepared form */
    server(f, "<iq type='result' id='v1' from='BOB@Example.com/desk'/>");
    assert_int_equal(f->iq_calls, 1);
    assert_int_equal(f->iq_status, XMPP_IQ_RESULT);
    /* a duplicate reply does nothing: the callback fired exactly once */
    server(f, "<iq type='result' id='v1' from='bob@example.com/desk'/>");
    assert_int_equal(f->iq_calls, 1);

    /* a request without "to": own server, own bare or full JID, or nothing */
    send_query(f, NULL, "v2", 5000);
    server(f, "<iq type='error' id='v2' from='other.com'/>");
    assert_int_equal(f->iq_calls, 1);
    server(f, "<iq type='error' id='v2' from='example.com'><error type='cancel'>"
              "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert_int_equal(f->iq_calls, 2);
    assert_int_equal(f->iq_status, XMPP_IQ_ERROR);
    send_query(f, NULL, "v3", 5000);
    server(f, "<iq type='result' id='v3' from='alice@example.com/other'/>");
    assert_int_equal(f->iq_calls, 2);
    server(f, "<iq type='result' id='v3' from='alice@example.com'/>");
    assert_int_equal(f->iq_calls, 3);

    /* timeout: the unanswered request completes once, with TIMEOUT */
    send_query(f, "bob@example.com/desk", "v4", 2000);
    assert_true(xmpp_session_next_deadline(f->s) <= f->now + 2000);
    f->now += 1999;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    assert_int_equal(f->iq_calls, 3);
    f->now += 1;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    assert_int_equal(f->iq_calls, 4);
    assert_int_equal(f->iq_status, XMPP_IQ_TIMEOUT);
    server(f, "<iq type='result' id='v4' from='bob@example.com/desk'/>");
    assert_int_equal(f->iq_calls, 4);

    /* pending at teardown: cancelled, exactly once */
    send_query(f, "bob@example.com/desk", "v5", 5000);
    xmpp_session_free(f->s);
    f->s = NULL;
    assert_int_equal(f->iq_calls, 5);
    assert_int_equal(f->iq_status, XMPP_IQ_CANCELLED);
    assert_int_equal(f->closed, 0); /* no lifecycle callback from free */
    xmpp_ctx_free(f->ctx);
}

static void test_stream_error(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    xmpp_stream_condition c;
    const char *text;
    (void)state;
    take(f);
    /* #40: condition, text and application-specific child all surface */
    server(f, "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new "
              "connection</text><escape-your-data xmlns='urn:x:app'/></stream:error>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_STREAM_ERROR);
    assert_int_equal(xmpp_session_get_error(f->s, &c, &text), XMPP_CAUSE_STREAM_ERROR);
    assert_int_equal(c, XMPP_SC_CONFLICT);
    assert_string_equal(text, "Replaced by new connection");
    assert_string_equal(xmpp_stanza_name(xmpp_session_stream_error_app(f->s)), "escape-your-data");
    assert_non_null(strstr(f->out, "</stream:stream>"));
    fix_free(f);
}

static void test_see_other_host(void **state) {
    struct fix *f = fix_new("alice@example.com", 1);
    (void)state;
    server(f, HDR "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
                  "other.example.com:5223</see-other-host></stream:error>");
    assert_int_equal(f->cause, XMPP_CAUSE_STREAM_ERROR);
    assert_string_equal(xmpp_session_redirect(f->s), "other.example.com:5223");
    fix_free(f);
}

static void test_starttls_stripped(void **state) {
    /* #15 / TLS-01: TLS required (default) and no <starttls/>: nothing more
     * is written after the features, not even a stream error */
    struct fix *f = fix_new("alice@example.com", 0);
    (void)state;
    take(f);
    server(f, HDR FEAT_PLAIN);
    assert_int_equal(f->out_len, 0);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_TLS_REQUIRED);
    fix_free(f);
}

static void test_starttls_failure(void **state) {
    /* #17 / TLS-02 */
    struct fix *f = fix_new("alice@example.com", 0);
    (void)state;
    server(f, HDR "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                  "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
                  "</mechanism></mechanisms></stream:features>");
    assert_non_null(strstr(f->out, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    take(f);
    server(f, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
    assert_int_equal(f->cause, XMPP_CAUSE_TLS);
    assert_null(strstr(f->out, "<auth"));
    fix_free(f);
}

static void test_plaintext_injection_after_proceed(void **state) {
    /* bytes after <proceed/> in the same read are never handed to TLS or XML */
    struct fix *f = fix_new("alice@example.com", 0);
    (void)state;
    server(f, HDR "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                  "</stream:features>");
    take(f);
    server(f, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features>"
              "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
              "</mechanism></mechanisms></stream:features>");
    assert_null(strstr(f->out, "<auth"));
    /* what went out is a TLS ClientHello (handshake record 0x16) */
    assert_true(f->out_len > 5);
    assert_int_equal((unsigned char)f->out[0], 0x16);
    assert_int_equal(f->closed, 0);
    fix_free(f);
}

static void test_bad_headers(void **state) {
    struct fix *f;
    xmpp_stream_condition c;
    (void)state;
    /* #35: no version → never a legacy path */
    f = fix_new("alice@example.com", 1);
    server(f, "<stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' id='x'>" FEAT_PLAIN);
    assert_int_equal(xmpp_session_get_error(f->s, &c, NULL), XMPP_CAUSE_PROTOCOL);
    assert_int_equal(c, XMPP_SC_UNSUPPORTED_VERSION);
    assert_null(strstr(f->out, "<auth"));
    fix_free(f);
    /* version 0.9 */
    f = fix_new("alice@example.com", 1);
    server(f, "<stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='0.9'>");
    assert_int_equal(xmpp_session_get_error(f->s, &c, NULL), XMPP_CAUSE_PROTOCOL);
    assert_int_equal(c, XMPP_SC_UNSUPPORTED_VERSION);
    fix_free(f);
    /* wrong content namespace */
    f = fix_new("alice@example.com", 1);
    server(f, "<stream:stream xmlns='jabber:server' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
    assert_int_equal(xmpp_session_get_error(f->s, &c, NULL), XMPP_CAUSE_PROTOCOL);
    assert_int_equal(c, XMPP_SC_INVALID_NAMESPACE);
    fix_free(f);
    /* restricted XML: a comment gets a stream error back */
    f = fix_new("alice@example.com", 1);
    take(f);
    server(f, HDR "<!-- hi -->");
    assert_int_equal(xmpp_session_get_error(f->s, &c, NULL), XMPP_CAUSE_PROTOCOL);
    assert_int_equal(c, XMPP_SC_RESTRICTED_XML);
    assert_non_null(strstr(f->out, "<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"));
    fix_free(f);
}

static void test_out_of_order(void **state) {
    struct fix *f;
    (void)state;
    /* #36: bind offered before SASL is not a shortcut */
    f = fix_new("alice@example.com", 1);
    take(f);
    server(f, HDR FEAT_BIND);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_null(strstr(f->out, "<bind"));
    fix_free(f);
    /* features twice */
    f = fix_new("alice@example.com", 1);
    server(f, HDR FEAT_PLAIN FEAT_PLAIN);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
    /* a stanza before authentication */
    f = fix_new("alice@example.com", 1);
    server(f, HDR "<message><body>early</body></message>");
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
    /* empty features: no mechanisms */
    f = fix_new("alice@example.com", 1);
    server(f, HDR "<stream:features/>");
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
}

static void test_sasl_failure(void **state) {
    /* #34: reported once, verbatim, no retry */
    struct fix *f = fix_new("alice@example.com", 1);
    (void)state;
    server(f, HDR FEAT_PLAIN);
    take(f);
    server(f, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
              "<text>Invalid username or password</text></failure>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "not-authorized");
    assert_null(strstr(f->out, "<auth"));
    fix_free(f);
}

static void test_plain_refused_without_tls(void **state) {
    /* STARTTLS mode with plaintext allowed but a server offering only
     * PLAIN: allowed explicitly, so it authenticates. Without the
     * allowance the session never reaches SASL (covered above). */
    struct fix *f = fix_new("alice@example.com", 1);
    (void)state;
    server(f, HDR "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  "<mechanism>X-UNKNOWN</mechanism></mechanisms></stream:features>");
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    fix_free(f);
}

static void test_bind_other_account(void **state) {
    /* #38: a bind result for another account fails; a changed resource is fine */
    struct fix *f = login("alice@example.com/a", "mallory@example.com/a");
    (void)state;
    assert_int_equal(f->ready, 0);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
    f = login("alice@example.com/a", "alice@other.com/a");
    assert_int_equal(f->ready, 0);
    fix_free(f);
}

static void test_anonymous_and_external(void **state) {
    struct fix *f;
    (void)state;
    /* a JID without a localpart: SASL ANONYMOUS, any server-chosen localpart */
    f = fix_new("example.com", 1);
    take(f);
    server(f, HDR "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  "<mechanism>PLAIN</mechanism><mechanism>ANONYMOUS</mechanism></mechanisms>"
                  "</stream:features>");
    assert_non_null(strstr(f->out, "mechanism='ANONYMOUS'"));
    take(f);
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    take(f);
    server(f, HDR FEAT_BIND);
    {
        const char *id = strstr(f->out, "id=\"");
        char res[256];
        snprintf(res, sizeof(res), "<iq type='result' id='%.*s'><bind xmlns="
                 "'urn:ietf:params:xml:ns:xmpp-bind'><jid>f00d@example.com/x</jid></bind></iq>",
                 (int)(strchr(id + 4, '"') - id - 4), id + 4);
        server(f, res);
    }
    assert_int_equal(f->ready, 1);
    assert_string_equal(xmpp_session_jid(f->s), "f00d@example.com/x");
    fix_free(f);
    /* EXTERNAL: asked for, no password: "=" (empty authzid, XEP-0178) */
    {
        xmpp_session_options *o;
        struct fix *g = f; /* the fixture is static: reuse its storage */
        memset(g, 0, sizeof(*g));
        assert_int_equal(xmpp_ctx_new(&g->ctx, NULL), XMPP_OK);
        assert_int_equal(xmpp_session_options_new(&o, g->ctx), XMPP_OK);
        assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
        assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
        assert_int_equal(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE), XMPP_OK);
        assert_int_equal(xmpp_session_options_set_sasl_external(o, 1), XMPP_OK);
        assert_int_equal(xmpp_session_new(&g->s, g->ctx, o), XMPP_OK);
        xmpp_session_options_free(o);
        assert_int_equal(xmpp_session_start(g->s, 0), XMPP_OK);
        pump(g);
        take(g);
        server(g, HDR "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                      "<mechanism>PLAIN</mechanism><mechanism>EXTERNAL</mechanism></mechanisms>"
                      "</stream:features>");
        assert_non_null(strstr(g->out, "mechanism='EXTERNAL'"));
        server(g, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        assert_string_equal(xmpp_session_mechanism(g->s), "EXTERNAL");
        f = g;
    }
    fix_free(f);
    /* without a localpart and without ANONYMOUS on offer: no mechanism */
    f = fix_new("example.com", 1);
    server(f, HDR FEAT_PLAIN);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    fix_free(f);
}

static void test_negotiation_timeout(void **state) {
    /* #39: header, then silence */
    struct fix *f = fix_new("alice@example.com", 1);
    (void)state;
    server(f, HDR);
    assert_int_equal(xmpp_session_next_deadline(f->s), f->now + 30000);
    f->now += 30000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    assert_int_equal(f->cause, XMPP_CAUSE_TIMEOUT);
    assert_int_equal(f->closed, 1);
    fix_free(f);
}

static void test_keepalive(void **state) {
    struct fix *f;
    xmpp_session_options *o;
    (void)state;
    /* a fresh session with keepalive configured */
    f = fix_new("alice@example.com", 1);
    fix_free(f);
    memset(f, 0, sizeof(*f));
    f->now = 1000;
    assert_int_equal(xmpp_ctx_new(&f->ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, f->ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_keepalive(o, 10000, 5000), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, f), XMPP_OK);
    assert_int_equal(xmpp_session_new(&f->s, f->ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    assert_int_equal(xmpp_session_start(f->s, f->now), XMPP_OK);
    server(f, HDR FEAT_PLAIN "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    server(f, HDR FEAT_BIND);
    {
        const char *id = strstr(strstr(f->out, "<iq"), "id=\"");
        char res[256];
        snprintf(res, sizeof(res), "<iq type='result' id='%.*s'><bind xmlns="
                 "'urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/x</jid></bind></iq>",
                 (int)(strchr(id + 4, '"') - id - 4), id + 4);
        server(f, res);
    }
    assert_int_equal(f->ready, 1);
    take(f);
    /* #55: idle → ping; silence → dead connection detected */
    assert_int_equal(xmpp_session_next_deadline(f->s), f->now + 10000);
    f->now += 10000;
    xmpp_session_handle_timeout(f->s, f->now);
    pump(f);
    assert_non_null(strstr(f->out, "<ping xmlns=\"urn:xmpp:ping\"/>"));
    f->now += 5000;
    xmpp_session_handle_timeout(f->s, f->now);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_TIMEOUT);
    fix_free(f);
}

static int closing_handler(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct fix *f = ud;
    (void)st;
    f->handled++;
    /* API misuse under faults (#58): close, re-register, recv all from inside */
    assert_int_equal(xmpp_session_recv(s, "x", 1, 0), XMPP_ERR_RECURSIVE);
    assert_int_equal(xmpp_session_handle_timeout(s, 0), XMPP_ERR_RECURSIVE);
    xmpp_session_close(s);
    xmpp_session_close(s); /* idempotent */
    return 1;
}

static void test_close_from_callback(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    (void)state;
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, closing_handler, f,
                                              NULL), XMPP_OK);
    take(f);
    server(f, "<message type='chat'><body>1</body></message><message type='chat'><body>2"
              "</body></message>");
    assert_int_equal(f->handled, 1); /* nothing dispatched after close */
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_CLOSING);
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_REMOTE_CLOSE, NULL), XMPP_OK);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_LOCAL_CLOSE);
    fix_free(f);
}

static void test_send_limits(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    xmpp_stanza *m;
    int i, rc = 0;
    (void)state;
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", NULL,
                                      "0123456789012345678901234567890123456789"), XMPP_OK);
    /* #52: a peer that never reads: back-pressure, not unbounded growth */
    for (i = 0; i < 1000000 && rc == 0; i++)
        rc = xmpp_session_send(f->s, m);
    assert_int_equal(rc, XMPP_ERR_LIMIT);
    assert_true(i < 200000);
    xmpp_stanza_unref(m);
    fix_free(f);
}

/* ---- allocation failure across a whole login and exchange */
static void noop_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)s;
    (void)jid;
    *(int *)ud = 1;
}

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    int ready = 0, rc;
    static const char *const script[] = {
        HDR FEAT_PLAIN, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", HDR FEAT_BIND,
        NULL};
    const void *d;
    size_t n;
    int i;
    (void)arg;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_session_options_set_jid(o, "alice@example.com/r")) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, "pw")) != XMPP_OK ||
        (rc = xmpp_session_options_allow_plaintext(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, noop_ready, NULL, &ready)) != XMPP_OK ||
        (rc = xmpp_session_new(&s, ctx, o)) != XMPP_OK)
        goto out;
    if ((rc = xmpp_session_start(s, 0)) != XMPP_OK)
        goto out;
    for (i = 0; script[i]; i++) {
        xmpp_session_recv(s, script[i], strlen(script[i]), 0);
        xmpp_session_drain(s, &d, &n);
        xmpp_session_consume(s, n);
    }
    rc = xmpp_session_get_state(s) == XMPP_STATE_CLOSED ? XMPP_ERR_NOMEM : 0;
out:
    xmpp_session_free(s);
    xmpp_session_options_free(o);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(torture_scenario, NULL) > 10);
}

/* XEP-0352: the state goes out only where the server offers CSI, is not
 * repeated, and a new session starts from "active" again. */
static void test_csi(void **state) {
    struct fix *f;
    (void)state;
    f = login_with("alice@example.com", "alice@example.com/r",
                   "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                   "<csi xmlns='urn:xmpp:csi:0'/></stream:features>");
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_session_csi_supported(f->s), 1);
    assert_null(strstr(f->out, "urn:xmpp:csi:0")); /* active is the default */
    take(f);
    assert_int_equal(xmpp_session_set_active(f->s, 0), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<inactive xmlns='urn:xmpp:csi:0'/>"));
    take(f);
    assert_int_equal(xmpp_session_set_active(f->s, 0), XMPP_OK);
    pump(f);
    assert_int_equal(f->out_len, 0); /* unchanged: nothing sent */
    assert_int_equal(xmpp_session_set_active(f->s, 1), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<active xmlns='urn:xmpp:csi:0'/>"));
    fix_free(f);

    /* a server without CSI: remembered, never sent */
    f = login("alice@example.com", "alice@example.com/r");
    assert_int_equal(xmpp_session_csi_supported(f->s), 0);
    take(f);
    assert_int_equal(xmpp_session_set_active(f->s, 0), XMPP_OK);
    pump(f);
    assert_null(strstr(f->out, "csi"));
    fix_free(f);
}

/* XEP-0478: max-bytes refuses a stanza the server would reject;
 * idle-seconds gets whitespace before the server's deadline. */
static void test_stream_limits(void **state) {
    struct fix *f;
    xmpp_stanza *m = NULL;
    char big[2048];
    size_t maxb = 0;
    unsigned idle = 0;
    (void)state;
    f = login_with("alice@example.com", "alice@example.com/r",
                   "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                   "<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>1000</max-bytes>"
                   "<idle-seconds>60</idle-seconds></limits></stream:features>");
    assert_int_equal(xmpp_session_server_limits(f->s, &maxb, &idle), XMPP_OK);
    assert_int_equal(maxb, 1000);
    assert_int_equal(idle, 60);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "b1", big), XMPP_OK);
    take(f);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_ERR_LIMIT);
    xmpp_stanza_unref(m);
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "b2", "small"),
                     XMPP_OK);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    xmpp_stanza_unref(m);
    pump(f);
    assert_non_null(strstr(f->out, "small"));
    assert_null(strstr(f->out, "xxxx"));
    /* idle: whitespace within half the server's limit */
    assert_true(xmpp_session_next_deadline(f->s) <= f->now + 30000);
    take(f);
    f->now += 30000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    pump(f);
    assert_string_equal(f->out, " ");
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_READY);
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_plain),
        cmocka_unit_test(test_csi),
        cmocka_unit_test(test_stream_limits),
        cmocka_unit_test(test_bytewise_login),
        cmocka_unit_test(test_dispatch_and_service_unavailable),
        cmocka_unit_test(test_iq_sender_checks),
        cmocka_unit_test(test_stream_error),
        cmocka_unit_test(test_see_other_host),
        cmocka_unit_test(test_starttls_stripped),
        cmocka_unit_test(test_starttls_failure),
        cmocka_unit_test(test_plaintext_injection_after_proceed),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_sasl_failure),
        cmocka_unit_test(test_plain_refused_without_tls),
        cmocka_unit_test(test_bind_other_account),
        cmocka_unit_test(test_anonymous_and_external),
        cmocka_unit_test(test_negotiation_timeout),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_close_from_callback),
        cmocka_unit_test(test_send_limits),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
