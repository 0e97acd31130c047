/* The "pubsub" plugin (XEP-0060, XEP-0163, XEP-0223) and XEP-0049 private
 * storage driven by scripted server bytes: request bytes, replies,
 * notifications per node and their sender checks (SECURITY.md ORG-06,
 * spoofed notifications), +notify interests in disco and caps, private
 * publishing with the publish-options check and precondition-not-met. */
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
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/avatar.h>
#include <xmpp/xep/bookmarks.h>
#include <xmpp/xep/caps.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/private.h>
#include <xmpp/xep/pubsub.h>

#include "testhelp.h"
#include "transcript.h"

/* ---- helpers */
static void setup_pubsub(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_enable_plugin(o, "pubsub"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "caps"), XMPP_OK);
}

static struct fix *login_ps(void) {
    struct fix *f;
    g_setup = setup_pubsub;
    f = login("alice@example.com", "alice@example.com/r");
    g_setup = NULL;
    take(f);
    return f;
}

/* The id of the last <iq the client wrote (since the last take(), else
 * the one found before). */
static char g_last_id[64];
static void last_id(struct fix *f, char *buf, size_t size) {
    const char *iq = f->out, *p, *id;
    while ((p = strstr(iq + 1, "<iq ")) != NULL)
        iq = p;
    if (strncmp(iq, "<iq ", 4) != 0) {
        assert_true(g_last_id[0] != '\0');
        snprintf(buf, size, "%s", g_last_id);
        return;
    }
    id = strstr(iq, " id=\"");
    assert_non_null(id);
    snprintf(buf, size, "%.*s", (int)(strchr(id + 5, '"') - id - 5), id + 5);
    snprintf(g_last_id, sizeof(g_last_id), "%s", buf);
}

/* Replies to the last iq: fmt has one %s for the id. */
static void reply(struct fix *f, const char *fmt) {
    char id[64], buf[4096];
    const char *at = strstr(fmt, "%s");
    assert_non_null(at);
    last_id(f, id, sizeof(id));
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - fmt), fmt, id, at + 2);
    take(f);
    server(f, buf);
}

struct done {
    int calls;
    xmpp_iq_status status;
    char item_id[64];
    char cond[64];
};

static void on_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *r, void *ud) {
    struct done *d = ud;
    const char *c;
    (void)s;
    d->calls++;
    d->status = status;
    d->item_id[0] = d->cond[0] = '\0';
    if (r && xmpp_pubsub_result_item_id(r))
        snprintf(d->item_id, sizeof(d->item_id), "%s", xmpp_pubsub_result_item_id(r));
    if (r && (c = xmpp_pubsub_error_condition(r)) != NULL)
        snprintf(d->cond, sizeof(d->cond), "%s", c);
}

struct got_items {
    int calls;
    xmpp_iq_status status;
    size_t n;
    char ids[128];
    char payload[256];
    char node[64];
};

static void on_items(xmpp_session *s, xmpp_iq_status status, const xmpp_pubsub_items *items,
                     xmpp_stanza *error, void *ud) {
    struct got_items *g = ud;
    size_t i;
    (void)s;
    (void)error;
    g->calls++;
    g->status = status;
    g->ids[0] = g->payload[0] = '\0';
    if (items == NULL)
        return;
    g->n = xmpp_pubsub_items_count(items);
    snprintf(g->node, sizeof(g->node), "%s", xmpp_pubsub_items_node(items));
    for (i = 0; i < g->n; i++) {
        size_t l = strlen(g->ids);
        xmpp_stanza *p = xmpp_pubsub_items_payload_at(items, i);
        snprintf(g->ids + l, sizeof(g->ids) - l, "%s,", xmpp_pubsub_items_id_at(items, i));
        if (p) {
            char *txt = NULL;
            assert_int_equal(xmpp_stanza_text(p, &txt, NULL), XMPP_OK);
            l = strlen(g->payload);
            snprintf(g->payload + l, sizeof(g->payload) - l, "%s:%s,", xmpp_stanza_name(p), txt);
            xmpp_free(xmpp_session_ctx(s), txt);
        }
    }
    assert_null(xmpp_pubsub_items_id_at(items, g->n));
    assert_null(xmpp_pubsub_items_payload_at(items, g->n));
}

