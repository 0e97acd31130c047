/* Archives and message routing, driven by scripted server bytes:
 * XEP-0082 timestamps (strict), XEP-0203 delay, XEP-0297 unwrapping,
 * XEP-0359 stanza-id trust and origin-id, XEP-0280 carbons with the
 * exact-sender rule (SECURITY d.5 #42), XEP-0313 queries and paging with
 * strict result acceptance (SECURITY d.5 #44). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>
#include <xmpp/plugin.h>
#include <xmpp/session.h>
#include <xmpp/xep/carbons.h>
#include <xmpp/xep/delay.h>
#include <xmpp/xep/forward.h>
#include <xmpp/xep/mam.h>
#include <xmpp/xep/sid.h>

#include "transcript.h"

/* What the callbacks saw; hung on the fixture's extra. */
struct mam_seen {
    int app_msgs;   /* messages that reached the app's handler */
    char log[4096]; /* results and carbons, in order */
    int done;
    xmpp_iq_status status;
    int complete;
    char first[64], last[64];
    size_t delivered;
    int (*inspect)(xmpp_session *s, xmpp_stanza *st, void *ud);
};
#define MS(f) ((struct mam_seen *)(f)->extra)

static void logf_(struct fix *f, const char *fmt, ...) {
    size_t n = strlen(MS(f)->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(MS(f)->log + n, sizeof(MS(f)->log) - n, fmt, ap);
    va_end(ap);
}

static int on_app_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct fix *f = ud;
    MS(f)->app_msgs++;
    if (MS(f)->inspect)
        MS(f)->inspect(s, st, ud);
    return 1;
}

/* The value of attribute @p attr of the last element named @p elem the
 * client wrote (double-quoted by the serializer). */
static void out_attr(struct fix *f, const char *elem, const char *attr, char *buf, size_t size) {
    char pat[64];
    const char *p = NULL, *q, *e;
    snprintf(pat, sizeof(pat), "<%s ", elem);
    for (q = strstr(f->out, pat); q; q = strstr(q + 1, pat))
        p = q;
    assert_non_null(p);
    snprintf(pat, sizeof(pat), " %s=\"", attr);
    q = strstr(p, pat);
    assert_non_null(q);
    q += strlen(pat);
    e = strchr(q, '"');
    assert_true((size_t)(e - q) < size);
    memcpy(buf, q, (size_t)(e - q));
    buf[e - q] = '\0';
}

/* The plugins the next session enables (see mam_login()). */
static const char *g_plugins;

static void setup_mam(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_set_stream_management(o, XMPP_SM_OFF), XMPP_OK);
    if (g_plugins && strstr(g_plugins, "sid"))
        assert_int_equal(xmpp_session_options_enable_plugin(o, "sid"), XMPP_OK);
    if (g_plugins && strstr(g_plugins, "carbons"))
        assert_int_equal(xmpp_session_options_enable_plugin(o, "carbons"), XMPP_OK);
    if (g_plugins && strstr(g_plugins, "mam"))
        assert_int_equal(xmpp_session_options_enable_plugin(o, "mam"), XMPP_OK);
}

/* Logs in alice@example.com/res over plaintext, without stream management,
 * with the plugins given; then an app message handler is registered. */
static struct fix *mam_login(const char *plugins) {
    static struct mam_seen seen;
    struct fix *f;
    memset(&seen, 0, sizeof(seen));
    g_plugins = plugins;
    g_setup = setup_mam;
    f = login("alice@example.com", "alice@example.com/res");
    g_setup = NULL;
    f->extra = &seen;
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, on_app_message, f, NULL),
                     XMPP_OK);
    take(f);
    assert_int_equal(xmpp_session_get_state(f->s), XMPP_STATE_READY);
    return f;
}

