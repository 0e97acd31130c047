/* XEP-0114 component sessions (lib/session/component.c) as transcripts:
 * the jabber:component:accept header, the handshake (hex SHA-1 of the
 * stream id and the secret), readiness on <handshake/>, stanzas in and out
 * (a `from` added where missing, IQ requests answered), and every failure:
 * wrong secret (stream error), no id, wrong namespace, an unexpected or
 * non-empty handshake answer, plaintext not allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <xmpp/xmpp.h>
#include <xmpp/xep/component.h>

#include "transcript.h"

#define SHDR(id)                                                                             \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "                   \
    "xmlns:stream='http://etherx.jabber.org/streams' from='echo.example' id='" id "'>"

/* The shared fixture as an XEP-0114 component: echo.example, secret
 * "sesame"; started at t=1000, the server's bytes arrive at t=2000. */
static void setup_component(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_set_component(NULL, 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_options_set_component(o, 1), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "sesame"), XMPP_OK);
}

static struct fix *component_new(int plaintext) {
    struct fix *f = fix_new_opts("echo.example", plaintext, setup_component);
    f->now = 2000;
    return f;
}

/* XEP-0114 §3: hex(SHA-1(id + secret)), lower case */
static void expected_handshake(const char *id, const char *secret, char *out) {
    unsigned char d[20];
    char in[256];
    size_t i;
    snprintf(in, sizeof(in), "%s%s", id, secret);
    assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA1, in, strlen(in), d), 0);
    strcpy(out, "<handshake>");
    for (i = 0; i < 20; i++)
        sprintf(out + 11 + 2 * i, "%02x", d[i]);
    strcat(out, "</handshake>");
}

static struct fix *connected(void) {
    struct fix *f = component_new(1);
    char hs[80];
    assert_string_equal(f->out, "<?xml version='1.0'?><stream:stream to='echo.example' "
                                "xmlns='jabber:component:accept' "
                                "xmlns:stream='http://etherx.jabber.org/streams'>");
    take(f);
    server(f, SHDR("3BF96D32"));
    expected_handshake("3BF96D32", "sesame", hs);
    assert_string_equal(f->out, hs);
    assert_int_equal(f->ready, 0);
    take(f);
    server(f, "<handshake/>");
    assert_int_equal(f->ready, 1);
    assert_string_equal(f->bound, "echo.example");
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_READY);
    return f;
}

static int on_msg(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct fix *f = ud;
    xmpp_stanza *echo = NULL;
    f->handled++;
    /* an echo without `from`: the session adds the component's domain */
    assert_int_equal(xmpp_message_new(&echo, f->ctx, "chat", xmpp_stanza_from(st), "e1", "hi"), XMPP_OK);
    assert_int_equal(xmpp_session_send(s, echo), XMPP_OK);
    xmpp_stanza_unref(echo);
    return 1;
}

static void test_handshake_and_stanzas(void **state) {
    struct fix *f = connected();
    (void)state;
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, on_msg, f, NULL),
                     XMPP_OK);
    server(f, "<message from='alice@example/r' to='echo.example' type='chat'><body>hi</body>"
              "</message>");
    assert_int_equal(f->handled, 1);
    assert_non_null(strstr(f->out, "<message from='echo.example' "));
    assert_non_null(strstr(f->out, "to=\"alice@example/r\""));
    assert_null(strstr(f->out, "xmlns=\"jabber:client\"")); /* the stream's namespace */
    take(f);
    /* an unhandled IQ request is answered, from the component */
    server(f, "<iq type='get' id='q1' from='alice@example/r' to='echo.example'>"
              "<query xmlns='urn:example:nothing'/></iq>");
    assert_non_null(strstr(f->out, "<iq from='echo.example' type=\"error\""));
    assert_non_null(strstr(f->out, "service-unavailable"));
    take(f);
    /* a stanza with its own from keeps it */
    {
        xmpp_stanza *m = NULL;
        assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "alice@example", NULL, "x"), XMPP_OK);
        assert_int_equal(xmpp_stanza_set_attr(m, "from", "bot@echo.example"), XMPP_OK);
        assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
        xmpp_stanza_unref(m);
        pump(f);
        assert_non_null(strstr(f->out, "from=\"bot@echo.example\""));
        assert_null(strstr(f->out, "from='echo.example'"));
    }
    fix_free(f);
}

static void test_wrong_secret(void **state) {
    struct fix *f = component_new(1);
    (void)state;
    server(f, SHDR("abc"));
    server(f, "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error></stream:stream>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->ready, 0);
    assert_int_equal(f->cause, XMPP_CAUSE_STREAM_ERROR);
    fix_free(f);
}

static xmpp_disconnect_cause fails_with(const char *bytes) {
    struct fix *f = component_new(1);
    xmpp_disconnect_cause c;
    server(f, bytes);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->ready, 0);
    c = f->cause;
    fix_free(f);
    return c;
}

static void test_failures(void **state) {
    (void)state;
    /* no id: nothing to hash */
    assert_int_equal(fails_with("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                                "xmlns:stream='http://etherx.jabber.org/streams' from='e'>"),
                     XMPP_CAUSE_PROTOCOL);
    assert_int_equal(fails_with(SHDR("")), XMPP_CAUSE_PROTOCOL);
    /* a client stream is not a component stream */
    assert_int_equal(fails_with("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                "xmlns:stream='http://etherx.jabber.org/streams' id='x' "
                                "version='1.0'>"),
                     XMPP_CAUSE_PROTOCOL);
    /* anything but an empty handshake */
    assert_int_equal(fails_with(SHDR("x") "<message from='a@b'><body>early</body></message>"),
                     XMPP_CAUSE_PROTOCOL);
    assert_int_equal(fails_with(SHDR("x") "<handshake><x/></handshake>"), XMPP_CAUSE_PROTOCOL);
    assert_int_equal(fails_with(SHDR("x") "<stream:features/>"), XMPP_CAUSE_PROTOCOL);
}

static void test_plaintext_refused(void **state) {
    struct fix *f = component_new(0); /* STARTTLS mode, plaintext not allowed */
    (void)state;
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_TLS_REQUIRED);
    assert_null(strstr(f->out, "<stream:stream")); /* nothing sent in the clear */
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_stanzas),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_plaintext_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
