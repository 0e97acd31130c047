/* Roster (RFC 6121 §2, with versioning §2.6), presence and subscriptions
 * (RFC 6121 §3-4), XEP-0191 blocking and XEP-0077 password change and
 * cancellation, driven by scripted server bytes as in test_plugin.c.
 * Sender checks: spoofed roster and block list pushes (SECURITY ORG-02,
 * scenario 41) are answered with service-unavailable and change nothing. */
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
#include <xmpp/xep/blocking.h>
#include <xmpp/xep/presence.h>
#include <xmpp/xep/register.h>
#include <xmpp/xep/roster.h>

#include "testhelp.h"
#include "transcript.h"

/* ---- tests */
#define FEAT_BIND_VER                                                                        \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"                      \
    "<ver xmlns='urn:xmpp:features:rosterver'/>"                                             \
    "<sub xmlns='urn:xmpp:features:pre-approval'/></stream:features>"

/* The id of the last IQ the client wrote. */
static void last_id(struct fix *f, char *buf, size_t size) {
    const char *id = NULL, *p = f->out;
    while ((p = strstr(p, " id=\"")) != NULL)
        id = ++p;
    assert_non_null(id);
    snprintf(buf, size, "%.*s", (int)(strchr(id + 4, '"') - id - 4), id + 4);
}

/* Answers the last IQ with a result carrying `payload`. */
static void reply(struct fix *f, const char *from, const char *payload) {
    char id[64], buf[8192];
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s'%s%s%s>%s</iq>", id,
             from ? " from='" : "", from ? from : "", from ? "'" : "", payload);
    server(f, buf);
}

struct rec {
    char log[2048];
    int fetch_calls, unchanged, iq_calls;
    xmpp_iq_status status;
};

static void rec_add(struct rec *r, const char *what, const char *jid) {
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof(r->log) - n, "%s:%s ", what, jid);
}

static void on_change(xmpp_session *s, xmpp_roster_change ch, const xmpp_roster_item *it,
                      void *ud) {
    static const char *const names[] = {"add", "upd", "del"};
    (void)s;
    rec_add(ud, names[ch], xmpp_roster_item_jid(it));
}

static void on_fetch(xmpp_session *s, xmpp_iq_status st, int unchanged, void *ud) {
    struct rec *r = ud;
    (void)s;
    r->fetch_calls++;
    r->status = st;
    r->unchanged = unchanged;
}

static void on_iq_done(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    struct rec *r = ud;
    (void)s;
    (void)reply;
    r->iq_calls++;
    r->status = st;
}

static struct fix *roster_login(const char *features, struct rec *r) {
    struct fix *f = login_with("alice@example.com", "alice@example.com/r", features);
    assert_int_equal(f->ready, 1);
    take(f);
    memset(r, 0, sizeof(*r));
    assert_int_equal(xmpp_session_enable_plugin(f->s, "roster"), XMPP_OK);
    assert_int_equal(xmpp_roster_set_change_callback(f->s, on_change, r), XMPP_OK);
    return f;
}

#define ROSTER2                                                                              \
    "<query xmlns='jabber:iq:roster' ver='v7'>"                                              \
    "<item jid='Bob@Example.com' name='Bob' subscription='both'><group>Friends</group>"     \
    "<group>Work</group><group>Friends</group></item>"                                       \
    "<item jid='carol@example.com' subscription='none' ask='subscribe'/>"                    \
    "<item jid='not a jid@@' subscription='both'/></query>"