/* ---- XEP-0082 */
static void test_datetime(void **state) {
    static const char *const bad[] = {
        "", "2026-11-25", "2026-11-25T08:49:24", "2026-11-25T08:49:24z",
        "2026-11-25t08:49:24Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-11-25T24:00:00Z", "2026-11-25T23:60:00Z", "2026-11-25T23:59:60Z",
        "2026-11-25T08:49:24+15:00", "2026-11-25T08:49:24+14:30", "2026-11-25T08:49:24+05:60",
        "2026-11-25T08:49:24+0500", "2026-11-25T08:49:24+5:00", "2026-11-25T08:49:24Z ",
        "2026-11-25T08:49:24Zjunk", "2026-11-25T08:49:24.Z", "2026-11-25T08:49:24.12x3Z",
        "0000-01-01T00:00:00Z", "+2026-11-25T08:49:24Z", "2026-1-25T08:49:24Z",
        "20261125T08:49:24Z", "2026-11-25T08:49Z", " 2026-11-25T08:49:24Z",
        "2026-11-25 08:49:24Z", "2026-11-25T08:49:24-00:0a", "2026-11-25T08:49:24+01:00:00"};
    int64_t t = 42;
    uint32_t us = 7;
    char buf[32];
    size_t i;
    (void)state;
    assert_int_equal(xmpp_datetime_parse("1970-01-01T00:00:00Z", &t, &us), XMPP_OK);
    assert_int_equal(t, 0);
    assert_int_equal(us, 0);
    assert_int_equal(xmpp_datetime_parse("2026-11-25T08:49:24Z", &t, NULL), XMPP_OK);
    assert_int_equal(t, 1795596564);
    /* offsets move the instant; fractions of any length */
    assert_int_equal(xmpp_datetime_parse("2026-11-25T09:49:24.5+01:00", &t, &us), XMPP_OK);
    assert_int_equal(t, 1795596564);
    assert_int_equal(us, 500000);
    assert_int_equal(xmpp_datetime_parse("2026-11-25T03:19:24.123456789-05:30", &t, &us),
                     XMPP_OK);
    assert_int_equal(t, 1795596564);
    assert_int_equal(us, 123456);
    assert_int_equal(xmpp_datetime_parse("2024-02-29T23:59:59+14:00", &t, NULL), XMPP_OK);
    assert_int_equal(xmpp_datetime_parse("2000-02-29T00:00:00Z", &t, NULL), XMPP_OK);
    assert_int_equal(xmpp_datetime_parse("1969-12-31T23:59:59Z", &t, NULL), XMPP_OK);
    assert_int_equal(t, -1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        if (xmpp_datetime_parse(bad[i], &t, NULL) != XMPP_ERR_INVALID)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(t, 42);
    }
    assert_int_equal(xmpp_datetime_parse(NULL, &t, NULL), XMPP_ERR_INVALID);
    /* a long fraction is bounded, not an error up to a limit */
    {
        char longf[200];
        memset(longf, '1', sizeof(longf));
        memcpy(longf, "2026-11-25T08:49:24.", 20);
        memcpy(longf + 150, "Z", 2);
        assert_int_equal(xmpp_datetime_parse(longf, &t, NULL), XMPP_ERR_INVALID);
        memcpy(longf + 40, "Z", 2);
        assert_int_equal(xmpp_datetime_parse(longf, &t, NULL), XMPP_OK);
    }
    assert_int_equal(xmpp_datetime_format(1795596564, buf, sizeof(buf)), XMPP_OK);
    assert_string_equal(buf, "2026-11-25T08:49:24Z");
    assert_int_equal(xmpp_datetime_format(-1, buf, sizeof(buf)), XMPP_OK);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(xmpp_datetime_format(951782400, buf, sizeof(buf)), XMPP_OK);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    assert_int_equal(xmpp_datetime_format(0, buf, 20), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_datetime_format(253402300800LL, buf, sizeof(buf)), XMPP_ERR_INVALID);
    /* round trip over many days */
    for (t = -62135596800LL; t < 253402300799LL; t += 86400LL * 397 + 3601) {
        int64_t back;
        assert_int_equal(xmpp_datetime_format(t, buf, sizeof(buf)), XMPP_OK);
        assert_int_equal(xmpp_datetime_parse(buf, &back, NULL), XMPP_OK);
        assert_true(back == t);
    }
}

