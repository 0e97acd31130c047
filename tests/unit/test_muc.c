/* The "muc" plugin (XEP-0045, XEP-0249, XEP-0410) driven by scripted
 * server bytes: join (password, history, status codes, assigned nick),
 * occupants, subject, groupchat/private messages, sender checks against
 * spoofed rooms, nick change, kick/ban/shutdown/destroy, join errors,
 * timeout and cancel (each exactly once), admin and owner IQs with data
 * forms, invitations, self-ping decisions and rejoin; plugin timers. */
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
#include <xmpp/xep/adhoc.h>
#include <xmpp/xep/muc.h>
#include <xmpp/xep/ping.h>

#include "testhelp.h"
#include "transcript.h"

/* Every session of this file has the muc plugin. */
static void setup_muc(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_enable_plugin(o, "muc"), XMPP_OK);
}

static struct fix *muc_login(void) {
    struct fix *f;
    g_setup = setup_muc;
    f = login("alice@example.com", "alice@example.com/r1");
    g_setup = NULL;
    return f;
}

/* ---- recording MUC events ------------------------------------------------ */

#define ROOM "room@conf.example.com"

static struct rec {
    char log[8192];
    int joins;
    xmpp_muc_join_status jst;
    xmpp_stanza_condition jcond;
    unsigned jbits;
    int removed;
    xmpp_muc_removal why;
    int iq;
    xmpp_iq_status iqst;
    int cfg_fields;
} R;

/* Appends "tag:a:b... " to the log (NULL parts as "-"). */
static void rlog(const char *tag, int n, const char *a, const char *b, const char *c) {
    const char *parts[3];
    size_t len = strlen(R.log);
    int i;
    parts[0] = a;
    parts[1] = b;
    parts[2] = c;
    snprintf(R.log + len, sizeof(R.log) - len, "%s", tag);
    for (i = 0; i < n; i++) {
        len = strlen(R.log);
        snprintf(R.log + len, sizeof(R.log) - len, ":%s", parts[i] ? parts[i] : "-");
    }
    len = strlen(R.log);
    snprintf(R.log + len, sizeof(R.log) - len, " ");
}

static void on_join(xmpp_session *s, const char *room, xmpp_muc_join_status st,
                    xmpp_stanza_condition cond, const char *text, unsigned bits, void *ud) {
    (void)s;
    (void)text;
    (void)ud;
    R.joins++;
    R.jst = st;
    R.jcond = cond;
    R.jbits = bits;
    rlog("join", 1, room, NULL, NULL);
}

static void ev_occ(xmpp_session *s, const char *room, const xmpp_muc_occupant *o,
                   xmpp_muc_occupant_event ev, unsigned bits, const char *new_nick, void *ud) {
    static const char *const names[] = {"occ:joined", "occ:changed", "occ:left"};
    (void)s;
    (void)room;
    (void)bits;
    (void)ud;
    rlog(names[ev], 2, o->nick, new_nick, NULL);
}

static void ev_msg(xmpp_session *s, const char *room, const char *nick, const char *body, int priv,
                   int delayed, xmpp_stanza *st, void *ud) {
    (void)s;
    (void)room;
    (void)st;
    (void)ud;
    rlog(priv ? "pm" : (delayed ? "hist" : "msg"), 2, nick, body, NULL);
}

static void ev_subject(xmpp_session *s, const char *room, const char *nick, const char *subject,
                       void *ud) {
    (void)s;
    (void)room;
    (void)ud;
    rlog("subject", 2, nick, subject, NULL);
}

static void ev_removed(xmpp_session *s, const char *room, xmpp_muc_removal why, const char *actor,
                       const char *reason, const char *alt, void *ud) {
    (void)s;
    (void)room;
    (void)ud;
    R.removed++;
    R.why = why;
    rlog("removed", 3, actor, reason, alt);
}

static void ev_invite(xmpp_session *s, const char *room, const char *from, const char *reason,
                      const char *password, void *ud) {
    (void)s;
    (void)ud;
    (void)password;
    rlog("invite", 3, room, from, reason);
}