static void test_roster_fetch(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    const xmpp_roster_item *it;
    (void)state;
    /* a stored version is not sent: the server did not offer versioning */
    assert_int_equal(xmpp_roster_set_version(f->s, "v1"), XMPP_OK);
    assert_int_equal(xmpp_roster_fetch(f->s, 0, on_fetch, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"get\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:roster\"/>"));
    reply(f, NULL, ROSTER2);
    assert_int_equal(r.fetch_calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(r.unchanged, 0);
    assert_string_equal(r.log, "add:bob@example.com add:carol@example.com ");
    assert_int_equal(xmpp_roster_count(f->s), 2);
    assert_string_equal(xmpp_roster_version(f->s), "v7");
    it = xmpp_roster_find(f->s, "BOB@example.com/phone");
    assert_non_null(it);
    assert_ptr_equal(it, xmpp_roster_item_at(f->s, 0));
    assert_string_equal(xmpp_roster_item_name(it), "Bob");
    assert_int_equal(xmpp_roster_item_subscription(it), XMPP_SUBSCRIPTION_BOTH);
    assert_int_equal(xmpp_roster_item_ask(it), 0);
    assert_int_equal(xmpp_roster_item_group_count(it), 2); /* duplicate collapsed */
    assert_string_equal(xmpp_roster_item_group_at(it, 0), "Friends");
    assert_string_equal(xmpp_roster_item_group_at(it, 1), "Work");
    assert_null(xmpp_roster_item_group_at(it, 2));
    it = xmpp_roster_item_at(f->s, 1);
    assert_null(xmpp_roster_item_name(it));
    assert_int_equal(xmpp_roster_item_ask(it), 1);
    assert_string_equal(xmpp_roster_subscription_name(xmpp_roster_item_subscription(it)), "none");
    assert_null(xmpp_roster_item_at(f->s, 2));
    /* a reply from someone else is not the answer (ORG-05) */
    assert_int_equal(xmpp_roster_fetch(f->s, 0, on_fetch, &r), XMPP_OK);
    pump(f);
    reply(f, "mallory@evil.example", "<query xmlns='jabber:iq:roster'/>");
    assert_int_equal(r.fetch_calls, 1);
    assert_int_equal(xmpp_roster_count(f->s), 2);
    /* pending requests complete (cancelled) when the session goes */
    fix_free(f);
    assert_int_equal(r.fetch_calls, 2);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
}

static void test_roster_versioning(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND_VER, &r);
    const char *groups[] = {"Family"};
    (void)state;
    assert_int_equal(xmpp_roster_load_item(f->s, "bob@example.com", "Bob",
                                           XMPP_SUBSCRIPTION_BOTH, 0, groups, 1),
                     XMPP_OK);
    assert_int_equal(xmpp_roster_load_item(f->s, "dave@example.com", NULL,
                                           XMPP_SUBSCRIPTION_TO, 0, NULL, 0),
                     XMPP_OK);
    assert_int_equal(xmpp_roster_load_item(f->s, "@bad", NULL, XMPP_SUBSCRIPTION_TO, 0, NULL, 0),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_roster_set_version(f->s, "v1"), XMPP_OK);
    assert_string_equal(r.log, ""); /* loading is silent */
    /* the stored version goes out; an empty result keeps the roster */
    assert_int_equal(xmpp_roster_fetch(f->s, 0, on_fetch, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:roster\" ver=\"v1\"/>"));
    reply(f, NULL, "");
    assert_int_equal(r.fetch_calls, 1);
    assert_int_equal(r.unchanged, 1);
    assert_int_equal(xmpp_roster_count(f->s), 2);
    assert_string_equal(xmpp_roster_version(f->s), "v1");
    assert_string_equal(r.log, "");
    /* a full roster replaces it: dave gone, bob changed, carol new */
    assert_int_equal(xmpp_roster_fetch(f->s, 0, on_fetch, &r), XMPP_OK);
    pump(f);
    reply(f, NULL, ROSTER2);
    assert_int_equal(r.unchanged, 0);
    assert_string_equal(r.log, "upd:bob@example.com add:carol@example.com del:dave@example.com ");
    assert_int_equal(xmpp_roster_count(f->s), 2);
    assert_string_equal(xmpp_roster_version(f->s), "v7");
    assert_true(xmpp_presence_preapproval_offered(f->s));
    fix_free(f);
}

static void push(struct fix *f, const char *from, const char *items) {
    char buf[10240];
    take(f);
    snprintf(buf, sizeof(buf),
             "<iq type='set' id='push1'%s%s%s><query xmlns='jabber:iq:roster' ver='v9'>%s"
             "</query></iq>",
             from ? " from='" : "", from ? from : "", from ? "'" : "", items);
    server(f, buf);
}

static void test_roster_push(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    (void)state;
    /* no 'from': from the account */
    push(f, NULL, "<item jid='bob@example.com' name='B'/>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_non_null(strstr(f->out, "id=\"push1\""));
    assert_string_equal(r.log, "add:bob@example.com ");
    assert_string_equal(xmpp_roster_version(f->s), "v9");
    /* from the bare JID (another case): accepted */
    r.log[0] = '\0';
    push(f, "ALICE@example.com", "<item jid='bob@example.com' name='Bobby' subscription='to'/>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_string_equal(r.log, "upd:bob@example.com ");
    assert_string_equal(xmpp_roster_item_name(xmpp_roster_find(f->s, "bob@example.com")),
                        "Bobby");
    /* the same item again changes nothing */
    r.log[0] = '\0';
    push(f, NULL, "<item jid='bob@example.com' name='Bobby' subscription='to'/>");
    assert_string_equal(r.log, "");
    fix_free(f);
}