/* ---- XEP-0203, XEP-0297, XEP-0359 on stanzas the server sends */
static int on_inspect(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct fix *f = ud;
    xmpp_stanza *m = NULL, *d = NULL;
    int64_t t = 0;
    const char *from = NULL, *aid = xmpp_sid_archive_id(s, st), *oid = xmpp_sid_origin_id(st);
    int rc = xmpp_delay_get(st, &t, &from);
    logf_(f, "[delay %d %lld %s]", rc, (long long)(rc == XMPP_OK ? t : 0),
          rc == XMPP_OK && from ? from : "-");
    logf_(f, "[sid %s %s]", aid ? aid : "-", oid ? oid : "-");
    rc = xmpp_forward_unwrap(xmpp_stanza_child(st, "wrap", "urn:example"), &m, &d);
    logf_(f, "[fwd %d %s %s]", rc, rc == XMPP_OK ? xmpp_stanza_from(m) : "-",
          rc == XMPP_OK && d ? "delay" : "-");
    return 1;
}

static void test_delay_forward_sid(void **state) {
    struct fix *f = mam_login(NULL);
    (void)state;
    MS(f)->inspect = on_inspect;
    server(f, "<message from='bob@example.com/x' type='chat'><wrap xmlns='urn:example'>"
              "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' "
              "stamp='2026-11-25T08:49:24Z'/><message xmlns='jabber:client' from='carol@example.com/y'><body>hi</body>"
              "</message></forwarded></wrap>"
              "<delay xmlns='urn:xmpp:delay' stamp='2026-11-25T09:49:24+01:00' from='example.com'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='mallory@evil.example' id='FAKE'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='ALICE@example.com' id='A1'/>"
              "<origin-id xmlns='urn:xmpp:sid:0' id='O1'/></message>");
    assert_string_equal(MS(f)->log, "[delay 0 1795596564 example.com][sid A1 O1]"
                                "[fwd 0 carol@example.com/y delay]");
    MS(f)->log[0] = '\0';
    /* a bad stamp, two forwarded messages, only a spoofed stanza-id, and
     * one from a full JID of ours */
    server(f, "<message from='bob@example.com/x' type='chat'><wrap xmlns='urn:example'>"
              "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/><message xmlns='jabber:client'/></forwarded></wrap>"
              "<delay xmlns='urn:xmpp:delay' stamp='2026-11-25T08:49:24'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='mallory@evil.example' id='FAKE'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com/res' id='FAKE2'/>"
              "</message>");
    assert_string_equal(MS(f)->log, "[delay -2 0 -][sid - -][fwd -2 - -]");
    MS(f)->log[0] = '\0';
    /* two stanza-ids by us: ambiguous, none is trusted */
    server(f, "<message from='bob@example.com/x'><wrap xmlns='urn:example'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='A1'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='A2'/></message>");
    assert_string_equal(MS(f)->log, "[delay -3 0 -][sid - -][fwd -3 - -]");
    MS(f)->log[0] = '\0';
    /* groupchat: the room's id, not one claiming to be ours */
    server(f, "<message from='room@muc.example.com/nick' type='groupchat'>"
              "<wrap xmlns='urn:example'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='A1'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='R1'/></message>");
    assert_string_equal(MS(f)->log, "[delay -3 0 -][sid R1 -][fwd -3 - -]");
    fix_free(f);
}

static void test_origin_id(void **state) {
    struct fix *f = mam_login(NULL);
    xmpp_stanza *m = NULL;
    (void)state;
    /* without the plugin: nothing added */
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "m1", "hi"),
                     XMPP_OK);
    assert_int_equal(xmpp_sid_add_origin_id(f->s, m), XMPP_OK);
    assert_null(xmpp_sid_origin_id(m));
    assert_int_equal(xmpp_session_enable_plugin(f->s, "sid"), XMPP_OK);
    assert_int_equal(xmpp_sid_add_origin_id(f->s, m), XMPP_OK);
    assert_string_equal(xmpp_sid_origin_id(m), "m1");
    assert_int_equal(xmpp_sid_add_origin_id(f->s, m), XMPP_OK); /* once only */
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<origin-id xmlns=\"urn:xmpp:sid:0\" id=\"m1\"/>"));
    assert_null(strstr(strstr(f->out, "origin-id") + 1, "origin-id xmlns"));
    xmpp_stanza_unref(m);
    /* a message without id gets one for both */
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", NULL, "hi"),
                     XMPP_OK);
    assert_int_equal(xmpp_sid_add_origin_id(f->s, m), XMPP_OK);
    assert_non_null(xmpp_stanza_id(m));
    assert_string_equal(xmpp_sid_origin_id(m), xmpp_stanza_id(m));
    xmpp_stanza_unref(m);
    fix_free(f);
}