static const xmpp_muc_callbacks CBS = {ev_occ, ev_msg, ev_subject, ev_removed, ev_invite};

/* Logs in, joins ROOM as alice with bob present; output and log cleared. */
static struct fix *joined(void) {
    struct fix *f = muc_login();
    memset(&R, 0, sizeof(R));
    assert_int_equal(xmpp_muc_set_callbacks(f->s, &CBS, NULL), XMPP_OK);
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 0, on_join, NULL), XMPP_OK);
    pump(f);
    take(f);
    server(f,
           "<presence from='" ROOM "/bob'><x xmlns='http://jabber.org/protocol/muc#user'>"
           "<item affiliation='member' role='participant' jid='bob@example.com/x'/></x></presence>"
           "<presence from='" ROOM "/alice'><x xmlns='http://jabber.org/protocol/muc#user'>"
           "<item affiliation='owner' role='moderator'/><status code='110'/></x></presence>");
    assert_int_equal(R.joins, 1);
    assert_int_equal(R.jst, XMPP_MUC_JOIN_OK);
    R.log[0] = '\0';
    take(f);
    return f;
}

static void t_join(void **state) {
    struct fix *f = muc_login();
    xmpp_muc_history h = {5, -1, -1, NULL};
    const xmpp_muc_occupant *o;
    (void)state;
    memset(&R, 0, sizeof(R));
    assert_int_equal(xmpp_muc_set_callbacks(f->s, &CBS, NULL), XMPP_OK);
    assert_int_equal(
        xmpp_muc_join(f->s, "Room@Conf.Example.com", "alice", "pw", &h, 0, on_join, NULL), XMPP_OK);
    /* a second join of the same room is refused */
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "x", NULL, NULL, 0, on_join, NULL), XMPP_ERR_STATE);
    assert_int_equal(xmpp_muc_join(f->s, "conf.example.com", "x", NULL, NULL, 0, on_join, NULL),
                     XMPP_ERR_INVALID);
    pump(f);
    assert_non_null(strstr(f->out, "<presence to=\"" ROOM "/alice\"><x xmlns=\"http://jabber.org/"
                                   "protocol/muc\"><password>pw</password><history "
                                   "maxstanzas=\"5\"/></x></presence>"));
    take(f);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 0);
    server(f, "<presence from='" ROOM "/bob'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<item affiliation='member' role='participant' jid='bob@example.com/x'/></x>"
              "<show>away</show></presence>");
    assert_int_equal(R.joins, 0);
    server(f, "<presence from='" ROOM "/alice'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<item affiliation='owner' role='moderator'/><status code='110'/>"
              "<status code='201'/></x></presence>");
    assert_int_equal(R.joins, 1);
    assert_int_equal(R.jst, XMPP_MUC_JOIN_OK);
    assert_true(R.jbits & XMPP_MUC_STATUS_CREATED);
    assert_true(R.jbits & XMPP_MUC_STATUS_SELF);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 1);
    assert_string_equal(xmpp_muc_nick(f->s, ROOM), "alice");
    assert_int_equal(xmpp_muc_occupant_count(f->s, ROOM), 2);
    o = xmpp_muc_occupant_find(f->s, ROOM, "bob");
    assert_non_null(o);
    assert_string_equal(o->real_jid, "bob@example.com/x");
    assert_string_equal(o->show, "away");
    assert_int_equal(o->role, XMPP_MUC_ROLE_PARTICIPANT);
    assert_int_equal(o->affiliation, XMPP_MUC_AFF_MEMBER);
    assert_int_equal(xmpp_muc_occupant_find(f->s, ROOM, "alice")->role, XMPP_MUC_ROLE_MODERATOR);
    assert_string_equal(R.log, "occ:joined:bob:- occ:joined:alice:- join:" ROOM " ");
    /* bob leaves */
    R.log[0] = '\0';
    server(f, "<presence type='unavailable' from='" ROOM "/bob'/>");
    assert_string_equal(R.log, "occ:left:bob:- ");
    assert_int_equal(xmpp_muc_occupant_count(f->s, ROOM), 1);
    fix_free(f);
}

