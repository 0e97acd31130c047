/* The IM plugins driven by scripted server bytes: XEP-0184 receipts
 * (automatic answers and their exceptions, sender checks on receipts),
 * the IM markup builders and parsers with hostile input, XEP-0202 and
 * XEP-0012 responders and requests, XEP-0054 vCards and XEP-0153 avatar
 * hashes, the XEP-0082 parser, and the disco features advertised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>
#include <xmpp/plugin.h>
#include <xmpp/session.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/im.h>
#include <xmpp/xep/last.h>
#include <xmpp/xep/receipts.h>
#include <xmpp/xep/time.h>
#include <xmpp/xep/vcard.h>

#include "xep/datetime.h"

#include "testhelp.h"
#include "transcript.h"

static void setup_all(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_enable_plugin(o, "disco"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "receipts"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "im"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "time"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "last"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "vcard"), XMPP_OK);
}

static struct fix *login_all(void) {
    struct fix *f;
    g_setup = setup_all;
    f = login("alice@example.com", "alice@example.com/r");
    g_setup = NULL;
    take(f);
    return f;
}

/* The id attribute of the first stanza in the output. */
static void out_id(struct fix *f, char *buf, size_t size) {
    const char *id = strstr(f->out, "id=\"");
    assert_non_null(id);
    snprintf(buf, size, "%.*s", (int)(strchr(id + 4, '"') - id - 4), id + 4);
}

/* ---- XEP-0082 */
static void test_datetime(void **state) {
    int64_t t;
    uint32_t us;
    int tzo;
    char buf[XMPP__DATETIME_MAX];
    (void)state;
    assert_int_equal(xmpp__datetime_parse("1970-01-01T00:00:00Z", &t, &us, &tzo), XMPP_OK);
    assert_true(t == 0 && us == 0 && tzo == 0);
    /* XEP-0082 §3.2 example */
    assert_int_equal(xmpp__datetime_parse("1969-07-21T02:56:15Z", &t, NULL, NULL), XMPP_OK);
    assert_true(t == -14159025);
    assert_int_equal(xmpp__datetime_parse("1969-07-20T21:56:15-05:00", &t, NULL, &tzo), XMPP_OK);
    assert_true(t == -14159025 && tzo == -300);
    assert_int_equal(xmpp__datetime_parse("2006-12-19T17:58:35.123456789+01:30", &t, &us, &tzo),
                     XMPP_OK);
    assert_true(us == 123456 && tzo == 90);
    assert_int_equal(xmpp__datetime_parse("2024-02-29T23:59:59Z", &t, NULL, NULL), XMPP_OK);
    assert_true(t == 1709251199);
    {
        static const char *const bad[] = {"2023-02-29T00:00:00Z",
                                          "1900-02-29T00:00:00Z",
                                          "2024-13-01T00:00:00Z",
                                          "2024-00-01T00:00:00Z",
                                          "2024-01-32T00:00:00Z",
                                          "2024-01-01T24:00:00Z",
                                          "2024-01-01T00:60:00Z",
                                          "2024-01-01T00:00:60Z",
                                          "2024-01-01 00:00:00Z",
                                          "2024-01-01T00:00:00",
                                          "2024-01-01T00:00:00z",
                                          "2024-01-01T00:00:00+0100",
                                          "2024-01-01T00:00:00+24:00",
                                          "2024-01-01T00:00:00.Z",
                                          "2024-1-01T00:00:00Z",
                                          "+2024-01-01T00:00:00Z",
                                          "0000-01-01T00:00:00Z",
                                          "2024-01-01T00:00:00Z ",
                                          "2024-01-01T00:00:00.1234567890Z",
                                          "2024-01-01T0a:00:00Z",
                                          "",
                                          "garbage"};
        size_t i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            assert_int_equal(xmpp__datetime_parse(bad[i], &t, NULL, NULL), XMPP_ERR_INVALID);
    }
    assert_int_equal(xmpp__datetime_parse(NULL, &t, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__date_parse("1776-07-04", &t), XMPP_OK);
    assert_int_equal(xmpp__date_parse("1776-07-04T", &t), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__tzo_parse("-06:00", &tzo), XMPP_OK);
    assert_int_equal(tzo, -360);
    assert_int_equal(xmpp__tzo_parse("06:00", &tzo), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__datetime_format(-14159025, 0, buf, sizeof(buf)), XMPP_OK);
    assert_string_equal(buf, "1969-07-21T02:56:15Z");
    assert_int_equal(xmpp__datetime_format(1709251199, 5, buf, sizeof(buf)), XMPP_OK);
    assert_string_equal(buf, "2024-02-29T23:59:59.000005Z");
    assert_int_equal(xmpp__datetime_format(253402300800LL, 0, buf, sizeof(buf)), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__tzo_format(-330, buf, 8), XMPP_OK);
    assert_string_equal(buf, "-05:30");
    assert_int_equal(xmpp__tzo_format(0, buf, 8), XMPP_OK);
    assert_string_equal(buf, "Z");
    /* round trip over a range of instants */
    for (t = -62135596800LL; t < 253402300799LL; t += 86399LL * 367) {
        int64_t back;
        assert_int_equal(xmpp__datetime_format(t, 0, buf, sizeof(buf)), XMPP_OK);
        assert_int_equal(xmpp__datetime_parse(buf, &back, NULL, NULL), XMPP_OK);
        assert_true(back == t);
    }
}

/* ---- XEP-0184 */
struct rcpt_seen {
    int calls;
    char id[64], from[128];
};

static void on_receipt(xmpp_session *s, const char *id, const char *from, void *ud) {
    struct rcpt_seen *r = ud;
    (void)s;
    r->calls++;
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->from, sizeof(r->from), "%s", from);
}