/* ---- XEP-0280 */
static void on_carbon(xmpp_session *s, xmpp_carbon_dir dir, xmpp_stanza *m, xmpp_stanza *c,
                      void *ud) {
    struct fix *f = ud;
    char *body = NULL;
    (void)s;
    (void)c;
    xmpp_stanza_text(xmpp_stanza_child(m, "body", NULL), &body, NULL);
    logf_(f, "[%s %s>%s %s]", dir == XMPP_CARBON_SENT ? "sent" : "received",
          xmpp_stanza_from(m), xmpp_stanza_to(m), body ? body : "-");
    xmpp_free(f->ctx, body);
}

static void on_enabled(xmpp_session *s, xmpp_iq_status status, void *ud) {
    struct fix *f = ud;
    (void)s;
    MS(f)->done++;
    MS(f)->status = status;
}

#define CARBON(from, dir, inner)                                                             \
    "<message from='" from "' to='alice@example.com/res' type='chat'><" dir                  \
    " xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" inner               \
    "</forwarded></" dir "></message>"

static void test_carbons(void **state) {
    struct fix *f = mam_login("carbons");
    char id[64], buf[512];
    xmpp_stanza *m = NULL;
    (void)state;
    assert_int_equal(xmpp_carbons_set_handler(f->s, on_carbon, f), XMPP_OK);
    assert_int_equal(xmpp_carbons_enable(f->s, 1, 0, on_enabled, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<enable xmlns=\"urn:xmpp:carbons:2\"/>"));
    assert_null(strstr(f->out, " to="));
    out_attr(f, "iq", "id", id, sizeof(id));
    take(f);
    /* the answer from someone else does not count (ORG-05) */
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='mallory@evil.example'/>", id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 0);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s'/>", id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 1);
    assert_int_equal(MS(f)->status, XMPP_IQ_RESULT);
    /* genuine carbons, both ways */
    server(f, CARBON("alice@example.com", "received",
                     "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com/phone' "
                     "type='chat'><body>to phone</body></message>"));
    server(f, CARBON("alice@example.com", "sent",
                     "<message xmlns='jabber:client' from='alice@example.com/phone' to='bob@example.com/x' "
                     "type='chat'><body>from phone</body></message>"));
    assert_string_equal(MS(f)->log, "[received bob@example.com/x>alice@example.com/phone to phone]"
                                "[sent alice@example.com/phone>bob@example.com/x from phone]");
    assert_int_equal(MS(f)->app_msgs, 0);
    MS(f)->log[0] = '\0';
    /* spoofed: a contact, another server, our own full JID, our server,
     * no from at all; a sent carbon of a message we did not send; two
     * messages; no forwarded at all */
    server(f, CARBON("mallory@evil.example", "received",
                     "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com/res'>"
                     "<body>spoof1</body></message>"));
    server(f, CARBON("bob@example.com/x", "received",
                     "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com/res'>"
                     "<body>spoof2</body></message>"));
    server(f, CARBON("alice@example.com/other", "received",
                     "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com/res'>"
                     "<body>spoof3</body></message>"));
    server(f, CARBON("example.com", "received",
                     "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com/res'>"
                     "<body>spoof4</body></message>"));
    server(f, "<message><received xmlns='urn:xmpp:carbons:2'><forwarded "
              "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@example.com/x'><body>spoof5</body>"
              "</message></forwarded></received></message>");
    server(f, CARBON("alice@example.com", "sent",
                     "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com/res'>"
                     "<body>spoof6</body></message>"));
    server(f, CARBON("alice@example.com", "received",
                     "<message xmlns='jabber:client'/><message xmlns='jabber:client'/>"));
    server(f, "<message from='alice@example.com'><received xmlns='urn:xmpp:carbons:2'/>"
              "</message>");
    assert_string_equal(MS(f)->log, "");
    assert_int_equal(MS(f)->app_msgs, 0);
    /* ordinary messages pass on to the application */
    server(f, "<message from='bob@example.com/x' type='chat'><body>plain</body></message>");
    assert_int_equal(MS(f)->app_msgs, 1);
    /* private */
    assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", "p1", "secret"),
                     XMPP_OK);
    assert_int_equal(xmpp_carbons_mark_private(m), XMPP_OK);
    assert_int_equal(xmpp_carbons_mark_private(m), XMPP_OK);
    assert_int_equal(xmpp_session_send(f->s, m), XMPP_OK);
    xmpp_stanza_unref(m);
    pump(f);
    assert_non_null(strstr(f->out, "<private xmlns=\"urn:xmpp:carbons:2\"/>"
                                   "<no-copy xmlns=\"urn:xmpp:hints\"/></message>"));
    take(f);
    /* disable; cancelled at free: the callback fires once */
    assert_int_equal(xmpp_carbons_enable(f->s, 0, 0, on_enabled, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<disable xmlns=\"urn:xmpp:carbons:2\"/>"));
    fix_free(f);
    assert_int_equal(MS(f)->done, 2);
    assert_int_equal(MS(f)->status, XMPP_IQ_CANCELLED);
}