/* ---- XEP-0060 requests */
static void test_requests(void **state) {
    struct fix *f = login_ps();
    struct done d;
    struct got_items g;
    xmpp_stanza *payload = NULL;
    static const char *const cfg[] = {"pubsub#access_model", "open", "pubsub#max_items", "10",
                                      NULL};
    static const char *const odd[] = {"pubsub#access_model", NULL};
    static const char *const ids[] = {"i1", "i2", NULL};
    (void)state;
    memset(&d, 0, sizeof(d));
    memset(&g, 0, sizeof(g));
    /* create with a configuration (XEP-0060 §8.1.3) */
    assert_int_equal(xmpp_pubsub_create(f->s, "pubsub.example.com", "n1", odd, 0, on_done, &d),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_pubsub_create(f->s, "pubsub.example.com", "n1", cfg, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"pubsub.example.com\""));
    assert_non_null(strstr(f->out, "<pubsub xmlns=\"http://jabber.org/protocol/pubsub\">"
                                   "<create node=\"n1\"/><configure><x xmlns=\"jabber:x:data\" "
                                   "type=\"submit\"><field var=\"FORM_TYPE\" type=\"hidden\">"
                                   "<value>http://jabber.org/protocol/pubsub#node_config</value>"
                                   "</field><field var=\"pubsub#access_model\"><value>open"
                                   "</value></field><field var=\"pubsub#max_items\"><value>10"
                                   "</value></field></x></configure></pubsub>"));
    reply(f, "<iq type='result' id='%s' from='pubsub.example.com'/>");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, XMPP_IQ_RESULT);
    /* publish with an id, a payload and publish-options (§7.1.5) */
    assert_int_equal(xmpp_stanza_new(&payload, f->ctx, "entry", "urn:example:e"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_text(payload, "hello", 5), XMPP_OK);
    assert_int_equal(xmpp_pubsub_publish(f->s, "pubsub.example.com", "n1", "i1", payload, cfg,
                                         0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<publish node=\"n1\"><item id=\"i1\"><entry "
                                   "xmlns=\"urn:example:e\">hello</entry></item></publish>"
                                   "<publish-options><x xmlns=\"jabber:x:data\""));
    assert_non_null(strstr(f->out, "pubsub#publish-options</value>"));
    /* a reply from a third party does not complete it (ORG-05) */
    reply(f, "<iq type='result' id='%s' from='evil.example'/>");
    assert_int_equal(d.calls, 1);
    take(f);
    assert_int_equal(xmpp_pubsub_publish(f->s, "pubsub.example.com", "n1", NULL, payload, NULL,
                                         0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<publish node=\"n1\"><item><entry"));
    assert_null(strstr(f->out, "publish-options"));
    reply(f, "<iq type='result' id='%s' from='pubsub.example.com'><pubsub "
             "xmlns='http://jabber.org/protocol/pubsub'><publish node='n1'><item id='gen42'/>"
             "</publish></pubsub></iq>");
    assert_int_equal(d.calls, 2);
    assert_string_equal(d.item_id, "gen42");
    /* a pubsub error condition */
    assert_int_equal(xmpp_pubsub_publish(f->s, NULL, "n1", "x", payload, NULL, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_null(strstr(f->out, " to=")); /* our PEP service: no "to" */
    reply(f, "<iq type='error' id='%s'><error type='cancel'><conflict "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><precondition-not-met "
             "xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>");
    assert_int_equal(d.calls, 3);
    assert_int_equal(d.status, XMPP_IQ_ERROR);
    assert_string_equal(d.cond, "precondition-not-met");
    xmpp_stanza_unref(payload);
    /* retract with notify (§7.2) */
    assert_int_equal(xmpp_pubsub_retract(f->s, "pubsub.example.com", "n1", "i1", 1, 0, on_done,
                                         &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<retract node=\"n1\" notify=\"true\"><item id=\"i1\"/>"
                                   "</retract>"));
    reply(f, "<iq type='result' id='%s' from='pubsub.example.com'/>");
    assert_int_equal(d.calls, 4);
    /* items: the last two, then by id (§6.5.7, §6.5.8) */
    assert_int_equal(xmpp_pubsub_get_items(f->s, "pubsub.example.com", "n1", 2, NULL, 0,
                                           on_items, &g),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"get\""));
    assert_non_null(strstr(f->out, "<items node=\"n1\" max_items=\"2\"/>"));
    reply(f, "<iq type='result' id='%s' from='pubsub.example.com'><pubsub "
             "xmlns='http://jabber.org/protocol/pubsub'><items node='n1'>"
             "<item id='i1'><entry xmlns='urn:example:e'>one</entry></item>"
             "<item id='i2'><entry xmlns='urn:example:e'>two</entry></item>"
             "</items></pubsub></iq>");
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, XMPP_IQ_RESULT);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.node, "n1");
    assert_string_equal(g.ids, "i1,i2,");
    assert_string_equal(g.payload, "entry:one,entry:two,");
    assert_int_equal(xmpp_pubsub_get_items(f->s, "pubsub.example.com", "n1", 0, ids, 0,
                                           on_items, &g),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<items node=\"n1\"><item id=\"i1\"/><item id=\"i2\"/></items>"));
    reply(f, "<iq type='error' id='%s' from='pubsub.example.com'><error type='cancel'>"
             "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.status, XMPP_IQ_ERROR);
    /* subscribe / unsubscribe with our bare JID (§6.1, §6.2) */
    assert_int_equal(xmpp_pubsub_subscribe(f->s, NULL, "n1", NULL, 0, on_done, &d),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_pubsub_subscribe(f->s, "pubsub.example.com", "n1", NULL, 0, on_done,
                                           &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<subscribe node=\"n1\" jid=\"alice@example.com\"/>"));
    reply(f, "<iq type='result' id='%s' from='pubsub.example.com'/>");
    assert_int_equal(d.calls, 5);
    assert_int_equal(xmpp_pubsub_unsubscribe(f->s, "pubsub.example.com", "n1", NULL, 0, on_done,
                                             &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<unsubscribe node=\"n1\" jid=\"alice@example.com\"/>"));
    reply(f, "<iq type='result' id='%s' from='pubsub.example.com'/>");
    assert_int_equal(d.calls, 6);
    /* delete in the owner namespace (§8.4) */
    assert_int_equal(xmpp_pubsub_delete(f->s, "pubsub.example.com", "n1", 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<pubsub xmlns=\"http://jabber.org/protocol/pubsub#owner\">"
                                   "<delete node=\"n1\"/></pubsub>"));
    /* teardown cancels what is pending: the callback fires once */
    fix_free(f); /* the delete, and the publish answered by evil.example */
    assert_int_equal(d.calls, 8);
    assert_int_equal(d.status, XMPP_IQ_CANCELLED);
}

static void test_not_enabled(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    (void)state;
    assert_int_equal(xmpp_pubsub_create(f->s, NULL, "n", NULL, 0, NULL, NULL), XMPP_ERR_STATE);
    assert_int_equal(xmpp_pep_notify_add(f->s, "n"), XMPP_ERR_STATE);
    assert_int_equal(xmpp_pubsub_add_event_handler(f->s, NULL, NULL, 0,
                                                   (xmpp_pubsub_event_fn)NULL, NULL, NULL),
                     XMPP_ERR_INVALID);
    fix_free(f);
}

/* ---- notifications and their senders */
struct seen {
    int calls;
    char log[1024];
    unsigned long remove_me; /* removes this handler from inside */
};

static void on_event(xmpp_session *s, const xmpp_pubsub_items *ev, void *ud) {
    struct seen *w = ud;
    size_t l = strlen(w->log), i, n = xmpp_pubsub_items_count(ev);
    static const char *const kinds[] = {"items", "retract", "purge", "delete"};
    w->calls++;
    snprintf(w->log + l, sizeof(w->log) - l, "%s/%s/%s[", kinds[xmpp_pubsub_items_kind(ev)],
             xmpp_pubsub_items_from(ev), xmpp_pubsub_items_node(ev));
    for (i = 0; i < n; i++) {
        l = strlen(w->log);
        snprintf(w->log + l, sizeof(w->log) - l, "%s%s", xmpp_pubsub_items_id_at(ev, i),
                 xmpp_pubsub_items_payload_at(ev, i) ? "+" : "");
    }
    l = strlen(w->log);
    snprintf(w->log + l, sizeof(w->log) - l, "] ");
    if (w->remove_me) {
        assert_int_equal(xmpp_pubsub_remove_event_handler(s, w->remove_me), XMPP_OK);
        w->remove_me = 0;
    }
}

static int app_msgs;
static int on_app_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    (void)s;
    (void)st;
    (void)ud;
    app_msgs++;
    return 1;
}

#define EV(from, body)                                                                       \
    "<message " from " to='alice@example.com/r' type='headline'><event "                   \
    "xmlns='http://jabber.org/protocol/pubsub#event'>" body "</event></message>"