static void test_roster_push_spoofed(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    static const char *const spoofers[] = {"mallory@evil.example", "alice@example.com/r",
                                           "alice@example.com/other", "example.com",
                                           "bob@example.com", "alice@evil.example", "@@"};
    size_t i;
    (void)state;
    push(f, NULL, "<item jid='bob@example.com' subscription='both'/>");
    r.log[0] = '\0';
    for (i = 0; i < sizeof(spoofers) / sizeof(spoofers[0]); i++) {
        push(f, spoofers[i], "<item jid='bob@example.com' subscription='remove'/>");
        assert_non_null(strstr(f->out, "type=\"error\""));
        assert_non_null(strstr(f->out, "<service-unavailable"));
        push(f, spoofers[i], "<item jid='mallory@evil.example' subscription='both'/>");
        assert_non_null(strstr(f->out, "<service-unavailable"));
    }
    /* CVE-2014-0364 family: the roster is unchanged, nobody was told */
    assert_string_equal(r.log, "");
    assert_int_equal(xmpp_roster_count(f->s), 1);
    assert_null(xmpp_roster_find(f->s, "mallory@evil.example"));
    assert_int_equal(xmpp_roster_item_subscription(xmpp_roster_find(f->s, "bob@example.com")),
                     XMPP_SUBSCRIPTION_BOTH);
    assert_string_equal(xmpp_roster_version(f->s), "v9");
    /* two items, no item, a bad JID: bad-request, nothing applied */
    push(f, NULL, "<item jid='x@example.com'/><item jid='y@example.com'/>");
    assert_non_null(strstr(f->out, "<bad-request"));
    push(f, NULL, "");
    assert_non_null(strstr(f->out, "<bad-request"));
    push(f, NULL, "<item jid='a@b@c'/>");
    assert_non_null(strstr(f->out, "<bad-request"));
    assert_string_equal(r.log, "");
    /* bounded: at most XMPP_ROSTER_MAX_GROUPS groups are kept */
    {
        static char items[8192];
        size_t n = 0;
        int g;
        n += (size_t)snprintf(items + n, sizeof(items) - n, "<item jid='g@example.com'>");
        for (g = 0; g < XMPP_ROSTER_MAX_GROUPS + 10; g++)
            n += (size_t)snprintf(items + n, sizeof(items) - n, "<group>g%d</group>", g);
        snprintf(items + n, sizeof(items) - n, "</item>");
        push(f, NULL, items);
        assert_non_null(strstr(f->out, "type=\"result\""));
        assert_int_equal(xmpp_roster_item_group_count(xmpp_roster_find(f->s, "g@example.com")),
                         XMPP_ROSTER_MAX_GROUPS);
        push(f, NULL, "<item jid='g@example.com' subscription='remove'/>");
        r.log[0] = '\0';
    }
    /* a legitimate removal */
    push(f, NULL, "<item jid='bob@example.com' subscription='remove'/>");
    assert_string_equal(r.log, "del:bob@example.com ");
    assert_int_equal(xmpp_roster_count(f->s), 0);
    fix_free(f);
}

static void test_roster_edit(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    const char *groups[] = {"Friends", "", "A<&>"};
    (void)state;
    assert_int_equal(xmpp_roster_set_item(f->s, "bob@example.com/x", "Bob", groups, 3, 0,
                                          on_iq_done, &r),
                     XMPP_ERR_INVALID); /* items are bare JIDs */
    assert_int_equal(xmpp_roster_set_item(f->s, "bob@example.com", "Bob", groups, 3, 0,
                                          on_iq_done, &r),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "type=\"set\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:roster\"><item jid=\"bob@example.com\" "
                                   "name=\"Bob\"><group>Friends</group><group>A&lt;&amp;&gt;"
                                   "</group></item></query>"));
    reply(f, NULL, "");
    assert_int_equal(r.iq_calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(xmpp_roster_remove_item(f->s, "bob@example.com", 0, on_iq_done, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<item jid=\"bob@example.com\" subscription=\"remove\"/>"));
    fix_free(f);
    assert_int_equal(r.iq_calls, 2);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
}

/* ---- blocking */
static void on_block(xmpp_session *s, int blocked, const char *jid, void *ud) {
    (void)s;
    rec_add(ud, blocked ? "block" : "unblock", jid ? jid : "*");
}

static void block_push(struct fix *f, const char *from, const char *body) {
    char buf[2048];
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='set' id='bp'%s%s%s>%s</iq>", from ? " from='" : "",
             from ? from : "", from ? "'" : "", body);
    server(f, buf);
}