/* ---- XEP-0313 */
static void on_result(xmpp_session *s, const xmpp_mam_result *r, void *ud) {
    struct fix *f = ud;
    char *body = NULL;
    int64_t t = 0;
    int rc = xmpp_mam_result_stamp(r, &t);
    (void)s;
    xmpp_stanza_text(xmpp_stanza_child(xmpp_mam_result_message(r), "body", NULL), &body, NULL);
    logf_(f, "[%s %s %lld]", xmpp_mam_result_id(r), body ? body : "-",
          (long long)(rc == XMPP_OK ? t : rc));
    xmpp_free(f->ctx, body);
}

static void on_done(xmpp_session *s, xmpp_iq_status status, const xmpp_mam_fin *fin,
                    xmpp_stanza *error, void *ud) {
    struct fix *f = ud;
    (void)s;
    MS(f)->done++;
    MS(f)->status = status;
    assert_true((status == XMPP_IQ_RESULT) == (fin != NULL));
    assert_true((status == XMPP_IQ_ERROR) == (error != NULL));
    MS(f)->complete = xmpp_mam_fin_complete(fin);
    snprintf(MS(f)->first, sizeof(MS(f)->first), "%s",
             xmpp_mam_fin_first(fin) ? xmpp_mam_fin_first(fin) : "-");
    snprintf(MS(f)->last, sizeof(MS(f)->last), "%s",
             xmpp_mam_fin_last(fin) ? xmpp_mam_fin_last(fin) : "-");
    MS(f)->delivered = xmpp_mam_fin_delivered(fin);
}

static void send_result(struct fix *f, const char *from, const char *qid, const char *id,
                        const char *body) {
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "<message %s to='alice@example.com/res'><result xmlns='urn:xmpp:mam:2' "
             "queryid='%s' id='%s'><forwarded xmlns='urn:xmpp:forward:0'><delay "
             "xmlns='urn:xmpp:delay' stamp='2026-11-25T08:49:24Z'/><message "
             "xmlns='jabber:client' from='bob@example.com/x' type='chat'><body>%s</body>"
             "</message></forwarded>"
             "</result></message>",
             from, qid, id, body);
    server(f, buf);
}