/* A room that assigns another nick (210) and omits 110. */
static void t_join_assigned_nick(void **state) {
    struct fix *f = muc_login();
    (void)state;
    memset(&R, 0, sizeof(R));
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 0, on_join, NULL), XMPP_OK);
    server(f, "<presence from='" ROOM "/Alice (2)'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<item affiliation='none' role='participant'/><status code='110'/>"
              "<status code='210'/></x></presence>");
    assert_int_equal(R.joins, 1);
    assert_string_equal(xmpp_muc_nick(f->s, ROOM), "Alice (2)");
    fix_free(f);
}

static void t_messages_and_sender_checks(void **state) {
    struct fix *f = joined();
    char id[32];
    (void)state;
    server(f, "<message type='groupchat' from='" ROOM "'><subject>Topic</subject></message>");
    assert_string_equal(xmpp_muc_subject(f->s, ROOM), "Topic");
    server(f, "<message type='groupchat' from='" ROOM "/bob'><body>old</body>"
              "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>");
    server(f, "<message type='groupchat' from='" ROOM "/bob'><body>hi</body></message>");
    server(f, "<message type='chat' from='" ROOM "/bob'><body>psst</body>"
              "<x xmlns='http://jabber.org/protocol/muc#user'/></message>");
    server(f, "<message type='groupchat' from='" ROOM "'><body>room says</body></message>");
    server(f, "<message type='groupchat' from='" ROOM
              "/bob'><body>a &amp; b &lt;c&gt;</body></message>");
    assert_string_equal(R.log,
                        "subject:-:Topic hist:bob:old msg:bob:hi pm:bob:psst msg:-:room says "
                        "msg:bob:a & b <c> ");
    /* spoofed: other rooms, other hosts, malformed senders, no sender */
    R.log[0] = '\0';
    server(
        f,
        "<message type='groupchat' from='other@conf.example.com/bob'><body>x</body></message>"
        "<message type='groupchat' from='room@evil.example.com/bob'><body>x</body></message>"
        "<message type='groupchat' from='room@@conf.example.com/bob'><body>x</body></message>"
        "<message type='groupchat'><body>x</body></message>"
        "<message type='groupchat' from='other@conf.example.com'><subject>Evil</subject></message>"
        "<presence from='other@conf.example.com/alice'><x "
        "xmlns='http://jabber.org/protocol/muc#user'>"
        "<status code='110'/><status code='307'/></x></presence>");
    assert_string_equal(R.log, "");
    assert_string_equal(xmpp_muc_subject(f->s, ROOM), "Topic");
    assert_int_equal(xmpp_muc_occupant_count(f->s, ROOM), 2);
    /* sending */
    assert_int_equal(xmpp_muc_send(f->s, ROOM, "hello", id, sizeof(id)), XMPP_OK);
    assert_int_equal(xmpp_muc_send(f->s, "nope@conf.example.com", "x", NULL, 0), XMPP_ERR_STATE);
    assert_int_equal(xmpp_muc_send_private(f->s, ROOM, "bob", "pm"), XMPP_OK);
    assert_int_equal(xmpp_muc_set_subject(f->s, ROOM, "New"), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<message type=\"groupchat\" to=\"" ROOM "\" id=\""));
    assert_non_null(strstr(f->out, id));
    assert_non_null(strstr(f->out, "<body>hello</body></message>"));
    assert_non_null(strstr(f->out, "<message type=\"chat\" to=\"" ROOM "/bob\""));
    assert_non_null(strstr(f->out, "<subject>New</subject>"));
    fix_free(f);
}

static void t_nick_change(void **state) {
    struct fix *f = joined();
    (void)state;
    assert_int_equal(xmpp_muc_change_nick(f->s, ROOM, "al"), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<presence to=\"" ROOM "/al\"/>"));
    server(f, "<presence type='unavailable' from='" ROOM
              "/alice'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<item affiliation='owner' role='moderator' nick='al'/><status code='303'/>"
              "<status code='110'/></x></presence>"
              "<presence from='" ROOM "/al'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<item affiliation='owner' role='moderator'/><status code='110'/></x></presence>");
    assert_string_equal(xmpp_muc_nick(f->s, ROOM), "al");
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 1);
    assert_int_equal(R.removed, 0);
    assert_string_equal(R.log, "occ:left:alice:al occ:joined:al:- ");
    fix_free(f);
}