static void test_receipts_answer(void **state) {
    struct fix *f = login_all();
    (void)state;
    server(f, "<message from='bob@example.com/phone' id='m1' type='chat'><body>hi</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    assert_non_null(strstr(f->out, "to=\"bob@example.com/phone\""));
    assert_non_null(strstr(f->out, "<received xmlns=\"urn:xmpp:receipts\" id=\"m1\"/>"));
    take(f);
    /* XEP-0184 §5.4 and §8: no receipt for groupchat, errors, id-less
     * messages, receipts, or the own account */
    server(f, "<message from='room@muc.example.com/bob' id='m2' type='groupchat'><body>x</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    server(f, "<message from='bob@example.com/phone' id='m3' type='error'>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    server(f, "<message from='bob@example.com/phone' type='chat'><body>x</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    server(f, "<message from='bob@example.com/phone' id='' type='chat'><body>x</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    server(f, "<message from='bob@example.com/phone' id='m4'><received xmlns='urn:xmpp:receipts' "
              "id='zz'/><request xmlns='urn:xmpp:receipts'/></message>");
    server(f, "<message from='alice@example.com/other' id='m5'><body>x</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    server(f, "<message id='m6'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>");
    assert_int_equal(f->out_len, 0);
    /* switched off */
    assert_int_equal(xmpp_receipts_set_auto_reply(f->s, 0), XMPP_OK);
    server(f, "<message from='bob@example.com/phone' id='m7'><body>x</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    assert_int_equal(f->out_len, 0);
    assert_int_equal(xmpp_receipts_set_auto_reply(f->s, 1), XMPP_OK);
    /* disabled: no answers, and the API says so */
    assert_int_equal(xmpp_session_disable_plugin(f->s, "receipts"), XMPP_OK);
    server(f, "<message from='bob@example.com/phone' id='m8'><body>x</body>"
              "<request xmlns='urn:xmpp:receipts'/></message>");
    assert_int_equal(f->out_len, 0);
    assert_int_equal(xmpp_receipts_set_auto_reply(f->s, 1), XMPP_ERR_STATE);
    fix_free(f);
}

static void test_receipts_request(void **state) {
    struct fix *f = login_all();
    struct rcpt_seen r;
    xmpp_stanza *m = NULL;
    char buf[512], id[64];
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_receipts_set_callback(f->s, on_receipt, &r), XMPP_OK);
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com/phone", NULL, "hi"),
                     XMPP_OK);
    assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_OK);
    assert_true(xmpp_receipts_requested(m));
    assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_ERR_INVALID); /* already requested */
    xmpp_stanza_unref(m);
    pump(f);
    assert_non_null(strstr(f->out, "<request xmlns=\"urn:xmpp:receipts\"/>"));
    out_id(f, id, sizeof(id));
    take(f);
    /* from someone else, another resource, or with another id: ignored */
    snprintf(buf, sizeof(buf),
             "<message from='eve@example.com/phone' id='r1'>"
             "<received xmlns='urn:xmpp:receipts' id='%s'/></message>",
             id);
    server(f, buf);
    snprintf(buf, sizeof(buf),
             "<message from='bob@example.com/laptop' id='r2'>"
             "<received xmlns='urn:xmpp:receipts' id='%s'/></message>",
             id);
    server(f, buf);
    server(f, "<message from='bob@example.com/phone' id='r3'>"
              "<received xmlns='urn:xmpp:receipts' id='other'/></message>");
    server(f, "<message from='bob@example.com/phone' id='r4'>"
              "<received xmlns='urn:xmpp:receipts'/></message>");
    assert_int_equal(r.calls, 0);
    snprintf(buf, sizeof(buf),
             "<message from='bob@example.com/phone' id='r5'>"
             "<received xmlns='urn:xmpp:receipts' id='%s'/></message>",
             id);
    server(f, buf);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.id, id);
    assert_string_equal(r.from, "bob@example.com/phone");
    assert_int_equal(f->out_len, 0); /* a receipt is not answered */
    server(f, buf);                  /* once only */
    assert_int_equal(r.calls, 1);
    /* to a bare JID: any resource of it, nobody else */
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "b1", "hi"), XMPP_OK);
    assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_OK);
    xmpp_stanza_unref(m);
    pump(f);
    take(f);
    server(f, "<message from='eve@example.com/x' id='r6'>"
              "<received xmlns='urn:xmpp:receipts' id='b1'/></message>");
    assert_int_equal(r.calls, 1);
    server(f, "<message from='bob@example.com/tablet' id='r7'>"
              "<received xmlns='urn:xmpp:receipts' id='b1'/></message>");
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.from, "bob@example.com/tablet");
    /* refused: groupchat, no to, not a message */
    assert_int_equal(xmpp_message_new(&m, f->ctx, "groupchat", "room@muc.example.com", NULL, "x"),
                     XMPP_OK);
    assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_ERR_INVALID);
    xmpp_stanza_unref(m);
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", NULL, NULL, "x"), XMPP_OK);
    assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_ERR_INVALID);
    xmpp_stanza_unref(m);
    assert_int_equal(xmpp_presence_new(&m, f->ctx, NULL, "bob@example.com", NULL), XMPP_OK);
    assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_ERR_INVALID);
    xmpp_stanza_unref(m);
    /* the pending set is bounded: the oldest is forgotten */
    {
        int i;
        for (i = 0; i < XMPP_RECEIPTS_MAX_PENDING + 1; i++) {
            char mid[32];
            snprintf(mid, sizeof(mid), "n%d", i);
            assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", mid, "x"),
                             XMPP_OK);
            assert_int_equal(xmpp_receipts_send(f->s, m), XMPP_OK);
            xmpp_stanza_unref(m);
            pump(f);
            take(f);
        }
    }
    server(f, "<message from='bob@example.com/a' id='r8'>"
              "<received xmlns='urn:xmpp:receipts' id='n0'/></message>");
    assert_int_equal(r.calls, 2);
    server(f, "<message from='bob@example.com/a' id='r9'>"
              "<received xmlns='urn:xmpp:receipts' id='n1024'/></message>");
    assert_int_equal(r.calls, 3);
    fix_free(f);
}

/* ---- IM markup */