static void test_mam_own(void **state) {
    struct fix *f = mam_login("mam");
    xmpp_mam_query *q = NULL;
    char id[64], qid[64], buf[1024];
    (void)state;
    assert_int_equal(xmpp_mam_query_new(&q, f->ctx), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_with(q, "bob@example.com"), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_time(q, 1795596564, 1795600000), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_page(q, 2, XMPP_MAM_FORWARD, NULL), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_with(q, "not a jid@@"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_mam_query_set_time(q, 10, 5), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_mam_query_set_page(q, XMPP_MAM_MAX_PAGE + 1, XMPP_MAM_FORWARD, NULL),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_mam_query_set_archive(q, "room@muc.example.com/nick"),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<iq type=\"set\""));
    assert_null(strstr(f->out, " to="));
    assert_non_null(strstr(
        f->out, "<x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"FORM_TYPE\" "
                "type=\"hidden\"><value>urn:xmpp:mam:2</value></field><field var=\"with\">"
                "<value>bob@example.com</value></field><field var=\"start\"><value>"
                "2026-11-25T08:49:24Z</value></field><field var=\"end\"><value>"
                "2026-11-25T09:46:40Z</value></field></x><set "
                "xmlns=\"http://jabber.org/protocol/rsm\"><max>2</max></set></query></iq>"));
    out_attr(f, "iq", "id", id, sizeof(id));
    out_attr(f, "query", "queryid", qid, sizeof(qid));
    take(f);
    /* accepted: no from, and our bare JID */
    send_result(f, "", qid, "A1", "one");
    send_result(f, "from='alice@example.com'", qid, "A2", "two");
    /* dropped: wrong queryid, none, a contact, our full JID, our server,
     * two results, no id, no forwarded message */
    send_result(f, "", "other", "X1", "spoof");
    server(f, "<message><result xmlns='urn:xmpp:mam:2' id='X2'><forwarded "
              "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>spoof</body></message></forwarded>"
              "</result></message>");
    send_result(f, "from='mallory@evil.example'", qid, "X3", "spoof");
    send_result(f, "from='alice@example.com/other'", qid, "X4", "spoof");
    send_result(f, "from='example.com'", qid, "X5", "spoof");
    snprintf(buf, sizeof(buf),
             "<message><result xmlns='urn:xmpp:mam:2' queryid='%s'><forwarded "
             "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>spoof</body></message></forwarded>"
             "</result></message>",
             qid);
    server(f, buf);
    snprintf(buf, sizeof(buf),
             "<message><result xmlns='urn:xmpp:mam:2' queryid='%s' id='X7'><forwarded "
             "xmlns='urn:xmpp:forward:0'/></result></message>",
             qid);
    server(f, buf);
    assert_string_equal(MS(f)->log, "[A1 one 1795596564][A2 two 1795596564]");
    assert_int_equal(MS(f)->app_msgs, 0);
    /* the fin; a spoofed fin from someone else is not it */
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s' from='mallory@evil.example'><fin xmlns='urn:xmpp:mam:2' "
             "complete='true'/></iq>",
             id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 0);
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s'><fin xmlns='urn:xmpp:mam:2'><set "
             "xmlns='http://jabber.org/protocol/rsm'><first index='0'>A1</first>"
             "<last>A2</last><count>5</count></set></fin></iq>",
             id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 1);
    assert_int_equal(MS(f)->status, XMPP_IQ_RESULT);
    assert_int_equal(MS(f)->complete, 0);
    assert_string_equal(MS(f)->first, "A1");
    assert_string_equal(MS(f)->last, "A2");
    assert_int_equal(MS(f)->delivered, 2);
    /* the query is closed: late results are dropped */
    MS(f)->log[0] = '\0';
    send_result(f, "", qid, "A3", "late");
    assert_string_equal(MS(f)->log, "");
    assert_int_equal(MS(f)->app_msgs, 0);
    /* the next page: after A2; complete */
    assert_int_equal(xmpp_mam_query_set_page(q, 2, XMPP_MAM_FORWARD, "A2"), XMPP_OK);
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<set xmlns=\"http://jabber.org/protocol/rsm\"><max>2</max>"
                                   "<after>A2</after></set>"));
    out_attr(f, "iq", "id", id, sizeof(id));
    out_attr(f, "query", "queryid", qid, sizeof(qid));
    take(f);
    send_result(f, "", qid, "A3", "three");
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s'><fin xmlns='urn:xmpp:mam:2' complete='true'><set "
             "xmlns='http://jabber.org/protocol/rsm'><first>A3</first><last>A3</last></set>"
             "</fin></iq>",
             id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 2);
    assert_int_equal(MS(f)->complete, 1);
    assert_string_equal(MS(f)->log, "[A3 three 1795596564]");
    /* backward from the end, with id filters; an error reply */
    assert_int_equal(xmpp_mam_query_set_page(q, 3, XMPP_MAM_BACKWARD, NULL), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_ids(q, "A0", "A9"), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_ids(q, "", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<field var=\"after-id\"><value>A0</value></field>"
                                   "<field var=\"before-id\"><value>A9</value></field>"));
    assert_non_null(strstr(f->out, "<max>3</max><before/></set>"));
    out_attr(f, "iq", "id", id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf),
             "<iq type='error' id='%s'><error type='cancel'><item-not-found "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
             id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 3);
    assert_int_equal(MS(f)->status, XMPP_IQ_ERROR);
    /* backward from an id; then the session goes: cancelled, once */
    assert_int_equal(xmpp_mam_query_set_ids(q, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_page(q, 3, XMPP_MAM_BACKWARD, "A3"), XMPP_OK);
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<max>3</max><before>A3</before></set>"));
    assert_null(strstr(f->out, "after-id"));
    xmpp_mam_query_free(q);
    fix_free(f);
    assert_int_equal(MS(f)->done, 4);
    assert_int_equal(MS(f)->status, XMPP_IQ_CANCELLED);
}