static void removal(const char *x, xmpp_muc_removal why, const char *expect) {
    struct fix *f = joined();
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "<presence type='unavailable' from='" ROOM "/alice'>"
             "<x xmlns='http://jabber.org/protocol/muc#user'>%s</x></presence>",
             x);
    server(f, buf);
    assert_int_equal(R.removed, 1);
    assert_int_equal(R.why, why);
    assert_string_equal(R.log, expect);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 0);
    assert_null(xmpp_muc_nick(f->s, ROOM));
    /* a removed room can be joined again */
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 0, NULL, NULL), XMPP_OK);
    fix_free(f);
}

static void t_removals(void **state) {
    (void)state;
    removal("<item affiliation='none' role='none'><actor nick='bob'/><reason>spam</reason></item>"
            "<status code='307'/><status code='110'/>",
            XMPP_MUC_REMOVED_KICKED, "removed:bob:spam:- ");
    removal("<item affiliation='outcast' role='none'/><status code='301'/><status code='110'/>",
            XMPP_MUC_REMOVED_BANNED, "removed:-:-:- ");
    removal("<item affiliation='none' role='none'/><status code='332'/><status code='110'/>",
            XMPP_MUC_REMOVED_SHUTDOWN, "removed:-:-:- ");
    removal("<item affiliation='none' role='none'/><destroy jid='new@conf.example.com'>"
            "<reason>moved</reason></destroy><status code='110'/>",
            XMPP_MUC_REMOVED_DESTROYED, "removed:-:moved:new@conf.example.com ");
    removal("<item affiliation='none' role='none'/><status code='322'/><status code='110'/>",
            XMPP_MUC_REMOVED_AFFILIATION, "removed:-:-:- ");
}

static void t_join_error_timeout_cancel(void **state) {
    struct fix *f = muc_login();
    (void)state;
    memset(&R, 0, sizeof(R));
    /* error presence: fails once */
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 0, on_join, NULL), XMPP_OK);
    server(f, "<presence type='error' from='" ROOM "/alice'><error type='cancel'>"
              "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    assert_int_equal(R.joins, 1);
    assert_int_equal(R.jst, XMPP_MUC_JOIN_ERROR);
    assert_int_equal(R.jcond, XMPP_EC_CONFLICT);
    server(f, "<presence type='error' from='" ROOM "/alice'><error type='cancel'>"
              "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    assert_int_equal(R.joins, 1);
    /* timeout: the deadline covers it, fires once */
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 5000, on_join, NULL), XMPP_OK);
    assert_true(xmpp_session_next_deadline(f->s) <= f->now + 5000);
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now + 4999), XMPP_OK);
    assert_int_equal(R.joins, 1);
    f->now += 5000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    assert_int_equal(R.joins, 2);
    assert_int_equal(R.jst, XMPP_MUC_JOIN_TIMEOUT);
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now + 100000), XMPP_OK);
    assert_int_equal(R.joins, 2);
    /* a late self-presence is not ours any more */
    server(f, "<presence from='" ROOM "/alice'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<status code='110'/></x></presence>");
    assert_int_equal(R.joins, 2);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 0);
    /* leave while joining: cancelled once, unavailable sent */
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 0, on_join, NULL), XMPP_OK);
    take(f);
    assert_int_equal(xmpp_muc_leave(f->s, ROOM, "bye"), XMPP_OK);
    pump(f);
    assert_int_equal(R.joins, 3);
    assert_int_equal(R.jst, XMPP_MUC_JOIN_CANCELLED);
    assert_non_null(strstr(f->out, "<presence type=\"unavailable\" to=\"" ROOM
                                   "/alice\"><status>bye</status>"));
    assert_int_equal(xmpp_muc_leave(f->s, ROOM, NULL), XMPP_ERR_NOT_FOUND);
    /* session freed while joining: cancelled once */
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "alice", NULL, NULL, 0, on_join, NULL), XMPP_OK);
    fix_free(f);
    assert_int_equal(R.joins, 4);
    assert_int_equal(R.jst, XMPP_MUC_JOIN_CANCELLED);
}