static void test_events(void **state) {
    struct fix *f = login_ps();
    struct seen pep, svc, own;
    unsigned long hpep, hsvc, hown;
    (void)state;
    memset(&pep, 0, sizeof(pep));
    memset(&svc, 0, sizeof(svc));
    memset(&own, 0, sizeof(own));
    app_msgs = 0;
    assert_int_equal(xmpp_pubsub_add_event_handler(f->s, NULL, "urn:example:mood", 0, on_event,
                                                   &pep, &hpep),
                     XMPP_OK);
    assert_int_equal(xmpp_pubsub_add_event_handler(f->s, "pubsub.example.com", NULL, 0,
                                                   on_event, &svc, &hsvc),
                     XMPP_OK);
    assert_int_equal(xmpp_pubsub_add_event_handler(f->s, NULL, "storage:x",
                                                   XMPP_PUBSUB_OWN_ONLY, on_event, &own, &hown),
                     XMPP_OK);
    assert_int_equal(xmpp_pubsub_add_event_handler(f->s, "not a jid@@", NULL, 0, on_event, &own,
                                                   NULL),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, on_app_message, NULL,
                                              NULL),
                     XMPP_OK);
    /* PEP from a contact's bare JID: delivered, items and retractions */
    server(f, EV("from='bob@example.com'",
                 "<items node='urn:example:mood'><item id='a'><mood xmlns='urn:example:mood'/>"
                 "</item><item id='b'/><retract id='c'/></items>"));
    assert_string_equal(pep.log, "items/bob@example.com/urn:example:mood[a+b] "
                                 "retract/bob@example.com/urn:example:mood[c] ");
    /* without "from": our own account (RFC 6120 §8.1.2.1) */
    pep.log[0] = '\0';
    server(f, EV("", "<items node='urn:example:mood'><item id='z'/></items>"));
    assert_string_equal(pep.log, "items/alice@example.com/urn:example:mood[z] ");
    /* spoofed: a full JID, even our own or the contact's, is refused, and
     * the stanza does not reach the application's message handler either */
    pep.log[0] = '\0';
    server(f, EV("from='bob@example.com/phone'",
                 "<items node='urn:example:mood'><item id='s'/></items>"));
    server(f, EV("from='alice@example.com/other'",
                 "<items node='urn:example:mood'><item id='s'/></items>"));
    server(f, EV("from='@@bad'", "<items node='urn:example:mood'><item id='s'/></items>"));
    assert_string_equal(pep.log, "");
    assert_int_equal(app_msgs, 0);
    /* a PEP node is not a service: a domain JID is refused */
    server(f, EV("from='example.com'", "<items node='urn:example:mood'><item id='s'/></items>"));
    assert_string_equal(pep.log, "");
    /* another node: not ours, passed on to the application */
    server(f, EV("from='bob@example.com'", "<items node='urn:other'><item id='s'/></items>"));
    assert_int_equal(app_msgs, 1);
    /* a service handler: only that JID */
    server(f, EV("from='pubsub.example.com'",
                 "<purge node='n1'/><delete node='n2'><redirect uri='x'/></delete>"));
    assert_string_equal(svc.log, "purge/pubsub.example.com/n1[] delete/pubsub.example.com/n2[] ");
    svc.log[0] = '\0';
    server(f, EV("from='evil.example'", "<items node='n1'><item id='s'/></items>"));
    server(f, EV("from='pubsub.example.com/x'", "<items node='n1'><item id='s'/></items>"));
    server(f, EV("from='bob@example.com'", "<purge node='n1'/>"));
    assert_string_equal(svc.log, "");
    /* no handler trusts them, none was for that very node: the application
     * sees plain messages */
    assert_int_equal(app_msgs, 4);
    /* private (XEP-0223, ORG-06): only our bare JID or no "from" */
    server(f, EV("from='bob@example.com'", "<items node='storage:x'><item id='s'/></items>"));
    server(f, EV("from='alice@example.com/r'", "<items node='storage:x'><item id='s'/></items>"));
    assert_string_equal(own.log, "");
    server(f, EV("from='alice@example.com'", "<items node='storage:x'><item id='p'/></items>"));
    server(f, EV("from='ALICE@example.com'", "<items node='storage:x'><item id='q'/></items>"));
    server(f, EV("", "<items node='storage:x'><retract id='p'/></items>"));
    assert_string_equal(own.log, "items/alice@example.com/storage:x[p] "
                                 "items/alice@example.com/storage:x[q] "
                                 "retract/alice@example.com/storage:x[p] ");
    /* an error message, and a node-less event, are not notifications */
    own.log[0] = '\0';
    server(f, "<message type='error' from='alice@example.com'><event "
              "xmlns='http://jabber.org/protocol/pubsub#event'><items node='storage:x'>"
              "<item id='e'/></items></event></message>");
    server(f, EV("", "<items><item id='e'/></items>"));
    assert_string_equal(own.log, "");
    /* a handler removing itself from inside: called once */
    pep.remove_me = hpep;
    pep.calls = 0;
    server(f, EV("from='bob@example.com'", "<items node='urn:example:mood'><item id='1'/></items>"));
    server(f, EV("from='bob@example.com'", "<items node='urn:example:mood'><item id='2'/></items>"));
    assert_int_equal(pep.calls, 1);
    assert_int_equal(xmpp_pubsub_remove_event_handler(f->s, hpep), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_pubsub_remove_event_handler(f->s, hsvc), XMPP_OK);
    fix_free(f);
}

/* ---- XEP-0163 +notify in disco and caps */
static void test_notify_caps(void **state) {
    struct fix *f = login_ps();
    char *v0 = NULL, *v1 = NULL, *v2 = NULL;
    (void)state;
    assert_int_equal(xmpp_caps_ver(f->s, &v0), XMPP_OK);
    assert_int_equal(xmpp_pep_notify_add(f->s, ""), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_pep_notify_add(f->s, "urn:xmpp:avatar:metadata"), XMPP_OK);
    assert_int_equal(xmpp_pep_notify_add(f->s, "urn:xmpp:avatar:metadata"), XMPP_OK);
    assert_int_equal(xmpp_session_feature_count(f->s), 1);
    assert_string_equal(xmpp_session_feature_at(f->s, 0), "urn:xmpp:avatar:metadata+notify");
    assert_null(xmpp_session_feature_at(f->s, 1));
    assert_int_equal(xmpp_caps_ver(f->s, &v1), XMPP_OK);
    assert_string_not_equal(v0, v1);
    server(f, "<iq type='get' id='d1' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_non_null(strstr(f->out, "<feature var=\"urn:xmpp:avatar:metadata+notify\"/>"));
    /* the caps node#ver of the new hash is answered too */
    {
        char req[512];
        snprintf(req, sizeof(req),
                 "<iq type='get' id='d2' from='bob@example.com/x'><query "
                 "xmlns='http://jabber.org/protocol/disco#info' node='%s#%s'/></iq>",
                 xmpp_caps_node(f->s), v1);
        take(f);
        server(f, req);
        assert_non_null(strstr(f->out, "type=\"result\""));
        assert_non_null(strstr(f->out, "urn:xmpp:avatar:metadata+notify"));
    }
    /* counted: the first removal keeps it */
    assert_int_equal(xmpp_pep_notify_remove(f->s, "urn:xmpp:avatar:metadata"), XMPP_OK);
    assert_int_equal(xmpp_session_feature_count(f->s), 1);
    assert_int_equal(xmpp_pep_notify_remove(f->s, "urn:xmpp:avatar:metadata"), XMPP_OK);
    assert_int_equal(xmpp_pep_notify_remove(f->s, "urn:xmpp:avatar:metadata"),
                     XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_caps_ver(f->s, &v2), XMPP_OK);
    assert_string_equal(v0, v2);
    assert_int_equal(xmpp_session_add_feature(f->s, "bad\001"), XMPP_ERR_INVALID);
    xmpp_free(f->ctx, v0);
    xmpp_free(f->ctx, v1);
    xmpp_free(f->ctx, v2);
    fix_free(f);
}