static void test_mam_muc(void **state) {
    struct fix *f = mam_login("mam");
    xmpp_mam_query *q = NULL;
    char id[64], qid[64], buf[512];
    int i;
    (void)state;
    assert_int_equal(xmpp_mam_query_new(&q, f->ctx), XMPP_OK);
    assert_int_equal(xmpp_mam_query_set_archive(q, "Room@muc.example.com"), XMPP_OK);
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"room@muc.example.com\""));
    assert_null(strstr(f->out, "<set "));
    out_attr(f, "iq", "id", id, sizeof(id));
    out_attr(f, "query", "queryid", qid, sizeof(qid));
    take(f);
    send_result(f, "from='room@muc.example.com'", qid, "R1", "muc");
    /* not the room: our own account, no from, an occupant, another room */
    send_result(f, "", qid, "X1", "spoof");
    send_result(f, "from='alice@example.com'", qid, "X2", "spoof");
    send_result(f, "from='room@muc.example.com/mallory'", qid, "X3", "spoof");
    send_result(f, "from='other@muc.example.com'", qid, "X4", "spoof");
    assert_string_equal(MS(f)->log, "[R1 muc 1795596564]");
    assert_int_equal(MS(f)->app_msgs, 0);
    /* the reply must come from the room too */
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s'><fin xmlns='urn:xmpp:mam:2'/></iq>", id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 0);
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s' from='room@muc.example.com'><fin "
             "xmlns='urn:xmpp:mam:2' complete='1'/></iq>",
             id);
    server(f, buf);
    assert_int_equal(MS(f)->done, 1);
    assert_int_equal(MS(f)->complete, 1);
    assert_string_equal(MS(f)->first, "-");
    /* bounded number of open queries; disabling the plugin keeps the
     * completions exactly once */
    for (i = 0; i < XMPP_MAM_MAX_OPEN; i++)
        assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_ERR_LIMIT);
    pump(f);
    out_attr(f, "query", "queryid", qid, sizeof(qid));
    assert_int_equal(xmpp_session_disable_plugin(f->s, "mam"), XMPP_OK);
    MS(f)->log[0] = '\0';
    send_result(f, "from='room@muc.example.com'", qid, "R2", "after disable");
    assert_string_equal(MS(f)->log, "");
    assert_int_equal(MS(f)->app_msgs, 1); /* no plugin: the app sees it */
    /* a fetch enables the plugin again */
    assert_int_equal(xmpp_mam_fetch(f->s, q, 0, on_result, on_done, f), XMPP_OK);
    assert_true(xmpp_session_plugin_enabled(f->s, "mam"));
    xmpp_mam_query_free(q);
    fix_free(f);
    assert_int_equal(MS(f)->done, 2 + XMPP_MAM_MAX_OPEN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datetime),       cmocka_unit_test(test_delay_forward_sid),
        cmocka_unit_test(test_origin_id),      cmocka_unit_test(test_carbons),
        cmocka_unit_test(test_mam_own),        cmocka_unit_test(test_mam_muc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