static void on_iq(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    (void)s;
    (void)reply;
    (void)ud;
    R.iq++;
    R.iqst = st;
}

static void on_cfg(xmpp_session *s, xmpp_iq_status st, const xmpp_form *form, void *ud) {
    (void)s;
    (void)ud;
    R.iq++;
    R.iqst = st;
    R.cfg_fields = form ? (int)xmpp_form_field_count(form) : -1;
}

/* The id of the last iq the client wrote. */
static void last_id(struct fix *f, char *id, size_t n) {
    const char *p = strstr(f->out, "<iq "), *q;
    assert_non_null(p);
    p = strstr(p, "id=\"");
    assert_non_null(p);
    q = strchr(p + 4, '"');
    snprintf(id, n, "%.*s", (int)(q - p - 4), p + 4);
}

static void t_admin_owner(void **state) {
    struct fix *f = joined();
    char id[64], buf[2048];
    xmpp_form *sub = NULL;
    (void)state;
    assert_int_equal(xmpp_muc_set_role(f->s, ROOM, "bob", XMPP_MUC_ROLE_NONE, "bye", on_iq, NULL),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"" ROOM "\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"http://jabber.org/protocol/muc#admin\">"
                                   "<item nick=\"bob\" role=\"none\"><reason>bye</reason></item>"));
    last_id(f, id, sizeof(id));
    take(f);
    /* a reply from someone else is not accepted (ORG-05) */
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='" ROOM "/bob'/>", id);
    server(f, buf);
    assert_int_equal(R.iq, 0);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='" ROOM "'/>", id);
    server(f, buf);
    assert_int_equal(R.iq, 1);
    assert_int_equal(R.iqst, XMPP_IQ_RESULT);
    take(f);
    assert_int_equal(xmpp_muc_set_affiliation(f->s, ROOM, "eve@example.com", XMPP_MUC_AFF_OUTCAST,
                                              NULL, on_iq, NULL),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<item jid=\"eve@example.com\" affiliation=\"outcast\"/>"));
    take(f);
    /* configuration */
    assert_int_equal(xmpp_muc_get_config(f->s, ROOM, on_cfg, NULL), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<query xmlns=\"http://jabber.org/protocol/muc#owner\"/>"));
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s' from='" ROOM
             "'><query xmlns='http://jabber.org/protocol/muc#owner'>"
             "<x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'>"
             "<value>http://jabber.org/protocol/muc#roomconfig</value></field>"
             "<field var='muc#roomconfig_persistentroom' type='boolean'><value>0</value></field>"
             "</x></query></iq>",
             id);
    server(f, buf);
    assert_int_equal(R.iq, 2);
    assert_int_equal(R.cfg_fields, 2);
    assert_int_equal(xmpp_form_new(&sub, f->ctx, XMPP_FORM_SUBMIT), XMPP_OK);
    assert_int_equal(xmpp_form_set(sub, "FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"),
                     XMPP_OK);
    assert_int_equal(xmpp_form_set(sub, "muc#roomconfig_persistentroom", "1"), XMPP_OK);
    assert_int_equal(xmpp_muc_submit_config(f->s, ROOM, sub, on_iq, NULL), XMPP_OK);
    xmpp_form_free(sub);
    assert_int_equal(xmpp_muc_instant_room(f->s, ROOM, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_muc_destroy(f->s, ROOM, "new@conf.example.com", "moving", NULL, NULL),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(
        f->out, "<x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"FORM_TYPE\"><value>"));
    assert_non_null(
        strstr(f->out, "<field var=\"muc#roomconfig_persistentroom\"><value>1</value>"));
    assert_non_null(strstr(f->out, "<x xmlns=\"jabber:x:data\" type=\"submit\"/>"));
    assert_non_null(
        strstr(f->out, "<destroy jid=\"new@conf.example.com\"><reason>moving</reason></destroy>"));
    fix_free(f);
}