/* ---- XEP-0223 */
#define DISCO_REPLY(features)                                                                \
    "<iq type='result' id='%s' from='alice@example.com'><query "                             \
    "xmlns='http://jabber.org/protocol/disco#info'><identity category='pubsub' type='pep'/>" \
    features "</query></iq>"

static void test_publish_private(void **state) {
    struct fix *f = login_ps();
    struct done d;
    xmpp_stanza *payload = NULL;
    static const char *const extra[] = {"pubsub#max_items", "max", NULL};
    (void)state;
    memset(&d, 0, sizeof(d));
    assert_int_equal(xmpp_stanza_new(&payload, f->ctx, "secret", "urn:example:s"), XMPP_OK);
    /* the service lacks publish-options: nothing is published */
    assert_int_equal(xmpp_pubsub_publish_private(f->s, "urn:example:s", "current", payload,
                                                 NULL, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"alice@example.com\""));
    assert_non_null(strstr(f->out, "disco#info"));
    assert_null(strstr(f->out, "<publish"));
    reply(f, DISCO_REPLY("<feature var='http://jabber.org/protocol/pubsub#publish'/>"));
    assert_null(strstr(f->out, "<publish"));
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, XMPP_IQ_ERROR);
    assert_string_equal(d.cond, "unsupported");
    /* a spoofed disco answer (from another account) does not count */
    assert_int_equal(xmpp_pubsub_publish_private(f->s, "urn:example:s", "current", payload,
                                                 extra, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    {
        char id[64], buf[1024];
        last_id(f, id, sizeof(id));
        snprintf(buf, sizeof(buf),
                 "<iq type='result' id='%s' from='mallory@example.com'><query "
                 "xmlns='http://jabber.org/protocol/disco#info'><feature "
                 "var='http://jabber.org/protocol/pubsub#publish-options'/></query></iq>",
                 id);
        server(f, buf);
        assert_null(strstr(f->out, "<publish"));
        assert_int_equal(d.calls, 1);
    }
    reply(f, DISCO_REPLY("<feature var='http://jabber.org/protocol/pubsub#publish-options'/>"));
    assert_non_null(strstr(f->out, "<publish node=\"urn:example:s\"><item id=\"current\">"
                                   "<secret xmlns=\"urn:example:s\"/></item></publish>"));
    assert_non_null(strstr(f->out, "<field var=\"pubsub#persist_items\"><value>true</value>"
                                   "</field><field var=\"pubsub#access_model\"><value>whitelist"
                                   "</value></field><field var=\"pubsub#max_items\"><value>max"
                                   "</value></field>"));
    /* precondition-not-met: reconfigure, then publish again */
    reply(f, "<iq type='error' id='%s'><error type='cancel'><conflict "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><precondition-not-met "
             "xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>");
    assert_int_equal(d.calls, 1);
    assert_non_null(strstr(f->out, "<pubsub xmlns=\"http://jabber.org/protocol/pubsub#owner\">"
                                   "<configure node=\"urn:example:s\"><x xmlns=\"jabber:x:data\" "
                                   "type=\"submit\"><field var=\"FORM_TYPE\" type=\"hidden\">"
                                   "<value>http://jabber.org/protocol/pubsub#node_config"
                                   "</value></field><field var=\"pubsub#persist_items\">"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_non_null(strstr(f->out, "<publish node=\"urn:example:s\">"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 2);
    assert_int_equal(d.status, XMPP_IQ_RESULT);
    /* known now: no second disco; a second precondition-not-met is final */
    assert_int_equal(xmpp_pubsub_publish_private(f->s, "urn:example:s", "current", payload,
                                                 NULL, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_null(strstr(f->out, "disco#info"));
    assert_non_null(strstr(f->out, "<publish node=\"urn:example:s\">"));
    reply(f, "<iq type='error' id='%s'><error type='cancel'><conflict "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><precondition-not-met "
             "xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>");
    assert_non_null(strstr(f->out, "<configure"));
    reply(f, "<iq type='result' id='%s'/>");
    reply(f, "<iq type='error' id='%s'><error type='cancel'><conflict "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><precondition-not-met "
             "xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>");
    assert_int_equal(d.calls, 3);
    assert_int_equal(d.status, XMPP_IQ_ERROR);
    assert_string_equal(d.cond, "precondition-not-met");
    assert_null(strstr(f->out, "<configure"));
    /* pending at teardown: cancelled, once */
    assert_int_equal(xmpp_pubsub_publish_private(f->s, "urn:example:s", NULL, payload, NULL, 0,
                                                 on_done, &d),
                     XMPP_OK);
    xmpp_stanza_unref(payload);
    fix_free(f);
    assert_int_equal(d.calls, 4);
    assert_int_equal(d.status, XMPP_IQ_CANCELLED);
}

/* ---- XEP-0049 */
struct priv_seen {
    int calls;
    xmpp_iq_status status;
    char xml[256];
};

static void on_private(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *el,
                       xmpp_stanza *error, void *ud) {
    struct priv_seen *p = ud;
    (void)s;
    (void)error;
    p->calls++;
    p->status = status;
    p->xml[0] = '\0';
    if (el) {
        char *x = NULL;
        assert_int_equal(xmpp_stanza_serialize(el, NULL, &x, NULL), XMPP_OK);
        snprintf(p->xml, sizeof(p->xml), "%s", x);
        xmpp_free(xmpp_stanza_ctx(el), x);
    }
}

static void test_private(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    struct priv_seen p;
    struct done d;
    xmpp_stanza *el = NULL, *c = NULL;
    (void)state;
    take(f);
    memset(&p, 0, sizeof(p));
    memset(&d, 0, sizeof(d));
    assert_int_equal(xmpp_private_get(f->s, "storage", "jabber:client", 0, on_private, &p),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_private_get(f->s, "storage", "storage:bookmarks", 0, on_private, &p),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"get\""));
    assert_null(strstr(f->out, " to="));
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:private\"><storage "
                                   "xmlns=\"storage:bookmarks\"/></query>"));
    /* from another account: not accepted (ORG-05) */
    reply(f, "<iq type='result' id='%s' from='mallory@example.com'><query "
             "xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference "
             "jid='evil@conf'/></storage></query></iq>");
    assert_int_equal(p.calls, 0);
    reply(f, "<iq type='result' id='%s' from='alice@example.com'><query "
             "xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference "
             "jid='room@conf.example.com' autojoin='true'/></storage></query></iq>");
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.status, XMPP_IQ_RESULT);
    assert_string_equal(p.xml, "<storage xmlns=\"storage:bookmarks\"><conference "
                               "jid=\"room@conf.example.com\" autojoin=\"true\"/></storage>");
    /* a reply holding another namespace: no element */
    assert_int_equal(xmpp_private_get(f->s, "storage", "storage:bookmarks", 0, on_private, &p),
                     XMPP_OK);
    pump(f);
    reply(f, "<iq type='result' id='%s'><query xmlns='jabber:iq:private'><other "
             "xmlns='urn:x'/></query></iq>");
    assert_int_equal(p.calls, 2);
    assert_string_equal(p.xml, "");
    /* set */
    assert_int_equal(xmpp_stanza_new(&el, f->ctx, "prefs", "urn:example:prefs"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(el, "color", NULL, &c), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_text(c, "blue", 4), XMPP_OK);
    assert_int_equal(xmpp_private_set(f->s, el, 0, on_done, &d), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"set\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:private\"><prefs "
                                   "xmlns=\"urn:example:prefs\"><color>blue</color></prefs>"
                                   "</query>"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, XMPP_IQ_RESULT);
    xmpp_stanza_unref(el);
    fix_free(f);
}


/* ---- XEP-0084 */
static void setup_avatar(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_enable_plugin(o, "avatar"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "bookmarks"), XMPP_OK);
}

static struct fix *login_av(void) {
    struct fix *f;
    g_setup = setup_avatar;
    f = login("alice@example.com", "alice@example.com/r");
    g_setup = NULL;
    take(f);
    return f;
}

struct meta_seen {
    int calls;
    char log[512];
};

static void on_meta(xmpp_session *s, const char *from, const char *id, const char *type,
                    size_t bytes, void *ud) {
    struct meta_seen *m = ud;
    size_t l = strlen(m->log);
    (void)s;
    m->calls++;
    snprintf(m->log + l, sizeof(m->log) - l, "%s:%s:%s:%lu ", from, id ? id : "-",
             type ? type : "-", (unsigned long)bytes);
}

struct av_seen {
    int calls, err;
    xmpp_iq_status status;
    char data[64];
};

static void on_avdata(xmpp_session *s, xmpp_iq_status status, int err, const void *data,
                      size_t len, void *ud) {
    struct av_seen *a = ud;
    (void)s;
    a->calls++;
    a->status = status;
    a->err = err;
    a->data[0] = '\0';
    if (data)
        snprintf(a->data, sizeof(a->data), "%.*s", (int)len, (const char *)data);
}

#define SHA1_ABC "a9993e364706816aba3e25717850c26c9cd0d89d"

static void test_avatar(void **state) {
    struct fix *f = login_av();
    struct done d;
    struct meta_seen m;
    struct av_seen a;
    unsigned long h;
    static char big[XMPP_AVATAR_MAX_BYTES + 1];
    (void)state;
    memset(&d, 0, sizeof(d));
    memset(&m, 0, sizeof(m));
    memset(&a, 0, sizeof(a));
    assert_int_equal(xmpp_avatar_publish(f->s, big, sizeof(big), "image/png", 0, 0, 0, on_done,
                                         &d),
                     XMPP_ERR_LIMIT);
    assert_int_equal(xmpp_avatar_publish(f->s, "abc", 3, NULL, 0, 0, 0, on_done, &d),
                     XMPP_ERR_INVALID);
    /* data first (§4.1), id = SHA-1 */
    assert_int_equal(xmpp_avatar_publish(f->s, "abc", 3, "image/png", 16, 16, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<publish node=\"urn:xmpp:avatar:data\"><item id=\"" SHA1_ABC
                                   "\"><data xmlns=\"urn:xmpp:avatar:data\">YWJj</data></item>"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 0);
    /* then the metadata (§4.2) */
    assert_non_null(strstr(f->out, "<publish node=\"urn:xmpp:avatar:metadata\"><item id=\"" SHA1_ABC
                                   "\"><metadata xmlns=\"urn:xmpp:avatar:metadata\"><info "
                                   "bytes=\"3\" id=\"" SHA1_ABC "\" type=\"image/png\" "
                                   "height=\"16\" width=\"16\"/></metadata></item></publish>"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, XMPP_IQ_RESULT);
    /* a failing data publish ends it */
    assert_int_equal(xmpp_avatar_publish(f->s, "abc", 3, "image/png", 0, 0, 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    reply(f, "<iq type='error' id='%s'><error type='cancel'><not-allowed "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert_int_equal(d.calls, 2);
    assert_int_equal(d.status, XMPP_IQ_ERROR);
    assert_null(strstr(f->out, "metadata"));
    /* metadata notifications: the interest, a contact, spoofs, "no avatar" */
    assert_int_equal(xmpp_avatar_watch(f->s, on_meta, &m, &h), XMPP_OK);
    assert_int_equal(xmpp_session_feature_count(f->s), 1);
    assert_string_equal(xmpp_session_feature_at(f->s, 0), "urn:xmpp:avatar:metadata+notify");
    server(f, EV("from='bob@example.com'",
                 "<items node='urn:xmpp:avatar:metadata'><item id='" SHA1_ABC "'><metadata "
                 "xmlns='urn:xmpp:avatar:metadata'><info id='ffff' url='https://x/y' "
                 "bytes='9'/><info bytes='3' id='" SHA1_ABC "' type='image/png'/></metadata>"
                 "</item></items>"));
    server(f, EV("from='bob@example.com/evil'",
                 "<items node='urn:xmpp:avatar:metadata'><item id='1'><metadata "
                 "xmlns='urn:xmpp:avatar:metadata'><info bytes='3' id='1'/></metadata>"
                 "</item></items>"));
    server(f, EV("from='bob@example.com'",
                 "<items node='urn:xmpp:avatar:metadata'><item id='current'><metadata "
                 "xmlns='urn:xmpp:avatar:metadata'/></item></items>"));
    assert_string_equal(m.log, "bob@example.com:" SHA1_ABC ":image/png:3 "
                               "bob@example.com:-:-:0 ");
    assert_int_equal(xmpp_avatar_unwatch(f->s, h), XMPP_OK);
    assert_int_equal(xmpp_session_feature_count(f->s), 0);
    /* fetch by id, hash checked (§4.3) */
    assert_int_equal(xmpp_avatar_fetch(f->s, "bob@example.com", "nothex", 0, on_avdata, &a),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_avatar_fetch(f->s, "bob@example.com", SHA1_ABC, 0, on_avdata, &a),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"bob@example.com\""));
    assert_non_null(strstr(f->out, "<items node=\"urn:xmpp:avatar:data\"><item id=\"" SHA1_ABC
                                   "\"/></items>"));
    reply(f, "<iq type='result' id='%s' from='bob@example.com'><pubsub "
             "xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'>"
             "<item id='" SHA1_ABC "'><data xmlns='urn:xmpp:avatar:data'>YW\nJj</data></item>"
             "</items></pubsub></iq>");
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.err, XMPP_OK);
    assert_string_equal(a.data, "abc");
    /* data that does not hash to the id, and bad base64 */
    assert_int_equal(xmpp_avatar_fetch(f->s, "bob@example.com", SHA1_ABC, 0, on_avdata, &a),
                     XMPP_OK);
    pump(f);
    reply(f, "<iq type='result' id='%s' from='bob@example.com'><pubsub "
             "xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'>"
             "<item id='" SHA1_ABC "'><data xmlns='urn:xmpp:avatar:data'>YWJk</data></item>"
             "</items></pubsub></iq>");
    assert_int_equal(a.calls, 2);
    assert_int_equal(a.status, XMPP_IQ_RESULT);
    assert_int_equal(a.err, XMPP_ERR_INVALID);
    assert_string_equal(a.data, "");
    assert_int_equal(xmpp_avatar_fetch(f->s, "bob@example.com", SHA1_ABC, 0, on_avdata, &a),
                     XMPP_OK);
    pump(f);
    reply(f, "<iq type='result' id='%s' from='bob@example.com'><pubsub "
             "xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'>"
             "<item id='" SHA1_ABC "'><data xmlns='urn:xmpp:avatar:data'>Y*Jj</data></item>"
             "</items></pubsub></iq>");
    assert_int_equal(a.calls, 3);
    assert_int_equal(a.err, XMPP_ERR_INVALID);
    /* no such item */
    assert_int_equal(xmpp_avatar_fetch(f->s, "bob@example.com", SHA1_ABC, 0, on_avdata, &a),
                     XMPP_OK);
    pump(f);
    reply(f, "<iq type='result' id='%s' from='bob@example.com'><pubsub "
             "xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'/>"
             "</pubsub></iq>");
    assert_int_equal(a.calls, 4);
    assert_int_equal(a.err, XMPP_ERR_NOT_FOUND);
    fix_free(f);
}

/* ---- XEP-0402 and the XEP-0048 fallback */
struct bm_seen {
    int calls;
    xmpp_iq_status status;
    char log[512];
};

static void on_bmlist(xmpp_session *s, xmpp_iq_status status, const xmpp_bookmark *list,
                      size_t n, xmpp_stanza *error, void *ud) {
    struct bm_seen *b = ud;
    size_t i, l;
    (void)s;
    (void)error;
    b->calls++;
    b->status = status;
    b->log[0] = '\0';
    for (i = 0; i < n; i++) {
        l = strlen(b->log);
        snprintf(b->log + l, sizeof(b->log) - l, "%s|%s|%s|%s|%d ", list[i].jid,
                 list[i].name ? list[i].name : "-", list[i].nick ? list[i].nick : "-",
                 list[i].password ? list[i].password : "-", list[i].autojoin);
    }
}

static void on_bmev(xmpp_session *s, const char *jid, const xmpp_bookmark *b, void *ud) {
    struct bm_seen *w = ud;
    size_t l = strlen(w->log);
    (void)s;
    w->calls++;
    snprintf(w->log + l, sizeof(w->log) - l, "%s:%s ", jid, b ? (b->nick ? b->nick : "-") : "removed");
}

static void test_bookmarks_pep(void **state) {
    struct fix *f = login_av();
    struct bm_seen l, ev;
    struct done d;
    xmpp_bookmark b;
    (void)state;
    memset(&l, 0, sizeof(l));
    memset(&ev, 0, sizeof(ev));
    memset(&d, 0, sizeof(d));
    assert_int_equal(xmpp_bookmarks_get_storage(f->s), XMPP_BOOKMARKS_UNKNOWN);
    assert_int_equal(xmpp_bookmarks_watch(f->s, on_bmev, &ev, NULL), XMPP_OK);
    /* the storage rule: #compat on our account */
    assert_int_equal(xmpp_bookmarks_list(f->s, 0, on_bmlist, &l), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"alice@example.com\""));
    assert_non_null(strstr(f->out, "disco#info"));
    reply(f, DISCO_REPLY("<feature var='urn:xmpp:bookmarks:1#compat'/>"
                         "<feature var='http://jabber.org/protocol/pubsub#publish-options'/>"));
    assert_int_equal(xmpp_bookmarks_get_storage(f->s), XMPP_BOOKMARKS_PEP);
    assert_non_null(strstr(f->out, "<items node=\"urn:xmpp:bookmarks:1\"/>"));
    reply(f, "<iq type='result' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
             "<items node='urn:xmpp:bookmarks:1'>"
             "<item id='a@conf.example.com'><conference xmlns='urn:xmpp:bookmarks:1' "
             "name='A' autojoin='true'><nick>al</nick><password>pw</password></conference>"
             "</item><item id='b@conf.example.com'><conference "
             "xmlns='urn:xmpp:bookmarks:1'/></item>"
             "<item id='c@conf.example.com'><other xmlns='urn:x'/></item>"
             "</items></pubsub></iq>");
    assert_int_equal(l.calls, 1);
    assert_string_equal(l.log, "a@conf.example.com|A|al|pw|1 b@conf.example.com|-|-|-|0 ");
    /* no node yet: an empty list */
    assert_int_equal(xmpp_bookmarks_list(f->s, 0, on_bmlist, &l), XMPP_OK);
    pump(f);
    reply(f, "<iq type='error' id='%s'><error type='cancel'><item-not-found "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert_int_equal(l.calls, 2);
    assert_int_equal(l.status, XMPP_IQ_RESULT);
    assert_string_equal(l.log, "");
    /* add: a private publish, item id = room JID */
    memset(&b, 0, sizeof(b));
    b.jid = "room@conf.example.com/nick";
    assert_int_equal(xmpp_bookmarks_add(f->s, &b, 0, on_done, &d), XMPP_ERR_INVALID);
    b.jid = "room@conf.example.com";
    b.nick = "Al";
    b.autojoin = 1;
    assert_int_equal(xmpp_bookmarks_add(f->s, &b, 0, on_done, &d), XMPP_OK);
    pump(f);
    reply(f, DISCO_REPLY("<feature var='http://jabber.org/protocol/pubsub#publish-options'/>"));
    assert_non_null(strstr(f->out, "<publish node=\"urn:xmpp:bookmarks:1\"><item "
                                   "id=\"room@conf.example.com\"><conference "
                                   "xmlns=\"urn:xmpp:bookmarks:1\" autojoin=\"true\"><nick>Al"
                                   "</nick></conference></item></publish>"));
    assert_non_null(strstr(f->out, "<field var=\"pubsub#max_items\"><value>max</value></field>"
                                   "<field var=\"pubsub#send_last_published_item\"><value>never"
                                   "</value></field>"));
    assert_non_null(strstr(f->out, "pubsub#access_model\"><value>whitelist"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, XMPP_IQ_RESULT);
    /* remove: a retraction with notify */
    assert_int_equal(xmpp_bookmarks_remove(f->s, "room@conf.example.com", 0, on_done, &d),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<retract node=\"urn:xmpp:bookmarks:1\" notify=\"true\">"
                                   "<item id=\"room@conf.example.com\"/></retract>"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 2);
    /* notifications: from our bare JID only (ORG-06) */
    server(f, EV("from='mallory@example.com'",
                 "<items node='urn:xmpp:bookmarks:1'><item id='evil@conf.example.com'>"
                 "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item></items>"));
    server(f, EV("from='alice@example.com/other'",
                 "<items node='urn:xmpp:bookmarks:1'><item id='evil@conf.example.com'>"
                 "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item></items>"));
    assert_int_equal(ev.calls, 0);
    server(f, EV("from='alice@example.com'",
                 "<items node='urn:xmpp:bookmarks:1'><item id='x@conf.example.com'>"
                 "<conference xmlns='urn:xmpp:bookmarks:1'><nick>N</nick></conference></item>"
                 "</items>"));
    server(f, EV("", "<items node='urn:xmpp:bookmarks:1'><retract id='x@conf.example.com'/>"
                     "</items>"));
    assert_string_equal(ev.log, "x@conf.example.com:N x@conf.example.com:removed ");
    /* pending at teardown: cancelled once */
    assert_int_equal(xmpp_bookmarks_list(f->s, 0, on_bmlist, &l), XMPP_OK);
    fix_free(f);
    assert_int_equal(l.calls, 3);
    assert_int_equal(l.status, XMPP_IQ_CANCELLED);
}

static void test_bookmarks_legacy(void **state) {
    struct fix *f = login_av();
    struct bm_seen l;
    struct done d;
    xmpp_bookmark b;
    (void)state;
    memset(&l, 0, sizeof(l));
    memset(&d, 0, sizeof(d));
    assert_int_equal(xmpp_bookmarks_list(f->s, 0, on_bmlist, &l), XMPP_OK);
    pump(f);
    reply(f, DISCO_REPLY("<feature var='http://jabber.org/protocol/pubsub#publish-options'/>"));
    assert_int_equal(xmpp_bookmarks_get_storage(f->s), XMPP_BOOKMARKS_LEGACY);
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:private\"><storage "
                                   "xmlns=\"storage:bookmarks\"/></query>"));
    reply(f, "<iq type='result' id='%s'><query xmlns='jabber:iq:private'><storage "
             "xmlns='storage:bookmarks'><conference jid='a@conf.example.com' name='A' "
             "autojoin='1'><nick>al</nick></conference><url url='https://x' name='x'/>"
             "<conference jid='b@conf.example.com'/></storage></query></iq>");
    assert_int_equal(l.calls, 1);
    assert_string_equal(l.log, "a@conf.example.com|A|al|-|1 b@conf.example.com|-|-|-|0 ");
    /* add replaces the entry of the same room, keeps the rest */
    memset(&b, 0, sizeof(b));
    b.jid = "a@conf.example.com";
    b.nick = "new";
    b.password = "s3";
    assert_int_equal(xmpp_bookmarks_add(f->s, &b, 0, on_done, &d), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"get\""));
    reply(f, "<iq type='result' id='%s'><query xmlns='jabber:iq:private'><storage "
             "xmlns='storage:bookmarks'><conference jid='a@conf.example.com' name='A' "
             "autojoin='1'><nick>al</nick></conference><url url='https://x' name='x'/>"
             "<conference jid='b@conf.example.com'/></storage></query></iq>");
    assert_non_null(strstr(f->out, "type=\"set\""));
    assert_non_null(strstr(f->out, "<storage xmlns=\"storage:bookmarks\"><url url=\"https://x\" "
                                   "name=\"x\"/><conference jid=\"b@conf.example.com\"/>"
                                   "<conference jid=\"a@conf.example.com\" autojoin=\"false\">"
                                   "<nick>new</nick><password>s3</password></conference>"
                                   "</storage>"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, XMPP_IQ_RESULT);
    /* remove from an empty storage: written back empty */
    assert_int_equal(xmpp_bookmarks_remove(f->s, "b@conf.example.com", 0, on_done, &d), XMPP_OK);
    pump(f);
    reply(f, "<iq type='result' id='%s'><query xmlns='jabber:iq:private'/></iq>");
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:private\"><storage "
                                   "xmlns=\"storage:bookmarks\"/></query>"));
    reply(f, "<iq type='result' id='%s'/>");
    assert_int_equal(d.calls, 2);
    fix_free(f);
}

/* ---- allocation-failure torture: login, notifications, private publish
 * with reconfiguration, bookmarks, avatar fetch; every allocation fails in
 * turn: no leak, no crash, and the clean run does everything. */
struct tort {
    xmpp_session *s;
    char out[16384];
    size_t len;
    int events;
};

static void t_pump(struct tort *t) {
    const void *d;
    size_t n;
    while (xmpp_session_drain(t->s, &d, &n) == XMPP_OK && n > 0) {
        if (t->len + n >= sizeof(t->out))
            t->len = 0; /* keep the tail only */
        memcpy(t->out + t->len, d, n);
        t->len += n;
        t->out[t->len] = '\0';
        if (xmpp_session_consume(t->s, n) != XMPP_OK)
            break;
    }
}

static int t_feed(struct tort *t, const char *bytes) {
    int rc = xmpp_session_recv(t->s, bytes, strlen(bytes), 1000);
    t_pump(t);
    return rc;
}

/* Answers the last iq written with fmt (one %s for the id). */
static int t_reply(struct tort *t, const char *fmt) {
    char buf[2048], id[64];
    const char *iq = NULL, *p = t->out, *at = strstr(fmt, "%s"), *q;
    while ((p = strstr(p, "<iq ")) != NULL)
        iq = p++;
    if (iq == NULL || (q = strstr(iq, " id=\"")) == NULL || strchr(q + 5, '"') == NULL)
        return XMPP_ERR_NOT_FOUND;
    snprintf(id, sizeof(id), "%.*s", (int)(strchr(q + 5, '"') - q - 5), q + 5);
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - fmt), fmt, id, at + 2);
    t->len = 0;
    t->out[0] = '\0';
    return t_feed(t, buf);
}