static void test_markup_build(void **state) {
    xmpp_ctx *ctx;
    xmpp_stanza *m = NULL;
    xmpp_chatstate cs;
    xmpp_marker mk;
    xmpp_reactions rx;
    xmpp_reply rp;
    const char *id, *act;
    char *s = NULL, *body = NULL;
    static const char *const two[] = {"\xF0\x9F\x91\x8D", "\xE2\x9D\xA4\xEF\xB8\x8F"};
    static const char *const dup[] = {"\xF0\x9F\x91\x8D", "\xF0\x9F\x91\x8D"};
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_message_new(&m, ctx, "chat", "bob@example.com", "m1", "hello"), XMPP_OK);
    assert_int_equal(xmpp_chatstate_add(m, XMPP_CHATSTATE_COMPOSING), XMPP_OK);
    assert_int_equal(xmpp_chatstate_add(m, XMPP_CHATSTATE_ACTIVE), XMPP_OK); /* replaces */
    assert_int_equal(xmpp_chatstate_get(m, &cs), XMPP_OK);
    assert_int_equal(cs, XMPP_CHATSTATE_ACTIVE);
    assert_int_equal(xmpp_chatstate_add(m, (xmpp_chatstate)9), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_correction_add(m, "old1"), XMPP_OK);
    assert_int_equal(xmpp_correction_add(m, "old2"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_correction_get(m, &id), XMPP_OK);
    assert_string_equal(id, "old1");
    assert_int_equal(xmpp_marker_add_markable(m), XMPP_OK);
    assert_true(xmpp_marker_is_markable(m));
    assert_int_equal(xmpp_marker_get(m, &mk, &id), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_reply_add(m, "bob@example.com/phone", "q1", "first line\nsecond"),
                     XMPP_OK);
    assert_int_equal(xmpp_reply_get(m, &rp), XMPP_OK);
    assert_string_equal(rp.to, "bob@example.com/phone");
    assert_string_equal(rp.id, "q1");
    assert_int_equal(xmpp_stanza_serialize(m, "jabber:client", &s, NULL), XMPP_OK);
    assert_non_null(strstr(s, "<body>&gt; first line\n&gt; second\nhello</body>"));
    assert_non_null(strstr(s, "<active xmlns=\"http://jabber.org/protocol/chatstates\"/>"));
    assert_null(strstr(s, "composing"));
    assert_non_null(strstr(s, "<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"old1\"/>"));
    assert_non_null(strstr(s, "<markable xmlns=\"urn:xmpp:chat-markers:0\"/>"));
    assert_non_null(strstr(s, "<fallback xmlns=\"urn:xmpp:fallback:0\" for=\"urn:xmpp:reply:0\">"
                              "<body start=\"0\" end=\"22\"/></fallback>"));
    assert_non_null(strstr(s, "<reply xmlns=\"urn:xmpp:reply:0\" to=\"bob@example.com/phone\" "
                              "id=\"q1\"/>"));
    xmpp_free(ctx, s);
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_REPLY, &body), XMPP_OK);
    assert_string_equal(body, "hello");
    xmpp_free(ctx, body);
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_RETRACT, &body), XMPP_OK);
    assert_string_equal(body, "> first line\n> second\nhello");
    xmpp_free(ctx, body);
    xmpp_stanza_unref(m);

    /* reactions, markers, retraction */
    assert_int_equal(xmpp_message_new(&m, ctx, "chat", "bob@example.com", "m2", NULL), XMPP_OK);
    assert_int_equal(xmpp_reactions_add(m, "m1", dup, 2), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_reactions_add(m, "", two, 2), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_reactions_add(m, "m1", two, 2), XMPP_OK);
    assert_int_equal(xmpp_reactions_add(m, "m1", two, 1), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_OK);
    assert_int_equal(rx.count, 2);
    assert_string_equal(rx.id, "m1");
    assert_string_equal(rx.reactions[1], two[1]);
    assert_int_equal(xmpp_marker_add(m, XMPP_MARKER_DISPLAYED, "m0"), XMPP_OK);
    assert_int_equal(xmpp_marker_get(m, &mk, &id), XMPP_OK);
    assert_int_equal(mk, XMPP_MARKER_DISPLAYED);
    assert_string_equal(id, "m0");
    assert_int_equal(xmpp_retraction_add(m, "m0"), XMPP_OK);
    assert_int_equal(xmpp_retraction_get(m, &id), XMPP_OK);
    assert_string_equal(id, "m0");
    assert_int_equal(xmpp_stanza_serialize(m, "jabber:client", &s, NULL), XMPP_OK);
    assert_non_null(strstr(s, "<reactions xmlns=\"urn:xmpp:reactions:0\" id=\"m1\"><reaction>"
                              "\xF0\x9F\x91\x8D</reaction>"));
    assert_non_null(strstr(s, "<displayed xmlns=\"urn:xmpp:chat-markers:0\" id=\"m0\"/>"));
    assert_non_null(strstr(s, "<retract xmlns=\"urn:xmpp:message-retract:1\" id=\"m0\"/>"));
    assert_non_null(strstr(s, "<fallback xmlns=\"urn:xmpp:fallback:0\" "
                              "for=\"urn:xmpp:message-retract:1\"/>"));
    assert_non_null(strstr(s, "<body>This person attempted to retract"));
    assert_non_null(strstr(s, "<store xmlns=\"urn:xmpp:hints\"/>"));
    xmpp_free(ctx, s);
    /* the whole body is the retraction's fallback */
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_RETRACT, &body), XMPP_OK);
    assert_string_equal(body, "");
    xmpp_free(ctx, body);
    xmpp_stanza_unref(m);

    /* /me */
    assert_true(xmpp_me_command("/me waves", &act));
    assert_string_equal(act, "waves");
    assert_false(xmpp_me_command("/mean", NULL));
    assert_false(xmpp_me_command(" /me x", NULL));
    assert_false(xmpp_me_command(NULL, NULL));
    /* reaction validation */
    assert_true(xmpp_reaction_valid("\xF0\x9F\x91\x8D"));                 /* thumbs up */
    assert_true(xmpp_reaction_valid("1\xEF\xB8\x8F\xE2\x83\xA3"));        /* keycap 1 */
    assert_true(xmpp_reaction_valid("\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7")); /* flag */
    assert_true(xmpp_reaction_valid("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB")); /* ZWJ */
    assert_false(xmpp_reaction_valid(""));
    assert_false(xmpp_reaction_valid("ok"));
    assert_false(xmpp_reaction_valid("1"));
    assert_false(xmpp_reaction_valid("12\xF0\x9F\x91\x8D"));
    assert_false(xmpp_reaction_valid("1\xEF\xB8\x8F"));
    assert_false(xmpp_reaction_valid("\xF0\x9F\x91\x8D "));
    assert_false(xmpp_reaction_valid("\xE2\x80\x8D"));                 /* a lone joiner */
    assert_false(xmpp_reaction_valid("\xC0\xAF"));                     /* overlong */
    assert_false(xmpp_reaction_valid("\xED\xA0\x80"));                 /* surrogate */
    assert_false(xmpp_reaction_valid("\xF0\x9F\x91"));                 /* truncated */
    assert_false(xmpp_reaction_valid("\xE2\x80\xAE\xF0\x9F\x91\x8D")); /* bidi override */
    {
        char big[80];
        int i;
        for (i = 0; i < 17; i++)
            memcpy(big + 4 * i, "\xF0\x9F\x91\x8D", 4);
        big[68] = '\0';
        assert_false(xmpp_reaction_valid(big)); /* 68 bytes */
        big[64] = '\0';
        assert_true(xmpp_reaction_valid(big)); /* 16 code points, 64 bytes */
        memcpy(big + 60, "1111", 5);
        assert_false(xmpp_reaction_valid(big)); /* ASCII besides keycaps */
    }
    /* builders refuse what is not a message */
    assert_int_equal(xmpp_presence_new(&m, ctx, NULL, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_chatstate_add(m, XMPP_CHATSTATE_GONE), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_reactions_add(m, "x", two, 1), XMPP_ERR_INVALID);
    xmpp_stanza_unref(m);
    assert_string_equal(xmpp_chatstate_name(XMPP_CHATSTATE_PAUSED), "paused");
    assert_null(xmpp_chatstate_name((xmpp_chatstate)0));
    xmpp_ctx_free(ctx);
}