static void t_invites(void **state) {
    struct fix *f = joined();
    (void)state;
    server(
        f,
        "<message from='bob@example.com/x'><x xmlns='jabber:x:conference' "
        "jid='party@conf.example.com' reason='fun'/></message>"
        "<message from='bob@example.com/x'><x xmlns='jabber:x:conference' jid='@@bad'/></message>"
        "<message from='party@conf.example.com'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<invite from='carol@example.com'><reason>come</reason></invite></x></message>"
        "<message from='party@conf.example.com/spoof'><x "
        "xmlns='http://jabber.org/protocol/muc#user'>"
        "<invite from='carol@example.com'/></x></message>");
    assert_string_equal(R.log, "invite:party@conf.example.com:bob@example.com/x:fun "
                               "invite:party@conf.example.com:carol@example.com:come ");
    take(f);
    assert_int_equal(xmpp_muc_invite(f->s, "bob@example.com", ROOM, "join us", NULL), XMPP_OK);
    pump(f);
    assert_non_null(
        strstr(f->out, "<x xmlns=\"jabber:x:conference\" jid=\"" ROOM "\" reason=\"join us\"/>"));
    fix_free(f);
}

static void t_self_ping(void **state) {
    struct fix *f = joined();
    char id[64], buf[1024];
    (void)state;
    assert_int_equal(xmpp_muc_set_self_ping(f->s, 60000, 1), XMPP_OK);
    assert_true(xmpp_session_next_deadline(f->s) <= f->now + 60000);
    f->now += 60000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "to=\"" ROOM "/alice\""));
    assert_non_null(strstr(f->out, "<ping xmlns=\"urn:xmpp:ping\"/>"));
    last_id(f, id, sizeof(id));
    take(f);
    /* still joined: nothing happens */
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='" ROOM "/alice'/>", id);
    server(f, buf);
    assert_int_equal(R.removed, 0);
    assert_null(strstr(f->out, "<presence"));
    /* next round: service-unavailable still counts as joined */
    f->now += 60000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    pump(f);
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf),
             "<iq type='error' id='%s' from='" ROOM "/alice'><error type='cancel'>"
             "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
             id);
    server(f, buf);
    assert_int_equal(R.removed, 0);
    /* next round: not-acceptable: not joined, rejoin */
    f->now += 60000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    pump(f);
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf),
             "<iq type='error' id='%s' from='" ROOM "/alice'><error type='cancel'>"
             "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
             id);
    server(f, buf);
    assert_int_equal(R.removed, 1);
    assert_int_equal(R.why, XMPP_MUC_REMOVED_NOT_JOINED);
    assert_non_null(strstr(f->out, "<presence to=\"" ROOM
                                   "/alice\"><x xmlns=\"http://jabber.org/protocol/muc\">"
                                   "<history maxstanzas=\"0\"/></x></presence>"));
    server(f, "<presence from='" ROOM "/alice'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<status code='110'/></x></presence>");
    assert_int_equal(R.joins, 2);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 1);
    fix_free(f);
}

static void t_rejoin_all(void **state) {
    struct fix *f = joined();
    (void)state;
    assert_int_equal(xmpp_muc_rejoin_all(f->s), 1);
    pump(f);
    assert_non_null(strstr(f->out, "<presence to=\"" ROOM "/alice\">"));
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 0);
    server(f, "<presence from='" ROOM "/alice'><x xmlns='http://jabber.org/protocol/muc#user'>"
              "<status code='110'/></x></presence>");
    assert_int_equal(R.joins, 2);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 1);
    fix_free(f);
}

/* Plugin timers: fire once, in order of due time, only when due. */
static int g_fired;
static void tmr(xmpp_session *s, void *ud) {
    (void)s;
    g_fired = g_fired * 10 + (int)(size_t)ud;
}