static void t_event(xmpp_session *s, const xmpp_pubsub_items *ev, void *ud) {
    (void)s;
    (void)ev;
    ((struct tort *)ud)->events++;
}

static void t_meta(xmpp_session *s, const char *from, const char *id, const char *type,
                   size_t bytes, void *ud) {
    (void)s;
    (void)from;
    (void)type;
    (void)bytes;
    if (id)
        ((struct tort *)ud)->events++;
}

static void t_bm(xmpp_session *s, const char *jid, const xmpp_bookmark *b, void *ud) {
    (void)s;
    (void)jid;
    if (b && b->nick)
        ((struct tort *)ud)->events++;
}

static void t_done(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *r, void *ud) {
    (void)s;
    (void)r;
    if (st == XMPP_IQ_RESULT)
        ((struct tort *)ud)->events++;
}

static void t_list(xmpp_session *s, xmpp_iq_status st, const xmpp_bookmark *l, size_t n,
                   xmpp_stanza *e, void *ud) {
    (void)s;
    (void)e;
    if (st == XMPP_IQ_RESULT && n == 1 && l[0].nick)
        ((struct tort *)ud)->events++;
}

static void t_av(xmpp_session *s, xmpp_iq_status st, int err, const void *d, size_t n,
                 void *ud) {
    (void)s;
    (void)d;
    (void)n;
    if (st == XMPP_IQ_RESULT && err == XMPP_OK)
        ((struct tort *)ud)->events++;
}