static void test_blocking(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    const char *jids[] = {"mallory@evil.example", "evil.example"};
    (void)state;
    assert_int_equal(xmpp_blocking_fetch(f->s, 0, NULL, NULL), XMPP_ERR_STATE);
    assert_int_equal(xmpp_session_enable_plugin(f->s, "blocking"), XMPP_OK);
    assert_int_equal(xmpp_blocking_set_change_callback(f->s, on_block, &r), XMPP_OK);
    assert_int_equal(xmpp_blocking_fetch(f->s, 0, on_iq_done, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<blocklist xmlns=\"urn:xmpp:blocking\"/>"));
    reply(f, NULL,
          "<blocklist xmlns='urn:xmpp:blocking'><item jid='Romeo@Montague.example'/>"
          "<item jid='x@@y'/><item jid='iago@shakespeare.example/r'/></blocklist>");
    assert_int_equal(r.iq_calls, 1);
    assert_string_equal(r.log, "block:romeo@montague.example block:iago@shakespeare.example/r ");
    assert_int_equal(xmpp_blocking_count(f->s), 2);
    assert_true(xmpp_blocking_is_blocked(f->s, "romeo@MONTAGUE.example"));
    assert_false(xmpp_blocking_is_blocked(f->s, "iago@shakespeare.example"));
    assert_string_equal(xmpp_blocking_at(f->s, 1), "iago@shakespeare.example/r");
    /* block: the request, then the server's push */
    r.log[0] = '\0';
    assert_int_equal(xmpp_blocking_block(f->s, jids, 2, 0, on_iq_done, &r), XMPP_OK);
    assert_int_equal(xmpp_blocking_block(f->s, jids, 0, 0, on_iq_done, &r), XMPP_ERR_INVALID);
    pump(f);
    assert_non_null(strstr(f->out, "<block xmlns=\"urn:xmpp:blocking\"><item jid=\"mallory@evil.example\"/>"
                                   "<item jid=\"evil.example\"/></block>"));
    reply(f, NULL, "");
    assert_int_equal(r.iq_calls, 2);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    block_push(f, NULL,
               "<block xmlns='urn:xmpp:blocking'><item jid='mallory@evil.example'/>"
               "<item jid='evil.example'/></block>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_string_equal(r.log, "block:mallory@evil.example block:evil.example ");
    assert_int_equal(xmpp_blocking_count(f->s), 4);
    /* spoofed pushes: service-unavailable, nothing changes */
    r.log[0] = '\0';
    block_push(f, "mallory@evil.example",
               "<unblock xmlns='urn:xmpp:blocking'/>");
    assert_non_null(strstr(f->out, "<service-unavailable"));
    block_push(f, "alice@example.com/other",
               "<unblock xmlns='urn:xmpp:blocking'><item jid='evil.example'/></unblock>");
    assert_non_null(strstr(f->out, "<service-unavailable"));
    block_push(f, "example.com", "<block xmlns='urn:xmpp:blocking'><item jid='bob@example.com'/></block>");
    assert_non_null(strstr(f->out, "<service-unavailable"));
    assert_string_equal(r.log, "");
    assert_int_equal(xmpp_blocking_count(f->s), 4);
    /* a block push without items is bad */
    block_push(f, NULL, "<block xmlns='urn:xmpp:blocking'/>");
    assert_non_null(strstr(f->out, "<bad-request"));
    /* unblock one (from the bare JID), then all */
    block_push(f, "alice@example.com",
               "<unblock xmlns='urn:xmpp:blocking'><item jid='evil.example'/></unblock>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_string_equal(r.log, "unblock:evil.example ");
    assert_int_equal(xmpp_blocking_unblock(f->s, NULL, 0, 0, on_iq_done, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<unblock xmlns=\"urn:xmpp:blocking\"/>"));
    reply(f, NULL, "");
    assert_int_equal(r.iq_calls, 3);
    block_push(f, NULL, "<unblock xmlns='urn:xmpp:blocking'/>");
    assert_string_equal(r.log, "unblock:evil.example unblock:* ");
    assert_int_equal(xmpp_blocking_count(f->s), 0);
    fix_free(f);
}

/* ---- presence */
static void on_sub(xmpp_session *s, const char *from, xmpp_subscription_type t,
                   const xmpp_stanza *p, void *ud) {
    static const char *const names[] = {"subscribe", "subscribed", "unsubscribe",
                                        "unsubscribed"};
    (void)s;
    (void)p;
    rec_add(ud, names[t], from);
}

static void on_avail(xmpp_session *s, const char *jid, int available,
                     const xmpp_presence_info *in, void *ud) {
    (void)s;
    rec_add(ud, available ? "on" : "off", jid);
    assert_true(available ? in != NULL : in == NULL);
}

static void test_presence(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    xmpp_stanza *p = NULL;
    const xmpp_presence_info *in;
    char *x = NULL;
    size_t n;
    (void)state;
    /* builders */
    assert_int_equal(xmpp_presence_available_new(&p, f->ctx, NULL, "dnd", "busy <3", -5), XMPP_OK);
    assert_int_equal(xmpp_stanza_serialize(p, XMPP_NS_CLIENT, &x, &n), XMPP_OK);
    assert_string_equal(x, "<presence><show>dnd</show><status>busy &lt;3</status>"
                           "<priority>-5</priority></presence>");
    xmpp_free(f->ctx, x);
    xmpp_stanza_unref(p);
    assert_int_equal(xmpp_presence_available_new(&p, f->ctx, NULL, "busy", NULL, 0),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_presence_available_new(&p, f->ctx, NULL, NULL, NULL, 128),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_presence_available_new(&p, f->ctx, "a@b@c", NULL, NULL, 0),
                     XMPP_ERR_JID_MALFORMED);
    assert_int_equal(xmpp_presence_send_available(f->s, NULL, NULL, NULL, 1), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<presence><priority>1</priority></presence>"));
    take(f);
    assert_int_equal(xmpp_presence_send_available(f->s, "room@muc.example/me", "away", NULL, 0),
                     XMPP_OK);
    assert_int_equal(xmpp_presence_send_unavailable(f->s, NULL, "bye"), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<presence to=\"room@muc.example/me\"><show>away</show></presence>"));
    assert_non_null(strstr(f->out, "<presence type=\"unavailable\"><status>bye</status></presence>"));
    take(f);
    /* subscriptions go to the bare JID */
    assert_int_equal(xmpp_presence_send_subscription(f->s, "Bob@example.com/x", XMPP_PRESENCE_SUBSCRIBE), XMPP_OK);
    assert_int_equal(xmpp_presence_send_subscription(f->s, "carol@example.com", XMPP_PRESENCE_SUBSCRIBED), XMPP_OK);
    assert_int_equal(xmpp_presence_send_subscription(f->s, "dave@example.com", XMPP_PRESENCE_UNSUBSCRIBE), XMPP_OK);
    assert_int_equal(xmpp_presence_send_subscription(f->s, "erin@example.com", XMPP_PRESENCE_UNSUBSCRIBED), XMPP_OK);
    assert_int_equal(xmpp_presence_send_subscription(f->s, "a@b@c", XMPP_PRESENCE_SUBSCRIBE), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_presence_send_subscription(f->s, "x@example.com", (xmpp_subscription_type)9), XMPP_ERR_INVALID);
    pump(f);
    assert_non_null(strstr(f->out, "<presence type=\"subscribe\" to=\"bob@example.com\"/>"));
    assert_non_null(strstr(f->out, "<presence type=\"subscribed\" to=\"carol@example.com\"/>"));
    assert_non_null(strstr(f->out, "<presence type=\"unsubscribe\" to=\"dave@example.com\"/>"));
    assert_non_null(strstr(f->out, "<presence type=\"unsubscribed\" to=\"erin@example.com\"/>"));
    assert_false(xmpp_presence_preapproval_offered(f->s));
    /* the plugin: incoming requests and availability */
    assert_int_equal(xmpp_presence_set_change_callback(f->s, on_avail, &r), XMPP_ERR_STATE);
    assert_int_equal(xmpp_session_enable_plugin(f->s, "presence"), XMPP_OK);
    assert_int_equal(xmpp_presence_set_change_callback(f->s, on_avail, &r), XMPP_OK);
    assert_int_equal(xmpp_presence_set_subscription_callback(f->s, on_sub, &r), XMPP_OK);
    server(f, "<presence type='subscribe' from='Frank@example.com/x'><status>hi</status></presence>"
              "<presence type='unsubscribed' from='erin@example.com'/>"
              "<presence type='subscribe'/>"
              "<presence type='subscribe' from='a@b@c'/>");
    assert_string_equal(r.log, "subscribe:frank@example.com unsubscribed:erin@example.com ");
    r.log[0] = '\0';
    server(f, "<presence from='bob@example.com/phone'><priority>5</priority><show>away</show></presence>"
              "<presence from='bob@example.com/pc'><priority>10</priority><status>at work</status></presence>"
              "<presence from='stranger@elsewhere.example/x'><show>bogus</show><priority>999</priority></presence>");
    assert_string_equal(r.log, "on:bob@example.com/phone on:bob@example.com/pc on:stranger@elsewhere.example/x ");
    assert_int_equal(xmpp_presence_resource_count(f->s, "bob@example.com"), 2);
    in = xmpp_presence_best(f->s, "BOB@example.com");
    assert_non_null(in);
    assert_string_equal(xmpp_presence_info_jid(in), "bob@example.com/pc");
    assert_string_equal(xmpp_presence_info_status(in), "at work");
    assert_null(xmpp_presence_info_show(in));
    assert_int_equal(xmpp_presence_info_priority(in), 10);
    in = xmpp_presence_resource_at(f->s, "bob@example.com", 0);
    assert_string_equal(xmpp_presence_info_show(in), "away");
    assert_null(xmpp_presence_resource_at(f->s, "bob@example.com", 2));
    in = xmpp_presence_best(f->s, "stranger@elsewhere.example");
    assert_null(xmpp_presence_info_show(in)); /* unknown show ignored */
    assert_int_equal(xmpp_presence_info_priority(in), 0); /* out of range */
    r.log[0] = '\0';
    server(f, "<presence type='unavailable' from='bob@example.com/pc'/>"
              "<presence type='unavailable' from='nobody@example.com/pc'/>");
    assert_string_equal(r.log, "off:bob@example.com/pc ");
    assert_string_equal(xmpp_presence_info_jid(xmpp_presence_best(f->s, "bob@example.com")),
                        "bob@example.com/phone");
    server(f, "<presence type='error' from='bob@example.com'><error type='cancel'>"
              "<remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    assert_int_equal(xmpp_presence_resource_count(f->s, "bob@example.com"), 0);
    assert_null(xmpp_presence_best(f->s, "bob@example.com"));
    assert_int_equal(xmpp_presence_resource_count(f->s, "a@b@c"), 0);
    fix_free(f);
}

/* ---- XEP-0077 */
static void test_register(void **state) {
    struct rec r;
    struct fix *f = roster_login(FEAT_BIND, &r);
    (void)state;
    assert_int_equal(xmpp_register_change_password(f->s, "", 0, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_register_change_password(f->s, "n3w<pw", 0, on_iq_done, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"example.com\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:register\"><username>alice</username>"
                                   "<password>n3w&lt;pw</password></query>"));
    reply(f, "example.com", "");
    assert_int_equal(r.iq_calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(xmpp_register_cancel(f->s, 0, on_iq_done, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:register\"><remove/></query>"));
    {
        char id[64], buf[512];
        last_id(f, id, sizeof(id));
        take(f);
        snprintf(buf, sizeof(buf),
                 "<iq type='error' id='%s' from='example.com'><error type='cancel'>"
                 "<not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", id);
        server(f, buf);
    }
    assert_int_equal(r.iq_calls, 2);
    assert_int_equal(r.status, XMPP_IQ_ERROR);
    /* XEP-0100: registering with a gateway; only the gateway may answer */
    assert_int_equal(xmpp_register_service(f->s, NULL, "u", "p", 0, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_register_service(f->s, "a@b@c", "u", "p", 0, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_register_service(f->s, "icq.example.com", "123456", "legacy", 0,
                                           on_iq_done, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"icq.example.com\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:register\"><username>123456</username>"
                                   "<password>legacy</password></query>"));
    reply(f, "example.com", ""); /* the wrong sender: not the answer */
    assert_int_equal(r.iq_calls, 2);
    assert_int_equal(xmpp_register_service(f->s, "icq.example.com", "123456", "legacy", 0,
                                           on_iq_done, &r), XMPP_OK);
    pump(f);
    reply(f, "icq.example.com", "");
    assert_int_equal(r.iq_calls, 3);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(xmpp_register_service_cancel(f->s, "icq.example.com", 0, on_iq_done, &r),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:register\"><remove/></query>"));
    reply(f, "icq.example.com", "");
    assert_int_equal(r.iq_calls, 4);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    fix_free(f);
    /* the first gateway request was never answered: cancelled at the end */
    assert_int_equal(r.iq_calls, 5);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
}

/* ---- XEP-0077 registration before login */
#define FEAT_PLAIN_REG                                                                       \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"                \
    "<mechanism>PLAIN</mechanism></mechanisms>"                                              \
    "<register xmlns='http://jabber.org/features/iq-register'/></stream:features>"

static struct {
    int calls, ok, close_in_cb;
    xmpp_stanza_condition cond;
    char text[128];
} g_reg;

static void on_reg(xmpp_session *s, int ok, xmpp_stanza_condition cond, const char *text,
                   void *ud) {
    assert_ptr_equal(ud, &g_reg);
    g_reg.calls++;
    g_reg.ok = ok;
    g_reg.cond = cond;
    snprintf(g_reg.text, sizeof(g_reg.text), "%s", text ? text : "");
    if (g_reg.close_in_cb)
        assert_int_equal(xmpp_session_close(s), XMPP_OK);
}

static void setup_reg(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_set_register(o, "a@example.com", on_reg, &g_reg),
                     XMPP_OK);
}

/* Starts a session that registers; answers the features with `features`. */
static struct fix *reg_start(const char *features) {
    struct fix *f = fix_new_opts("alice@example.com", 1, setup_reg);
    char buf[1024];
    take(f);
    snprintf(buf, sizeof(buf), "%s%s", HDR, features);
    server(f, buf);
    return f;
}

static void test_register_before_login(void **state) {
    struct fix *f;
    char id[64], buf[512];
    (void)state;
    /* created: the IQ goes before any <auth/>, then the login follows */
    memset(&g_reg, 0, sizeof(g_reg));
    f = reg_start(FEAT_PLAIN_REG);
    assert_non_null(strstr(f->out, "<query xmlns=\"jabber:iq:register\"><username>alice</username>"
                                   "<password>secret</password><email>a@example.com</email>"
                                   "</query>"));
    assert_null(strstr(f->out, "<auth"));
    assert_int_equal(g_reg.calls, 0);
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s'/>", id);
    server(f, buf);
    assert_int_equal(g_reg.calls, 1);
    assert_int_equal(g_reg.ok, 1);
    assert_non_null(strstr(f->out, "mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>"));
    fix_free(f);

    /* the name is taken: the condition, then the login all the same */
    memset(&g_reg, 0, sizeof(g_reg));
    f = reg_start(FEAT_PLAIN_REG);
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf),
             "<iq type='error' id='%s'><error type='cancel'><conflict "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>taken</text></error></iq>", id);
    server(f, buf);
    assert_int_equal(g_reg.calls, 1);
    assert_int_equal(g_reg.ok, 0);
    assert_int_equal(g_reg.cond, XMPP_EC_CONFLICT);
    assert_string_equal(g_reg.text, "taken");
    assert_non_null(strstr(f->out, "<auth"));
    fix_free(f);

    /* not offered: nothing is sent, the callback says so, login follows */
    memset(&g_reg, 0, sizeof(g_reg));
    f = reg_start(FEAT_PLAIN);
    assert_null(strstr(f->out, "jabber:iq:register"));
    assert_int_equal(g_reg.calls, 1);
    assert_int_equal(g_reg.cond, XMPP_EC_FEATURE_NOT_IMPLEMENTED);
    assert_non_null(strstr(f->out, "<auth"));
    fix_free(f);

    /* the application stops in the callback: no login */
    memset(&g_reg, 0, sizeof(g_reg));
    g_reg.close_in_cb = 1;
    f = reg_start(FEAT_PLAIN_REG);
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s'/>", id);
    server(f, buf);
    assert_int_equal(g_reg.calls, 1);
    assert_null(strstr(f->out, "<auth"));
    assert_non_null(strstr(f->out, "</stream:stream>"));
    fix_free(f);

    /* a forged or out-of-order answer ends the stream; no callback */
    memset(&g_reg, 0, sizeof(g_reg));
    f = reg_start(FEAT_PLAIN_REG);
    take(f);
    server(f, "<iq type='result' id='not-ours'/>");
    assert_int_equal(g_reg.calls, 0);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    assert_null(strstr(f->out, "<auth"));
    fix_free(f);
    memset(&g_reg, 0, sizeof(g_reg));
    f = reg_start(FEAT_PLAIN_REG);
    take(f);
    server(f, "<message><body>hi</body></message>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
}

/* ---- allocation failure everywhere: no crash, no leak (SECURITY: never
 * crash/leak). Every allocation of a login plus roster, presence and
 * block list traffic fails in turn. */
static void drain_all(xmpp_session *s, char *acc, size_t size) {
    const void *d;
    size_t n, have = strlen(acc);
    if (xmpp_session_drain(s, &d, &n) != XMPP_OK)
        return;
    if (have + n < size) {
        memcpy(acc + have, d, n);
        acc[have + n] = '\0';
    }
    xmpp_session_consume(s, n);
}

/* Feeds bytes; %s in `fmt` is replaced by the id of the last IQ written. */
static void feed_with_id(xmpp_session *s, char *acc, size_t size, const char *fmt) {
    char id[64] = "none", buf[4096];
    const char *p = acc, *at = NULL;
    while ((p = strstr(p, " id=\"")) != NULL)
        at = ++p;
    if (at && strchr(at + 4, '"') && strchr(at + 4, '"') - at - 4 < 60)
        snprintf(id, sizeof(id), "%.*s", (int)(strchr(at + 4, '"') - at - 4), at + 4);
    const char *hole = strstr(fmt, "%s");
    acc[0] = '\0';
    if (hole)
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(hole - fmt), fmt, id, hole + 2);
    else
        snprintf(buf, sizeof(buf), "%s", fmt);
    xmpp_session_recv(s, buf, strlen(buf), 0);
    drain_all(s, acc, size);
}

static size_t torture_once(xmpp_ctx *ctx) {
    size_t result = 0;
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    static char acc[16384];
    const char *groups[] = {"G"};
    const char *jids[] = {"x@example.com"};
    static struct rec r;
    acc[0] = '\0';
    if (xmpp_session_options_new(&o, ctx) != XMPP_OK)
        return 0;
    if (xmpp_session_options_set_jid(o, "alice@example.com/r") != XMPP_OK ||
        xmpp_session_options_set_password(o, "pw") != XMPP_OK ||
        xmpp_session_options_allow_plaintext(o, 1) != XMPP_OK ||
        xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE) != XMPP_OK ||
        xmpp_session_options_set_register(o, "e@example.com", on_reg, &g_reg) != XMPP_OK ||
        xmpp_session_options_enable_plugin(o, "roster") != XMPP_OK ||
        xmpp_session_options_enable_plugin(o, "presence") != XMPP_OK ||
        xmpp_session_options_enable_plugin(o, "blocking") != XMPP_OK ||
        xmpp_session_new(&s, ctx, o) != XMPP_OK || xmpp_session_start(s, 0) != XMPP_OK)
        goto out;
    drain_all(s, acc, sizeof(acc));
    feed_with_id(s, acc, sizeof(acc), HDR FEAT_PLAIN_REG);
    feed_with_id(s, acc, sizeof(acc), "<iq type='result' id='%s'/>");
    feed_with_id(s, acc, sizeof(acc), "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    feed_with_id(s, acc, sizeof(acc), HDR FEAT_BIND_VER);
    feed_with_id(s, acc, sizeof(acc),
                 "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                 "<jid>alice@example.com/r</jid></bind></iq>");
    if (xmpp_session_get_state(s) != XMPP_STATE_READY)
        goto out;
    xmpp_roster_load_item(s, "dave@example.com", "D", XMPP_SUBSCRIPTION_TO, 0, groups, 1);
    xmpp_roster_set_version(s, "v1");
    acc[0] = '\0';
    if (xmpp_roster_fetch(s, 0, on_fetch, &r) == XMPP_OK) {
        drain_all(s, acc, sizeof(acc));
        feed_with_id(s, acc, sizeof(acc), "<iq type='result' id='%s'>" ROSTER2 "</iq>");
    }
    feed_with_id(s, acc, sizeof(acc),
                 "<iq type='set' id='p1'><query xmlns='jabber:iq:roster' ver='v2'>"
                 "<item jid='erin@example.com' name='E'><group>X</group></item></query></iq>"
                 "<iq type='set' id='p2' from='mallory@evil.example'><query "
                 "xmlns='jabber:iq:roster'><item jid='m@evil.example'/></query></iq>"
                 "<iq type='set' id='p3'><query xmlns='jabber:iq:roster'>"
                 "<item jid='bob@example.com' subscription='remove'/></query></iq>");
    if (xmpp_roster_set_item(s, "f@example.com", "F", groups, 1, 0, NULL, NULL) == XMPP_OK) {
        drain_all(s, acc, sizeof(acc));
        feed_with_id(s, acc, sizeof(acc), "<iq type='result' id='%s'/>");
    }
    if (xmpp_blocking_fetch(s, 0, NULL, NULL) == XMPP_OK) {
        drain_all(s, acc, sizeof(acc));
        feed_with_id(s, acc, sizeof(acc),
                     "<iq type='result' id='%s'><blocklist xmlns='urn:xmpp:blocking'>"
                     "<item jid='a@example.com'/></blocklist></iq>");
    }
    xmpp_blocking_block(s, jids, 1, 0, NULL, NULL);
    feed_with_id(s, acc, sizeof(acc),
                 "<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item "
                 "jid='x@example.com'/></block></iq><iq type='set' id='b2'><unblock "
                 "xmlns='urn:xmpp:blocking'/></iq>"
                 "<presence from='bob@example.com/a'><show>xa</show><status>s</status>"
                 "<priority>3</priority></presence><presence from='bob@example.com/b'/>"
                 "<presence type='unavailable' from='bob@example.com/a'/>"
                 "<presence type='subscribe' from='carol@example.com'/>");
    xmpp_presence_send_available(s, NULL, "away", "st", 2);
    xmpp_presence_send_subscription(s, "carol@example.com", XMPP_PRESENCE_SUBSCRIBED);
    xmpp_register_change_password(s, "np", 0, NULL, NULL);
    drain_all(s, acc, sizeof(acc));
    /* roster entries, blocked JIDs and bob's resources, as digits */
    result = xmpp_roster_count(s) * 100 + xmpp_blocking_count(s) * 10 +
             xmpp_presence_resource_count(s, "bob@example.com");
out:
    xmpp_session_free(s);
    xmpp_session_options_free(o);
    return result;
}

static void test_torture(void **state) {
    th_alloc st;
    long n;
    size_t result = 0;
    (void)state;
    for (n = 0; n < 100000; n++) {
        xmpp_ctx *ctx = th_ctx_new(&st);
        assert_non_null(ctx);
        th_alloc_reset(&st, n);
        memset(&g_reg, 0, sizeof(g_reg));
        result = torture_once(ctx);
        assert_int_equal(st.live, 0);
        xmpp_ctx_free(ctx);
        if (!st.failed)
            break;
    }
    assert_true(n > 100);
    /* the run without failures got through: carol and erin in the roster,
     * the block list emptied, bob's resource b online */
    assert_int_equal(result, 201);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roster_fetch),  cmocka_unit_test(test_roster_versioning),
        cmocka_unit_test(test_roster_push),   cmocka_unit_test(test_roster_push_spoofed),
        cmocka_unit_test(test_roster_edit),   cmocka_unit_test(test_blocking),
        cmocka_unit_test(test_presence),      cmocka_unit_test(test_register),
        cmocka_unit_test(test_register_before_login), cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