/* A handler that keeps the last message it saw. */
static xmpp_stanza *g_last;

static int keep_msg(xmpp_session *s, xmpp_stanza *st, void *ud) {
    (void)s;
    (void)ud;
    xmpp_stanza_unref(g_last);
    g_last = xmpp_stanza_ref(st);
    return 1;
}

static xmpp_stanza *recv_msg(struct fix *f, const char *xml) {
    xmpp_stanza_unref(g_last);
    g_last = NULL;
    server(f, xml);
    assert_non_null(g_last);
    return g_last;
}

static void test_markup_hostile(void **state) {
    struct fix *f = login_all();
    unsigned long h;
    xmpp_stanza *m;
    xmpp_chatstate cs;
    xmpp_marker mk;
    xmpp_reactions rx;
    xmpp_reply rp;
    const char *id;
    char *body = NULL, big[8192];
    size_t i, o;
    (void)state;
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, keep_msg, NULL, &h),
                     XMPP_OK);
    m = recv_msg(f, "<message from='bob@example.com/a'><composing "
                    "xmlns='http://jabber.org/protocol/chatstates'/><paused "
                    "xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert_int_equal(xmpp_chatstate_get(m, &cs), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><typing "
                    "xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert_int_equal(xmpp_chatstate_get(m, &cs), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><body>x</body><gone "
                    "xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert_int_equal(xmpp_chatstate_get(m, &cs), XMPP_OK);
    assert_int_equal(cs, XMPP_CHATSTATE_GONE);
    m = recv_msg(f, "<message from='bob@example.com/a'><body>x</body></message>");
    assert_int_equal(xmpp_chatstate_get(m, &cs), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_correction_get(m, &id), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_reply_get(m, &rp), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_retraction_get(m, &id), XMPP_ERR_NOT_FOUND);
    m = recv_msg(f, "<message from='bob@example.com/a'><replace id='' "
                    "xmlns='urn:xmpp:message-correct:0'/></message>");
    assert_int_equal(xmpp_correction_get(m, &id), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><replace id='a' "
                    "xmlns='urn:xmpp:message-correct:0'/><replace id='b' "
                    "xmlns='urn:xmpp:message-correct:0'/></message>");
    assert_int_equal(xmpp_correction_get(m, &id), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><retract "
                    "xmlns='urn:xmpp:message-retract:1'/></message>");
    assert_int_equal(xmpp_retraction_get(m, &id), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><received id='1' "
                    "xmlns='urn:xmpp:chat-markers:0'/><displayed id='2' "
                    "xmlns='urn:xmpp:chat-markers:0'/></message>");
    assert_int_equal(xmpp_marker_get(m, &mk, &id), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><acknowledged "
                    "xmlns='urn:xmpp:chat-markers:0'/></message>");
    assert_int_equal(xmpp_marker_get(m, &mk, &id), XMPP_ERR_INVALID);
    /* reactions: text that is no emoji, nested elements, duplicates */
    m = recv_msg(f,
                 "<message from='bob@example.com/a'><reactions id='m1' "
                 "xmlns='urn:xmpp:reactions:0'><reaction>hello</reaction></reactions></message>");
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><reactions id='m1' "
                    "xmlns='urn:xmpp:reactions:0'><reaction><b/></reaction></reactions></message>");
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><reactions id='m1' "
                    "xmlns='urn:xmpp:reactions:0'><reaction>\xF0\x9F\x91\x8D</reaction>"
                    "<reaction>\xF0\x9F\x91\x8D</reaction></reactions></message>");
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><reactions "
                    "xmlns='urn:xmpp:reactions:0'><reaction>\xF0\x9F\x91\x8D</reaction>"
                    "</reactions></message>");
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><reactions id='m1' "
                    "xmlns='urn:xmpp:reactions:0'/></message>");
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_OK);
    assert_int_equal(rx.count, 0); /* all removed */
    /* 33 distinct reactions: over the limit */
    o = (size_t)snprintf(big, sizeof(big),
                         "<message from='bob@example.com/a'><reactions id='m1' "
                         "xmlns='urn:xmpp:reactions:0'>");
    for (i = 0; i < 33; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "<reaction>\xF0\x9F\x98%c</reaction>",
                              (char)(0x80 + i));
    snprintf(big + o, sizeof(big) - o, "</reactions></message>");
    m = recv_msg(f, big);
    assert_int_equal(xmpp_reactions_get(m, &rx), XMPP_ERR_LIMIT);
    /* replies and fallback ranges */
    m = recv_msg(f, "<message from='bob@example.com/a'><reply to='not a jid@@' id='x' "
                    "xmlns='urn:xmpp:reply:0'/></message>");
    assert_int_equal(xmpp_reply_get(m, &rp), XMPP_ERR_INVALID);
    m = recv_msg(f,
                 "<message from='bob@example.com/a'><reply xmlns='urn:xmpp:reply:0'/></message>");
    assert_int_equal(xmpp_reply_get(m, &rp), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><body>\xC3\xA9t\xC3\xA9 ok</body>"
                    "<reply id='x' xmlns='urn:xmpp:reply:0'/>"
                    "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
                    "<body start='0' end='4'/></fallback></message>");
    assert_int_equal(xmpp_reply_get(m, &rp), XMPP_OK);
    assert_null(rp.to);
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_REPLY, &body), XMPP_OK);
    assert_string_equal(body, "ok"); /* code points, not bytes */
    xmpp_free(f->ctx, body);
    {
        static const char *const bad[] = {"start='0' end='99'",          "start='3' end='1'",
                                          "start='-1' end='2'",          "start='0'",
                                          "start='0' end='99999999999'", "start='a' end='2'"};
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char xml[512];
            snprintf(xml, sizeof(xml),
                     "<message from='bob@example.com/a'><body>abcdef</body>"
                     "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
                     "<body %s/></fallback></message>",
                     bad[i]);
            m = recv_msg(f, xml);
            assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_REPLY, &body), XMPP_ERR_INVALID);
        }
    }
    m = recv_msg(f, "<message from='bob@example.com/a'><body>abcdef</body>"
                    "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
                    "<body start='0' end='3'/><body start='2' end='4'/></fallback></message>");
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_REPLY, &body), XMPP_ERR_INVALID);
    m = recv_msg(f, "<message from='bob@example.com/a'><body>abcdef</body>"
                    "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
                    "<body start='0' end='1'/><body start='3' end='4'/></fallback></message>");
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_REPLY, &body), XMPP_OK);
    assert_string_equal(body, "bcef");
    xmpp_free(f->ctx, body);
    m = recv_msg(f, "<message from='bob@example.com/a'/>");
    assert_int_equal(xmpp_fallback_strip(m, XMPP_NS_REPLY, &body), XMPP_ERR_NOT_FOUND);
    xmpp_stanza_unref(g_last);
    g_last = NULL;
    fix_free(f);
}