static void t_timers(void **state) {
    struct fix *f = muc_login();
    unsigned long h1 = 0, h2 = 0, h3 = 0;
    (void)state;
    g_fired = 0;
    assert_int_equal(xmpp_session_add_timer(f->s, 200, tmr, (void *)2, &h2), XMPP_OK);
    assert_int_equal(xmpp_session_add_timer(f->s, 100, tmr, (void *)1, &h1), XMPP_OK);
    assert_int_equal(xmpp_session_add_timer(f->s, 300, tmr, (void *)3, &h3), XMPP_OK);
    assert_int_equal(xmpp_session_add_timer(f->s, 300, NULL, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_now(f->s), f->now);
    assert_int_equal(xmpp_session_next_deadline(f->s), f->now + 100);
    assert_int_equal(xmpp_session_remove_timer(f->s, h3), XMPP_OK);
    assert_int_equal(xmpp_session_remove_timer(f->s, h3), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now + 99), XMPP_OK);
    assert_int_equal(g_fired, 0);
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now + 100), XMPP_OK);
    assert_int_equal(g_fired, 1);
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now + 1000), XMPP_OK);
    assert_int_equal(g_fired, 12);
    assert_int_equal(xmpp_session_remove_timer(f->s, h1), XMPP_ERR_NOT_FOUND);
    fix_free(f);
}

/* The plugin off: rooms stay untouched by presences; calls say STATE. */
static void t_disabled(void **state) {
    struct fix *f = muc_login();
    (void)state;
    assert_int_equal(xmpp_session_disable_plugin(f->s, "muc"), XMPP_OK);
    assert_int_equal(xmpp_muc_join(f->s, ROOM, "a", NULL, NULL, 0, NULL, NULL), XMPP_ERR_STATE);
    assert_int_equal(xmpp_muc_set_callbacks(f->s, &CBS, NULL), XMPP_ERR_STATE);
    assert_int_equal(xmpp_muc_joined(f->s, ROOM), 0);
    fix_free(f);
}

/* XEP-0050 requester: a two-stage command with a form, then hostile answers. */
static struct {
    int calls;
    xmpp_iq_status st;
    xmpp_adhoc_status cst;
    char sid[64], note[64];
    int allows_next, allows_prev, fields;
} A;

static void on_adhoc(xmpp_session *s, xmpp_iq_status st, const xmpp_adhoc_result *r,
                     xmpp_stanza *reply, void *ud) {
    (void)s;
    (void)reply;
    (void)ud;
    A.calls++;
    A.st = st;
    if (r) {
        A.cst = xmpp_adhoc_result_status(r);
        snprintf(A.sid, sizeof(A.sid), "%s", xmpp_adhoc_result_sessionid(r));
        A.allows_next = xmpp_adhoc_result_allows(r, XMPP_ADHOC_NEXT);
        A.allows_prev = xmpp_adhoc_result_allows(r, XMPP_ADHOC_PREV);
        A.fields = xmpp_adhoc_result_form(r) ? (int)xmpp_form_field_count(xmpp_adhoc_result_form(r)) : -1;
        snprintf(A.note, sizeof(A.note), "%s",
                 xmpp_adhoc_result_note(r, 0, NULL) ? xmpp_adhoc_result_note(r, 0, NULL) : "");
    }
}

static size_t g_items;
static void on_list(xmpp_session *s, xmpp_iq_status st, size_t n, const char *const *nodes,
                    const char *const *names, void *ud) {
    (void)s;
    (void)names;
    (void)ud;
    g_items = st == XMPP_IQ_RESULT ? n : 999;
    if (n)
        assert_string_equal(nodes[0], "ping");
}