#define T_OK(x)                                                                              \
    do {                                                                                     \
        if ((rc = (x)) < 0)                                                                  \
            goto out;                                                                        \
    } while (0)

static int tort_scenario(xmpp_ctx *ctx, int *events) {
    static struct tort t;
    xmpp_session_options *o = NULL;
    xmpp_stanza *pl = NULL;
    int rc;
    memset(&t, 0, sizeof(t));
    T_OK(xmpp_session_options_new(&o, ctx));
    T_OK(xmpp_session_options_set_jid(o, "alice@example.com"));
    T_OK(xmpp_session_options_set_password(o, "secret"));
    T_OK(xmpp_session_options_allow_plaintext(o, 1));
    T_OK(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE));
    T_OK(xmpp_session_options_set_stream_management(o, XMPP_SM_OFF));
    T_OK(xmpp_session_options_enable_plugin(o, "avatar"));
    T_OK(xmpp_session_options_enable_plugin(o, "bookmarks"));
    T_OK(xmpp_session_new(&t.s, ctx, o));
    T_OK(xmpp_session_start(t.s, 1000));
    t_pump(&t);
    T_OK(t_feed(&t, HDR FEAT_PLAIN));
    T_OK(t_feed(&t, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
    T_OK(t_feed(&t, HDR FEAT_BIND));
    T_OK(t_reply(&t, "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                     "<jid>alice@example.com/r</jid></bind></iq>"));
    if (xmpp_session_get_state(t.s) != XMPP_STATE_READY) {
        rc = XMPP_ERR_STATE;
        goto out;
    }
    T_OK(xmpp_pubsub_add_event_handler(t.s, NULL, "urn:example:n", 0, t_event, &t, NULL));
    T_OK(xmpp_avatar_watch(t.s, t_meta, &t, NULL));
    T_OK(xmpp_bookmarks_watch(t.s, t_bm, &t, NULL));
    T_OK(t_feed(&t, EV("from='bob@example.com'", "<items node='urn:example:n'><item id='a'>"
                                                 "<x xmlns='urn:x'/></item><retract id='b'/>"
                                                 "</items>")));
    T_OK(t_feed(&t, EV("from='bob@example.com'",
                       "<items node='urn:xmpp:avatar:metadata'><item id='" SHA1_ABC
                       "'><metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='3' id='" SHA1_ABC
                       "' type='image/png'/></metadata></item></items>")));
    T_OK(t_feed(&t, EV("", "<items node='urn:xmpp:bookmarks:1'><item id='r@c.example.com'>"
                           "<conference xmlns='urn:xmpp:bookmarks:1'><nick>N</nick>"
                           "</conference></item></items>")));
    T_OK(xmpp_stanza_new(&pl, ctx, "secret", "urn:example:s"));
    T_OK(xmpp_pubsub_publish_private(t.s, "urn:example:s", "current", pl, NULL, 0, t_done, &t));
    t_pump(&t);
    T_OK(t_reply(&t, DISCO_REPLY("<feature var='http://jabber.org/protocol/pubsub#publish-options'/>"
                                 "<feature var='urn:xmpp:bookmarks:1#compat'/>")));
    T_OK(t_reply(&t, "<iq type='error' id='%s'><error type='cancel'><conflict "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><precondition-not-met "
                     "xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>"));
    T_OK(t_reply(&t, "<iq type='result' id='%s'/>"));
    T_OK(t_reply(&t, "<iq type='result' id='%s'/>"));
    T_OK(xmpp_bookmarks_list(t.s, 0, t_list, &t));
    t_pump(&t);
    T_OK(t_reply(&t, DISCO_REPLY("<feature var='urn:xmpp:bookmarks:1#compat'/>")));
    T_OK(t_reply(&t, "<iq type='result' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                     "<items node='urn:xmpp:bookmarks:1'><item id='r@c.example.com'><conference "
                     "xmlns='urn:xmpp:bookmarks:1' autojoin='true'><nick>N</nick></conference>"
                     "</item></items></pubsub></iq>"));
    T_OK(xmpp_avatar_fetch(t.s, "bob@example.com", SHA1_ABC, 0, t_av, &t));
    t_pump(&t);
    T_OK(t_reply(&t, "<iq type='result' id='%s' from='bob@example.com'><pubsub "
                     "xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'>"
                     "<item id='" SHA1_ABC "'><data xmlns='urn:xmpp:avatar:data'>YWJj</data>"
                     "</item></items></pubsub></iq>"));
    rc = XMPP_OK;
out:
    *events = t.events;
    xmpp_stanza_unref(pl);
    xmpp_session_free(t.s);
    xmpp_session_options_free(o);
    return rc;
}

static void test_torture(void **state) {
    long n;
    (void)state;
    for (n = 0;; n++) {
        th_alloc st;
        xmpp_ctx *ctx;
        int rc, events = 0;
        memset(&st, 0, sizeof(st));
        st.fail_at = -1;
        ctx = th_ctx_new(&st);
        assert_non_null(ctx);
        th_alloc_reset(&st, n);
        rc = tort_scenario(ctx, &events);
        if (st.live != 0)
            fail_msg("allocation failure at %ld: %ld block(s) leaked", n, st.live);
        st.live = 1;
        xmpp_ctx_free(ctx);
        if (!st.failed) {
            /* the clean run: 2 pubsub events, metadata, bookmark, private
             * publish, bookmark list, avatar data */
            assert_int_equal(rc, XMPP_OK);
            assert_int_equal(events, 7);
            print_message("torture: %ld allocations, each failed in turn\n", n);
            break;
        }
        assert_true(n < 100000);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),     cmocka_unit_test(test_not_enabled),
        cmocka_unit_test(test_events),       cmocka_unit_test(test_notify_caps),
        cmocka_unit_test(test_publish_private), cmocka_unit_test(test_private),
        cmocka_unit_test(test_avatar),       cmocka_unit_test(test_bookmarks_pep),
        cmocka_unit_test(test_bookmarks_legacy), cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