/* ---- XEP-0202 and XEP-0012 */
struct time_seen {
    int calls, err;
    xmpp_iq_status status;
    xmpp_entity_time t;
    long secs;
    char text[64];
};

static void on_time(xmpp_session *s, xmpp_iq_status status, int err, const xmpp_entity_time *t,
                    xmpp_stanza *reply, void *ud) {
    struct time_seen *ts = ud;
    (void)s;
    (void)reply;
    ts->calls++;
    ts->status = status;
    ts->err = err;
    if (t)
        ts->t = *t;
}

static void on_last(xmpp_session *s, xmpp_iq_status status, int err, long secs, const char *text,
                    xmpp_stanza *reply, void *ud) {
    struct time_seen *ts = ud;
    (void)s;
    (void)reply;
    ts->calls++;
    ts->status = status;
    ts->err = err;
    ts->secs = secs;
    snprintf(ts->text, sizeof(ts->text), "%s", text ? text : "(null)");
}

/* Answers the request in the output: fmt holds one "%s" for its id. */
static void reply_to_out(struct fix *f, const char *fmt) {
    char id[64], buf[1024];
    const char *p = strstr(fmt, "%s");
    assert_non_null(p);
    out_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - fmt), fmt, id, p + 2);
    server(f, buf);
}

static void test_time_last(void **state) {
    struct fix *f = login_all();
    struct time_seen ts;
    const char *p;
    int64_t t, now = (int64_t)time(NULL);
    char utc[64];
    (void)state;
    memset(&ts, 0, sizeof(ts));
    server(f, "<iq type='get' id='t1' from='bob@example.com/x'><time xmlns='urn:xmpp:time'/></iq>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_non_null(strstr(f->out, "<tzo>"));
    p = strstr(f->out, "<utc>");
    assert_non_null(p);
    snprintf(utc, sizeof(utc), "%.*s", (int)(strstr(p, "</utc>") - p - 5), p + 5);
    assert_int_equal(xmpp__datetime_parse(utc, &t, NULL, NULL), XMPP_OK);
    assert_true(t >= now - 5 && t <= now + 5); /* the wall clock */
    assert_int_equal(xmpp_time_set_tzo(f->s, 0), XMPP_OK);
    assert_int_equal(xmpp_time_set_tzo(f->s, 1440), XMPP_ERR_INVALID);
    take(f);
    server(f, "<iq type='get' id='t2' from='bob@example.com/x'><time xmlns='urn:xmpp:time'/></iq>");
    assert_non_null(strstr(f->out, "<tzo>Z</tzo>"));
    take(f);
    /* requests: a good answer, a malformed one, one from the wrong sender */
    assert_int_equal(xmpp_time_request(f->s, "bob@example.com/x", 0, on_time, &ts), XMPP_OK);
    pump(f);
    reply_to_out(f,
                 "<iq type='result' id='%s' from='eve@example.com/x'><time "
                 "xmlns='urn:xmpp:time'><tzo>Z</tzo><utc>2006-12-19T17:58:35Z</utc></time></iq>");
    assert_int_equal(ts.calls, 0);
    {
        char buf[512];
        /* the reply must still be matched: reuse the id of the request */
        assert_int_equal(xmpp_time_request(f->s, "bob@example.com/x", 0, on_time, &ts), XMPP_OK);
        pump(f);
        (void)buf;
    }
    {
        /* the second request's id is the last id="..." in the output */
        const char *q = f->out, *last = NULL;
        char id[64], buf[512];
        while ((q = strstr(q, "id=\"")) != NULL)
            last = q++;
        snprintf(id, sizeof(id), "%.*s", (int)(strchr(last + 4, '"') - last - 4), last + 4);
        snprintf(buf, sizeof(buf),
                 "<iq type='result' id='%s' from='bob@example.com/x'><time "
                 "xmlns='urn:xmpp:time'><tzo>-06:00</tzo><utc>"
                 "2006-12-19T17:58:35Z</utc></time></iq>",
                 id);
        take(f);
        server(f, buf);
    }
    assert_int_equal(ts.calls, 1);
    assert_int_equal(ts.err, XMPP_OK);
    assert_true(ts.t.utc == 1166551115 && ts.t.tzo_minutes == -360);
    assert_int_equal(xmpp_time_request(f->s, "carol@example.com/x", 0, on_time, &ts), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s' from='carol@example.com/x'><time "
                    "xmlns='urn:xmpp:time'><tzo>Z</tzo><utc>2006-12-19 17:58:35</utc></time></iq>");
    assert_int_equal(ts.calls, 2);
    assert_int_equal(ts.status, XMPP_IQ_RESULT);
    assert_int_equal(ts.err, XMPP_ERR_INVALID);

    /* last activity: refused until set */
    server(f,
           "<iq type='get' id='l1' from='bob@example.com/x'><query xmlns='jabber:iq:last'/></iq>");
    assert_non_null(strstr(f->out, "type=\"error\""));
    assert_non_null(strstr(f->out, "<forbidden"));
    take(f);
    assert_int_equal(xmpp_last_set_idle_since(f->s, now - 120), XMPP_OK);
    assert_int_equal(xmpp_last_set_idle_since(f->s, -2), XMPP_ERR_INVALID);
    server(f,
           "<iq type='get' id='l2' from='bob@example.com/x'><query xmlns='jabber:iq:last'/></iq>");
    p = strstr(f->out, "seconds=\"");
    assert_non_null(p);
    assert_true(atol(p + 9) >= 120 && atol(p + 9) < 130);
    take(f);
    assert_int_equal(xmpp_last_set_idle_since(f->s, -1), XMPP_OK);
    server(f,
           "<iq type='get' id='l3' from='bob@example.com/x'><query xmlns='jabber:iq:last'/></iq>");
    assert_non_null(strstr(f->out, "<forbidden"));
    take(f);
    memset(&ts, 0, sizeof(ts));
    assert_int_equal(xmpp_last_request(f->s, NULL, 0, on_last, &ts), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_last_request(f->s, "bob@example.com", 0, on_last, &ts), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s' from='bob@example.com'><query "
                    "xmlns='jabber:iq:last' seconds='903'>Heading Home</query></iq>");
    assert_int_equal(ts.calls, 1);
    assert_int_equal(ts.err, XMPP_OK);
    assert_int_equal(ts.secs, 903);
    assert_string_equal(ts.text, "Heading Home");
    assert_int_equal(xmpp_last_request(f->s, "bob@example.com", 0, on_last, &ts), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s' from='bob@example.com'><query "
                    "xmlns='jabber:iq:last' seconds='-5'/></iq>");
    assert_int_equal(ts.calls, 2);
    assert_int_equal(ts.err, XMPP_ERR_INVALID);
    assert_int_equal(ts.secs, -1);
    assert_int_equal(xmpp_last_request(f->s, "bob@example.com", 0, on_last, &ts), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='error' id='%s' from='bob@example.com'><error type='auth'>"
                    "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert_int_equal(ts.calls, 3);
    assert_int_equal(ts.status, XMPP_IQ_ERROR);
    /* pending requests are cancelled exactly once at teardown */
    assert_int_equal(xmpp_last_request(f->s, "bob@example.com", 0, on_last, &ts), XMPP_OK);
    assert_int_equal(xmpp_time_request(f->s, NULL, 0, on_time, &ts), XMPP_OK);
    fix_free(f);
    /* 3 answered + these 2 + the time request only "eve" answered */
    assert_int_equal(ts.calls, 6);
    assert_int_equal(ts.status, XMPP_IQ_CANCELLED);
}

/* ---- XEP-0054 and XEP-0153 */
struct vc_seen {
    int calls, err, avatars;
    xmpp_iq_status status;
    char fn[64], nick[64], email[64], url[64], type[32], hash[48], from[64];
    size_t photo_len;
    unsigned char photo[16];
};

static void on_vcard(xmpp_session *s, xmpp_iq_status status, int err, const xmpp_vcard *vc,
                     xmpp_stanza *reply, void *ud) {
    struct vc_seen *v = ud;
    (void)s;
    (void)reply;
    v->calls++;
    v->status = status;
    v->err = err;
    if (vc) {
        snprintf(v->fn, sizeof(v->fn), "%s", vc->fn ? vc->fn : "(null)");
        snprintf(v->nick, sizeof(v->nick), "%s", vc->nickname ? vc->nickname : "(null)");
        snprintf(v->email, sizeof(v->email), "%s", vc->email ? vc->email : "(null)");
        snprintf(v->url, sizeof(v->url), "%s", vc->url ? vc->url : "(null)");
        snprintf(v->type, sizeof(v->type), "%s", vc->photo_type ? vc->photo_type : "(null)");
        v->photo_len = vc->photo_len;
        if (vc->photo_len > 0 && vc->photo_len <= sizeof(v->photo))
            memcpy(v->photo, vc->photo, vc->photo_len);
    }
}

static void on_avatar(xmpp_session *s, const char *from, const char *hash, void *ud) {
    struct vc_seen *v = ud;
    (void)s;
    v->avatars++;
    snprintf(v->hash, sizeof(v->hash), "%s", hash);
    snprintf(v->from, sizeof(v->from), "%s", from);
}

static void test_vcard(void **state) {
    struct fix *f = login_all();
    struct vc_seen v;
    xmpp_vcard mine;
    xmpp_stanza *pres = NULL;
    const char *hash;
    char hex[41], *s = NULL;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 1, 2, 3};
    (void)state;
    memset(&v, 0, sizeof(v));
    /* get: folded base64 is accepted */
    assert_int_equal(xmpp_vcard_request(f->s, "bob@example.com", 0, on_vcard, &v), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<vCard xmlns=\"vcard-temp\"/>"));
    reply_to_out(f, "<iq type='result' id='%s' from='bob@example.com'><vCard xmlns='vcard-temp'>"
                    "<FN>Bob B</FN><NICKNAME>bob</NICKNAME><EMAIL><INTERNET/><USERID>b@example.org"
                    "</USERID></EMAIL><URL>https://example.org/</URL><PHOTO><TYPE>image/png</TYPE>"
                    "<BINVAL>iVBO\n RwEC Aw==</BINVAL></PHOTO></vCard></iq>");
    assert_int_equal(v.calls, 1);
    assert_int_equal(v.err, XMPP_OK);
    assert_string_equal(v.fn, "Bob B");
    assert_string_equal(v.nick, "bob");
    assert_string_equal(v.email, "b@example.org");
    assert_string_equal(v.url, "https://example.org/");
    assert_string_equal(v.type, "image/png");
    assert_int_equal(v.photo_len, sizeof(png));
    assert_memory_equal(v.photo, png, sizeof(png));
    /* bad base64, photo without type, empty result, wrong sender */
    assert_int_equal(xmpp_vcard_request(f->s, "bob@example.com", 0, on_vcard, &v), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s' from='bob@example.com'><vCard xmlns='vcard-temp'>"
                    "<PHOTO><TYPE>image/png</TYPE><BINVAL>iVB=O</BINVAL></PHOTO></vCard></iq>");
    assert_int_equal(v.calls, 2);
    assert_int_equal(v.err, XMPP_ERR_INVALID);
    assert_int_equal(xmpp_vcard_request(f->s, "bob@example.com", 0, on_vcard, &v), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s' from='bob@example.com'><vCard xmlns='vcard-temp'>"
                    "<PHOTO><BINVAL>iVBORwECAw==</BINVAL></PHOTO></vCard></iq>");
    assert_int_equal(v.err, XMPP_ERR_INVALID);
    assert_int_equal(xmpp_vcard_request(f->s, NULL, 0, on_vcard, &v), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s'/>");
    assert_int_equal(v.calls, 4);
    assert_int_equal(v.err, XMPP_OK);
    assert_string_equal(v.fn, "(null)");
    assert_int_equal(xmpp_vcard_request(f->s, "bob@example.com", 0, on_vcard, &v), XMPP_OK);
    pump(f);
    reply_to_out(f, "<iq type='result' id='%s' from='mallory@example.com'><vCard "
                    "xmlns='vcard-temp'><FN>Fake</FN></vCard></iq>");
    assert_int_equal(v.calls, 4);
    take(f);
    /* an oversized photo: XMPP_ERR_LIMIT, memory bounded by the stanza limit */
    {
        size_t n = XMPP_VCARD_MAX_PHOTO / 3 * 4 + 400, i;
        char *big = malloc(n + 512), id[64];
        const char *q = f->out;
        assert_int_equal(xmpp_vcard_request(f->s, "carol@example.com", 0, on_vcard, &v), XMPP_OK);
        pump(f);
        q = strstr(q, "id=\"");
        snprintf(id, sizeof(id), "%.*s", (int)(strchr(q + 4, '"') - q - 4), q + 4);
        i = (size_t)sprintf(big,
                            "<iq type='result' id='%s' from='carol@example.com'><vCard "
                            "xmlns='vcard-temp'><FN>C</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>",
                            id);
        memset(big + i, 'A', n);
        strcpy(big + i + n, "</BINVAL></PHOTO></vCard></iq>");
        take(f);
        server(f, big);
        free(big);
        assert_int_equal(v.calls, 5);
        assert_int_equal(v.err, XMPP_ERR_LIMIT);
    }
    /* publish */
    memset(&mine, 0, sizeof(mine));
    mine.fn = "Alice A";
    mine.email = "a@example.org";
    mine.photo = png;
    mine.photo_len = sizeof(png);
    assert_int_equal(xmpp_vcard_publish(f->s, &mine, 0, NULL, NULL),
                     XMPP_ERR_INVALID); /* no type */
    mine.photo_type = "image/png";
    assert_int_equal(xmpp_vcard_publish(f->s, &mine, 0, NULL, NULL), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"set\""));
    assert_non_null(strstr(f->out, "<vCard xmlns=\"vcard-temp\"><FN>Alice A</FN><EMAIL><INTERNET/>"
                                   "<USERID>a@example.org</USERID></EMAIL><PHOTO><TYPE>image/png"
                                   "</TYPE><BINVAL>iVBORwECAw==</BINVAL></PHOTO></vCard>"));
    take(f);
    /* avatar hashes: SHA-1 of the image (XEP-0153 §3.1) */
    assert_int_equal(xmpp_vcard_photo_hash((const unsigned char *)"abc", 3, hex, sizeof(hex)),
                     XMPP_OK);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_int_equal(xmpp_presence_new(&pres, f->ctx, NULL, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_vcard_update_add(pres, "xyz"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_vcard_update_add(pres, hex), XMPP_OK);
    assert_int_equal(xmpp_vcard_update_get(pres, &hash), XMPP_OK);
    assert_string_equal(hash, hex);
    assert_int_equal(xmpp_stanza_serialize(pres, "jabber:client", &s, NULL), XMPP_OK);
    assert_non_null(strstr(s, "<x xmlns=\"vcard-temp:x:update\"><photo>a9993e36"));
    xmpp_free(f->ctx, s);
    xmpp_stanza_unref(pres);
    assert_int_equal(xmpp_vcard_set_avatar_callback(f->s, on_avatar, &v), XMPP_OK);
    server(f, "<presence from='bob@example.com/a'><x xmlns='vcard-temp:x:update'><photo>"
              "A9993E364706816ABA3E25717850C26C9CD0D89D</photo></x></presence>");
    assert_int_equal(v.avatars, 1);
    assert_string_equal(v.from, "bob@example.com/a");
    server(f, "<presence from='bob@example.com/a'><x xmlns='vcard-temp:x:update'><photo/></x>"
              "</presence>");
    assert_int_equal(v.avatars, 2);
    assert_string_equal(v.hash, "");
    /* not ready, malformed, subscriptions: no callback */
    server(f, "<presence from='bob@example.com/a'><x xmlns='vcard-temp:x:update'/></presence>");
    server(f, "<presence from='bob@example.com/a'><x xmlns='vcard-temp:x:update'><photo>"
              "../../etc/passwd</photo></x></presence>");
    server(f, "<presence from='bob@example.com/a'><x xmlns='vcard-temp:x:update'><photo>"
              "a9993e364706816aba3e25717850c26c9cd0d89d</photo><photo/></x></presence>");
    server(f, "<presence from='bob@example.com/a' type='subscribe'><x "
              "xmlns='vcard-temp:x:update'><photo/></x></presence>");
    assert_int_equal(v.avatars, 2);
    fix_free(f);
}

/* ---- allocation failures: every builder and parser, failing each
 * allocation in turn, returns an error and leaks nothing */
static int markup_scenario(xmpp_ctx *ctx, void *arg) {
    static const char *const two[] = {"\xF0\x9F\x91\x8D", "\xE2\x9D\xA4\xEF\xB8\x8F"};
    xmpp_stanza *m = NULL;
    xmpp_reactions rx;
    xmpp_reply rp;
    char *body = NULL, hex[41];
    int rc;
    (void)arg;
    if ((rc = xmpp_message_new(&m, ctx, "chat", "bob@example.com", "m1", "hello")) != XMPP_OK)
        return rc;
    if ((rc = xmpp_chatstate_add(m, XMPP_CHATSTATE_COMPOSING)) != XMPP_OK ||
        (rc = xmpp_correction_add(m, "old")) != XMPP_OK ||
        (rc = xmpp_marker_add_markable(m)) != XMPP_OK ||
        (rc = xmpp_marker_add(m, XMPP_MARKER_RECEIVED, "m0")) != XMPP_OK ||
        (rc = xmpp_reactions_add(m, "m0", two, 2)) != XMPP_OK ||
        (rc = xmpp_reply_add(m, "bob@example.com/x", "q1", "quoted\ntext")) != XMPP_OK ||
        (rc = xmpp_retraction_add(m, "m0")) != XMPP_OK ||
        (rc = xmpp_reactions_get(m, &rx)) != XMPP_OK || (rc = xmpp_reply_get(m, &rp)) != XMPP_OK ||
        (rc = xmpp_fallback_strip(m, XMPP_NS_REPLY, &body)) != XMPP_OK) {
        xmpp_stanza_unref(m);
        return rc;
    }
    xmpp_free(ctx, body);
    xmpp_stanza_unref(m);
    if ((rc = xmpp_presence_new(&m, ctx, NULL, NULL, NULL)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_vcard_photo_hash((const unsigned char *)"x", 1, hex, sizeof(hex))) == XMPP_OK)
        rc = xmpp_vcard_update_add(m, hex);
    xmpp_stanza_unref(m);
    return rc;
}

static void test_markup_torture(void **state) {
    (void)state;
    assert_true(th_torture(markup_scenario, NULL) > 10);
}

/* ---- disco: the features of the enabled plugins */
static void test_disco_features(void **state) {
    struct fix *f = login_all();
    static const char *const feats[] = {"urn:xmpp:receipts",
                                        "http://jabber.org/protocol/chatstates",
                                        "urn:xmpp:message-correct:0",
                                        "urn:xmpp:chat-markers:0",
                                        "urn:xmpp:message-retract:1",
                                        "urn:xmpp:reactions:0",
                                        "urn:xmpp:reply:0",
                                        "urn:xmpp:time",
                                        "jabber:iq:last",
                                        "vcard-temp"};
    size_t i;
    (void)state;
    server(f, "<iq type='get' id='d1' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "<feature var=\"%s\"/>", feats[i]);
        assert_non_null(strstr(f->out, needle));
    }
    take(f);
    assert_int_equal(xmpp_session_disable_plugin(f->s, "reactions"),
                     XMPP_ERR_STATE); /* im needs it */
    assert_int_equal(xmpp_session_disable_plugin(f->s, "im"), XMPP_OK);
    assert_int_equal(xmpp_session_disable_plugin(f->s, "reactions"), XMPP_OK);
    server(f, "<iq type='get' id='d2' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_null(strstr(f->out, "urn:xmpp:reactions:0"));
    assert_non_null(strstr(f->out, "urn:xmpp:reply:0"));
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_receipts_answer),
        cmocka_unit_test(test_receipts_request),
        cmocka_unit_test(test_markup_build),
        cmocka_unit_test(test_markup_hostile),
        cmocka_unit_test(test_time_last),
        cmocka_unit_test(test_vcard),
        cmocka_unit_test(test_disco_features),
        cmocka_unit_test(test_markup_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