static void t_adhoc(void **state) {
    struct fix *f = muc_login();
    char id[64], buf[2048];
    xmpp_form *sub = NULL;
    (void)state;
    memset(&A, 0, sizeof(A));
    assert_int_equal(xmpp_adhoc_list(f->s, "example.com", on_list, NULL), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "node=\"http://jabber.org/protocol/commands\""));
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='example.com'><query "
             "xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'>"
             "<item jid='example.com' node='ping' name='Ping'/><item jid='example.com'/></query></iq>", id);
    server(f, buf);
    assert_int_equal(g_items, 1);
    /* stage 1 */
    assert_int_equal(xmpp_adhoc_execute(f->s, "example.com", "config", XMPP_ADHOC_EXECUTE, NULL,
                                        NULL, 0, on_adhoc, NULL), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<command xmlns=\"http://jabber.org/protocol/commands\" "
                                   "node=\"config\" action=\"execute\"/>"));
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='example.com'><command "
             "xmlns='http://jabber.org/protocol/commands' node='config' sessionid='s1' status='executing'>"
             "<actions execute='next'><next/></actions>"
             "<x xmlns='jabber:x:data' type='form'><field var='max' type='text-single'><required/></field></x>"
             "</command></iq>", id);
    server(f, buf);
    assert_int_equal(A.calls, 1);
    assert_int_equal(A.st, XMPP_IQ_RESULT);
    assert_int_equal(A.cst, XMPP_ADHOC_EXECUTING);
    assert_string_equal(A.sid, "s1");
    assert_int_equal(A.allows_next, 1);
    assert_int_equal(A.allows_prev, 0);
    assert_int_equal(A.fields, 1);
    /* stage 2 with the filled-in form */
    assert_int_equal(xmpp_form_new(&sub, f->ctx, XMPP_FORM_SUBMIT), XMPP_OK);
    assert_int_equal(xmpp_form_set(sub, "max", "5"), XMPP_OK);
    assert_int_equal(xmpp_adhoc_execute(f->s, "example.com", "config", XMPP_ADHOC_NEXT, "s1", sub,
                                        0, on_adhoc, NULL), XMPP_OK);
    xmpp_form_free(sub);
    pump(f);
    assert_non_null(strstr(f->out, "action=\"next\" sessionid=\"s1\"><x xmlns=\"jabber:x:data\" "
                                   "type=\"submit\"><field var=\"max\"><value>5</value>"));
    last_id(f, id, sizeof(id));
    take(f);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='example.com'><command "
             "xmlns='http://jabber.org/protocol/commands' node='config' sessionid='s1' status='completed'>"
             "<note type='info'>Done</note></command></iq>", id);
    server(f, buf);
    assert_int_equal(A.calls, 2);
    assert_int_equal(A.cst, XMPP_ADHOC_COMPLETED);
    assert_string_equal(A.note, "Done");
    /* hostile: no sessionid, a bad status, a broken form: errors, once each */
    {
        static const char *const bad[] = {
            "<command xmlns='http://jabber.org/protocol/commands' node='c' status='completed'/>",
            "<command xmlns='http://jabber.org/protocol/commands' node='c' sessionid='x' status='evil'/>",
            "<command xmlns='http://jabber.org/protocol/commands' node='c' sessionid='x' status='executing'>"
            "<x xmlns='jabber:x:data' type='bogus'/></command>",
            ""};
        size_t k;
        for (k = 0; k < 4; k++) {
            int before = A.calls;
            assert_int_equal(xmpp_adhoc_execute(f->s, "example.com", "c", XMPP_ADHOC_EXECUTE, NULL,
                                                NULL, 0, on_adhoc, NULL), XMPP_OK);
            pump(f);
            last_id(f, id, sizeof(id));
            take(f);
            snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='example.com'>%s</iq>", id, bad[k]);
            server(f, buf);
            assert_int_equal(A.calls, before + 1);
            assert_int_equal(A.st, XMPP_IQ_ERROR);
        }
    }
    /* a form of type form cannot be submitted */
    assert_int_equal(xmpp_form_new(&sub, f->ctx, XMPP_FORM_FORM), XMPP_OK);
    assert_int_equal(xmpp_adhoc_execute(f->s, "example.com", "c", XMPP_ADHOC_NEXT, "s", sub, 0,
                                        NULL, NULL), XMPP_ERR_INVALID);
    xmpp_form_free(sub);
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_join),
        cmocka_unit_test(t_join_assigned_nick),
        cmocka_unit_test(t_messages_and_sender_checks),
        cmocka_unit_test(t_nick_change),
        cmocka_unit_test(t_removals),
        cmocka_unit_test(t_join_error_timeout_cancel),
        cmocka_unit_test(t_admin_owner),
        cmocka_unit_test(t_invites),
        cmocka_unit_test(t_self_ping),
        cmocka_unit_test(t_rejoin_all),
        cmocka_unit_test(t_timers),
        cmocka_unit_test(t_disabled),
        cmocka_unit_test(t_adhoc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
