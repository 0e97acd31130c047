/* pubsub_client: the PubSub family against a real server (run by
 * tests/integration/pubsub.sh against Prosody and ejabberd).
 *
 *   pubsub_client HOST PORT CAFILE JID PASSWORD PEER_JID PEER_PASSWORD
 *
 * HOST is an IP literal. JID (alice) and PEER (bob) log in, subscribe to
 * each other's presence and send presence with caps. Then, each step
 * printed as "ok: ..." or "FAIL: ...":
 *   XEP-0060 on alice's PEP service: create with config, bob subscribes,
 *     publish (bob is notified, from alice's bare JID), items by max and
 *     by id, retract (bob is notified), delete (bob is notified),
 *     subscribe + unsubscribe;
 *   spoofing: bob sends alice a notification-shaped message (his full JID
 *     is stamped by the server): no handler of alice fires;
 *   XEP-0223: private publish (publish-options), bob cannot read it; a
 *     node created open is reconfigured after precondition-not-met;
 *   XEP-0049: set then get;
 *   XEP-0084: alice publishes an avatar, bob gets the metadata
 *     notification (his +notify interest in caps) and fetches the data,
 *     hash checked;
 *   XEP-0402/0048: add, list, notification (PEP storage), remove.
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/avatar.h>
#include <xmpp/xep/bookmarks.h>
#include <xmpp/xep/caps.h>
#include <xmpp/xep/private.h>
#include <xmpp/xep/pubsub.h>

#define NODE "urn:example:libxmpp-it"
#define NODE2 "urn:example:libxmpp-it2"
#define PRIV "urn:example:libxmpp-private"
#define OPEN "urn:example:libxmpp-open"
#define ROOM "room1@conference.xmpp.test"

typedef struct peer {
    xmpp_client *c;
    xmpp_session *s;
    int ready, closed, subscribed;
    char jid[256];  /* full */
    char bare[256];
    int chats;      /* chat messages received */
    /* events */
    int ev_items, ev_retract, ev_delete, ev_spoof;
    char ev_from[256], ev_payload[256];
    int meta;
    char meta_id[64], meta_from[256];
    int bm_events, bm_removed;
    char bm_nick[64];
} peer;

static int failures;
static xmpp_ctx *ctx;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    fflush(stdout);
    if (!ok)
        failures++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static peer A, B;

static void pump(double secs, const int *flag, int from) {
    double limit = now_s() + secs;
    while ((flag == NULL || *flag == from) && now_s() < limit) {
        xmpp_client_run_once(A.c, 5);
        xmpp_client_run_once(B.c, 5);
    }
}

/* ---- generic completion */
typedef struct done {
    int calls;
    xmpp_iq_status status;
    char cond[64], err[64];
} done;

static void on_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *r, void *ud) {
    done *d = ud;
    const char *c;
    xmpp_stanza_condition sc;
    (void)s;
    d->calls++;
    d->status = status;
    d->cond[0] = d->err[0] = '\0';
    if (r && (c = xmpp_pubsub_error_condition(r)) != NULL)
        snprintf(d->cond, sizeof(d->cond), "%s", c);
    if (r && xmpp_stanza_get_error(r, &sc, NULL) == XMPP_OK)
        snprintf(d->err, sizeof(d->err), "%s", xmpp_stanza_condition_name(sc));
}

/* Waits for a request; returns 1 when it ended with a result. */
static int wait_done(done *d) {
    pump(10, &d->calls, 0);
    if (d->calls && d->status != XMPP_IQ_RESULT)
        printf("info: request ended with status %d (%s %s)\n", (int)d->status, d->err, d->cond);
    return d->calls == 1 && d->status == XMPP_IQ_RESULT;
}

/* ---- callbacks */
static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    peer *p = ud;
    char *slash;
    (void)s;
    p->ready++;
    snprintf(p->jid, sizeof(p->jid), "%s", jid);
    snprintf(p->bare, sizeof(p->bare), "%s", jid);
    if ((slash = strchr(p->bare, '/')) != NULL)
        *slash = '\0';
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    peer *p = ud;
    (void)s;
    (void)cause;
    p->closed++;
}

/* Accepts every subscription request, asks back once. */
static int on_presence(xmpp_session *s, xmpp_stanza *st, void *ud) {
    peer *p = ud;
    const char *type = xmpp_stanza_type(st), *from = xmpp_stanza_from(st);
    xmpp_stanza *r = NULL;
    if (getenv("PUBSUB_IT_DEBUG"))
        printf("debug: %s got presence type=%s from=%s\n", p->bare, type ? type : "-",
               from ? from : "-");
    if (type && from && strcmp(type, "subscribe") == 0) {
        if (xmpp_presence_new(&r, ctx, "subscribed", from, NULL) == XMPP_OK)
            xmpp_session_send(s, r);
        xmpp_stanza_unref(r);
    } else if (type == NULL && from && strncmp(from, p->bare, strlen(p->bare)) != 0) {
        p->subscribed++; /* the contact's presence: the subscription is in place (Prosody
                          * does not forward "subscribed" to the client) */
    }
    return 0;
}

static int on_chat(xmpp_session *s, xmpp_stanza *st, void *ud) {
    peer *p = ud;
    (void)s;
    if (xmpp_stanza_child(st, "body", NULL))
        p->chats++;
    return 0;
}

static void on_event(xmpp_session *s, const xmpp_pubsub_items *ev, void *ud) {
    peer *p = ud;
    xmpp_stanza *pl;
    (void)s;
    snprintf(p->ev_from, sizeof(p->ev_from), "%s", xmpp_pubsub_items_from(ev));
    switch (xmpp_pubsub_items_kind(ev)) {
    case XMPP_PUBSUB_EVENT_ITEMS:
        p->ev_items++;
        pl = xmpp_pubsub_items_payload_at(ev, 0);
        p->ev_payload[0] = '\0';
        if (pl) {
            char *t = NULL;
            if (xmpp_stanza_text(pl, &t, NULL) == XMPP_OK)
                snprintf(p->ev_payload, sizeof(p->ev_payload), "%s", t);
            xmpp_free(ctx, t);
        }
        break;
    case XMPP_PUBSUB_EVENT_RETRACT:
        p->ev_retract++;
        break;
    case XMPP_PUBSUB_EVENT_DELETE:
        p->ev_delete++;
        break;
    default:
        break;
    }
}

static void on_spoof(xmpp_session *s, const xmpp_pubsub_items *ev, void *ud) {
    peer *p = ud;
    (void)s;
    (void)ev;
    p->ev_spoof++;
}

static void on_meta(xmpp_session *s, const char *from, const char *id, const char *type,
                    size_t bytes, void *ud) {
    peer *p = ud;
    (void)s;
    (void)type;
    (void)bytes;
    if (id == NULL)
        return;
    p->meta++;
    snprintf(p->meta_id, sizeof(p->meta_id), "%s", id);
    snprintf(p->meta_from, sizeof(p->meta_from), "%s", from);
}

static void on_bm_event(xmpp_session *s, const char *jid, const xmpp_bookmark *b, void *ud) {
    peer *p = ud;
    (void)s;
    if (strcmp(jid, ROOM) != 0)
        return;
    if (b == NULL) {
        p->bm_removed++;
        return;
    }
    p->bm_events++;
    snprintf(p->bm_nick, sizeof(p->bm_nick), "%s", b->nick ? b->nick : "");
}

typedef struct got {
    int calls;
    xmpp_iq_status status;
    size_t n;
    char ids[256], text[256];
} got;

static void on_items(xmpp_session *s, xmpp_iq_status status, const xmpp_pubsub_items *items,
                     xmpp_stanza *error, void *ud) {
    got *g = ud;
    size_t i;
    (void)s;
    (void)error;
    g->calls++;
    g->status = status;
    g->ids[0] = g->text[0] = '\0';
    g->n = xmpp_pubsub_items_count(items);
    for (i = 0; i < g->n; i++) {
        size_t l = strlen(g->ids);
        snprintf(g->ids + l, sizeof(g->ids) - l, "%s,", xmpp_pubsub_items_id_at(items, i));
    }
    if (g->n) {
        char *t = NULL;
        if (xmpp_stanza_text(xmpp_pubsub_items_payload_at(items, 0), &t, NULL) == XMPP_OK)
            snprintf(g->text, sizeof(g->text), "%s", t);
        xmpp_free(ctx, t);
    }
}

typedef struct priv {
    int calls;
    xmpp_iq_status status;
    char color[64];
} priv;

static void on_private(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *el,
                       xmpp_stanza *error, void *ud) {
    priv *p = ud;
    xmpp_stanza *c;
    char *t = NULL;
    (void)s;
    (void)error;
    p->calls++;
    p->status = status;
    if (el && (c = xmpp_stanza_child(el, "color", NULL)) != NULL &&
        xmpp_stanza_text(c, &t, NULL) == XMPP_OK)
        snprintf(p->color, sizeof(p->color), "%s", t);
    xmpp_free(ctx, t);
}

typedef struct avdata {
    int calls, err;
    xmpp_iq_status status;
    size_t len;
    unsigned char buf[4096];
} avdata;

static void on_avdata(xmpp_session *s, xmpp_iq_status status, int err, const void *data,
                      size_t len, void *ud) {
    avdata *a = ud;
    (void)s;
    a->calls++;
    a->status = status;
    a->err = err;
    a->len = len;
    if (data && len <= sizeof(a->buf))
        memcpy(a->buf, data, len);
}

typedef struct bmlist {
    int calls, found, autojoin;
    xmpp_iq_status status;
    size_t n;
    char nick[64], password[64], name[64];
} bmlist;

static void on_bmlist(xmpp_session *s, xmpp_iq_status status, const xmpp_bookmark *list,
                      size_t n, xmpp_stanza *error, void *ud) {
    bmlist *b = ud;
    size_t i;
    (void)s;
    (void)error;
    b->calls++;
    b->status = status;
    b->n = n;
    b->found = 0;
    for (i = 0; i < n; i++) {
        if (strcmp(list[i].jid, ROOM) != 0)
            continue;
        b->found = 1;
        b->autojoin = list[i].autojoin;
        snprintf(b->nick, sizeof(b->nick), "%s", list[i].nick ? list[i].nick : "");
        snprintf(b->password, sizeof(b->password), "%s", list[i].password ? list[i].password : "");
        snprintf(b->name, sizeof(b->name), "%s", list[i].name ? list[i].name : "");
    }
}

/* ---- setup */
static void make_peer(peer *p, const char *host, unsigned port, xmpp_tls_config *cfg,
                      const char *jid, const char *pw) {
    xmpp_session_options *o = NULL;
    static const char *const plugins[] = {"caps", "pubsub", "avatar", "bookmarks", NULL};
    size_t i;
    int rc = XMPP_OK;
    memset(p, 0, sizeof(*p));
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, pw)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, p)) != XMPP_OK)
        goto fail;
    for (i = 0; plugins[i]; i++)
        if ((rc = xmpp_session_options_enable_plugin(o, plugins[i])) != XMPP_OK)
            goto fail;
    if ((rc = xmpp_client_new(&p->c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(p->c, host, port)) != XMPP_OK)
        goto fail;
    p->s = xmpp_client_session(p->c);
    if ((rc = xmpp_session_add_handler(p->s, "presence", NULL, NULL, on_presence, p, NULL)) !=
            XMPP_OK ||
        (rc = xmpp_session_add_handler(p->s, "message", NULL, NULL, on_chat, p, NULL)) !=
            XMPP_OK ||
        (rc = xmpp_client_connect(p->c)) != XMPP_OK)
        goto fail;
    xmpp_session_options_free(o);
    return;
fail:
    fprintf(stderr, "pubsub_client: setting up %s: %s\n", jid, xmpp_strerror(rc));
    exit(1);
}

static int send_presence(peer *p, const char *type, const char *to, int caps) {
    xmpp_stanza *pr = NULL;
    int rc;
    if ((rc = xmpp_presence_new(&pr, ctx, type, to, NULL)) == XMPP_OK &&
        (!caps || (rc = xmpp_caps_decorate(p->s, pr)) == XMPP_OK))
        rc = xmpp_session_send(p->s, pr);
    xmpp_stanza_unref(pr);
    return rc;
}

int main(int argc, char **argv) {
    xmpp_tls_config *cfg = NULL;
    const char *host;
    unsigned port;
    double t0 = now_s();
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT CAFILE JID PASSWORD PEER_JID PEER_PASSWORD\n",
                argv[0]);
        return 2;
    }
    host = argv[1];
    port = (unsigned)strtoul(argv[2], NULL, 10);
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_tls_config_new(&cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "pubsub_client: TLS configuration failed\n");
        return 1;
    }
    make_peer(&A, host, port, cfg, argv[4], argv[5]);
    make_peer(&B, host, port, cfg, argv[6], argv[7]);
    pump(15, &A.ready, 0);
    pump(15, &B.ready, 0);
    check(A.ready == 1 && B.ready == 1, "both accounts logged in");
    if (!(A.ready && B.ready))
        return 1;

    /* interests before the first presence: bob wants avatars and NODE */
    check(xmpp_avatar_watch(B.s, on_meta, &B, NULL) == XMPP_OK &&
              xmpp_pep_notify_add(B.s, NODE) == XMPP_OK,
          "bob registers +notify interests (avatar metadata, " NODE ")");
    check(xmpp_bookmarks_watch(A.s, on_bm_event, &A, NULL) == XMPP_OK,
          "alice watches her bookmarks (+notify)");
    /* presence with caps (available resources get the subscription
     * approvals, RFC 6121 §3.1.6), then a mutual presence subscription */
    send_presence(&A, NULL, NULL, 1);
    send_presence(&B, NULL, NULL, 1);
    send_presence(&A, "subscribe", B.bare, 0);
    pump(0.5, NULL, 0);
    send_presence(&B, "subscribe", A.bare, 0);
    pump(10, &A.subscribed, 0);
    pump(10, &B.subscribed, 0);
    check(A.subscribed >= 1 && B.subscribed >= 1, "mutual presence subscription");
    /* presence again, now that the contacts are subscribed */
    send_presence(&A, NULL, NULL, 1);
    send_presence(&B, NULL, NULL, 1);
    pump(1.0, NULL, 0); /* the servers ask our caps node#ver */

    /* ---- XEP-0060 on alice's PEP service */
    {
        static const char *const cfgp[] = {"pubsub#access_model", "presence", NULL};
        done d;
        got g;
        const char *ids[] = {"i1", NULL};
        xmpp_stanza *pl = NULL;
        memset(&d, 0, sizeof(d));
        check(xmpp_pubsub_add_event_handler(B.s, A.bare, NODE, 0, on_event, &B, NULL) == XMPP_OK,
              "bob adds a handler for alice's node");
        xmpp_pubsub_create(A.s, NULL, NODE, cfgp, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 create a node with a configuration");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_subscribe(B.s, A.bare, NODE, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 subscribe (bob to alice's node)");
        xmpp_stanza_new(&pl, ctx, "entry", "urn:example:e");
        xmpp_stanza_set_text(pl, "first entry", 11);
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_publish(A.s, NULL, NODE, "i1", pl, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 publish item i1");
        xmpp_stanza_unref(pl);
        pump(5, &B.ev_items, 0);
        check(B.ev_items >= 1 && strcmp(B.ev_payload, "first entry") == 0 &&
                  strcmp(B.ev_from, A.bare) == 0,
              "bob notified of the item, from alice's bare JID, with the payload");
        memset(&g, 0, sizeof(g));
        xmpp_pubsub_get_items(A.s, NULL, NODE, 1, NULL, 0, on_items, &g);
        pump(10, &g.calls, 0);
        check(g.calls == 1 && g.status == XMPP_IQ_RESULT && g.n == 1 &&
                  strcmp(g.ids, "i1,") == 0,
              "XEP-0060 items max_items=1");
        memset(&g, 0, sizeof(g));
        xmpp_pubsub_get_items(B.s, A.bare, NODE, 0, ids, 0, on_items, &g);
        pump(10, &g.calls, 0);
        check(g.calls == 1 && g.status == XMPP_IQ_RESULT && g.n == 1 &&
                  strcmp(g.text, "first entry") == 0,
              "XEP-0060 items by id (bob reads alice's node)");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_retract(A.s, NULL, NODE, "i1", 1, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 retract with notify");
        pump(5, &B.ev_retract, 0);
        check(B.ev_retract >= 1, "bob notified of the retraction");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_delete(A.s, NULL, NODE, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 delete the node");
        pump(3, &B.ev_delete, 0);
        if (B.ev_delete)
            check(1, "bob notified of the deletion");
        else
            printf("info: no delete notification to subscribers from this server\n");
        /* subscribe/unsubscribe on a second node */
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_create(A.s, NULL, NODE2, NULL, 0, on_done, &d);
        wait_done(&d);
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_subscribe(B.s, A.bare, NODE2, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 subscribe to a second node");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_unsubscribe(B.s, A.bare, NODE2, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 unsubscribe");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_delete(A.s, NULL, NODE2, 0, on_done, &d);
        wait_done(&d);
    }

    /* ---- XEP-0060 on a pubsub service (PUBSUB_SERVICE, when the server has one) */
    if (getenv("PUBSUB_SERVICE") && getenv("PUBSUB_SERVICE")[0]) {
        const char *svc = getenv("PUBSUB_SERVICE");
        done d;
        xmpp_stanza *pl = NULL;
        int before;
        char node[64];
        snprintf(node, sizeof(node), "libxmpp-it-%ld", (long)time(NULL));
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_create(A.s, svc, node, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 create a node on the pubsub service");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_subscribe(B.s, svc, node, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 subscribe to the service node");
        xmpp_pubsub_add_event_handler(B.s, svc, node, 0, on_event, &B, NULL);
        before = B.ev_items;
        xmpp_stanza_new(&pl, ctx, "entry", "urn:example:e");
        xmpp_stanza_set_text(pl, "service entry", 13);
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_publish(A.s, svc, node, NULL, pl, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 publish to the service (id chosen by it)");
        xmpp_stanza_unref(pl);
        pump(5, &B.ev_items, before);
        check(B.ev_items > before && strcmp(B.ev_from, svc) == 0 &&
                  strcmp(B.ev_payload, "service entry") == 0,
              "bob notified by the service JID");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_unsubscribe(B.s, svc, node, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 unsubscribe from the service node");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_delete(A.s, svc, node, 0, on_done, &d);
        check(wait_done(&d), "XEP-0060 delete the service node");
    } else {
        printf("info: no pubsub service on this server (PUBSUB_SERVICE unset): PEP only\n");
    }

    /* ---- spoofing through the real server */
    {
        xmpp_stanza *m = NULL, *ev, *items, *item, *c;
        int chats = A.chats;
        xmpp_pubsub_add_event_handler(A.s, NULL, NODE, 0, on_spoof, &A, NULL);
        xmpp_message_new(&m, ctx, "headline", A.bare, NULL, NULL);
        xmpp_stanza_add_child_new(m, "event", XMPP_NS_PUBSUB_EVENT, &ev);
        xmpp_stanza_add_child_new(ev, "items", NULL, &items);
        xmpp_stanza_set_attr(items, "node", XMPP_NS_BOOKMARKS2);
        xmpp_stanza_add_child_new(items, "item", NULL, &item);
        xmpp_stanza_set_attr(item, "id", ROOM);
        xmpp_stanza_add_child_new(item, "conference", XMPP_NS_BOOKMARKS2, &c);
        xmpp_stanza_set_attr(c, "autojoin", "true");
        xmpp_session_send(B.s, m);
        xmpp_stanza_set_attr(items, "node", NODE);
        xmpp_session_send(B.s, m);
        xmpp_stanza_unref(m);
        /* a chat message after them: once it is in, so are they */
        xmpp_message_new(&m, ctx, "chat", A.jid, NULL, "marker");
        xmpp_session_send(B.s, m);
        xmpp_stanza_unref(m);
        pump(5, &A.chats, chats);
        check(A.chats > chats && A.ev_spoof == 0 && A.bm_events == 0,
              "notifications sent by bob's full JID are refused (bookmarks, PEP node)");
    }

    /* ---- XEP-0223 */
    {
        done d;
        got g;
        xmpp_stanza *pl = NULL;
        static const char *const open[] = {"pubsub#access_model", "open", NULL};
        xmpp_stanza_new(&pl, ctx, "secret", "urn:example:s");
        xmpp_stanza_set_text(pl, "hidden", 6);
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_publish_private(A.s, PRIV, "current", pl, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0223 private publish (publish-options confirmed)");
        memset(&g, 0, sizeof(g));
        xmpp_pubsub_get_items(B.s, A.bare, PRIV, 0, NULL, 0, on_items, &g);
        pump(10, &g.calls, 0);
        check(g.calls == 1 && (g.status == XMPP_IQ_ERROR || g.n == 0),
              "bob cannot read the whitelisted node");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_create(A.s, NULL, OPEN, open, 0, on_done, &d);
        check(wait_done(&d), "a node created with access_model=open");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_publish(A.s, NULL, OPEN, "x", pl, (const char *const[]){"pubsub#access_model",
                                                                          "whitelist", NULL},
                            0, on_done, &d);
        pump(10, &d.calls, 0);
        check(d.calls == 1 && d.status == XMPP_IQ_ERROR &&
                  strcmp(d.cond, "precondition-not-met") == 0,
              "publish-options that differ: precondition-not-met");
        memset(&d, 0, sizeof(d));
        xmpp_pubsub_publish_private(A.s, OPEN, "current", pl, NULL, 0, on_done, &d);
        check(wait_done(&d), "XEP-0223 private publish reconfigures the open node");
        memset(&g, 0, sizeof(g));
        xmpp_pubsub_get_items(B.s, A.bare, OPEN, 0, NULL, 0, on_items, &g);
        pump(10, &g.calls, 0);
        check(g.calls == 1 && (g.status == XMPP_IQ_ERROR || g.n == 0),
              "bob cannot read it any more");
        xmpp_stanza_unref(pl);
    }

    /* ---- XEP-0049 */
    {
        done d;
        priv p;
        xmpp_stanza *el = NULL, *c = NULL;
        xmpp_stanza_new(&el, ctx, "prefs", "urn:example:prefs");
        xmpp_stanza_add_child_new(el, "color", NULL, &c);
        xmpp_stanza_set_text(c, "blue", 4);
        memset(&d, 0, sizeof(d));
        xmpp_private_set(A.s, el, 0, on_done, &d);
        check(wait_done(&d), "XEP-0049 set");
        xmpp_stanza_unref(el);
        memset(&p, 0, sizeof(p));
        xmpp_private_get(A.s, "prefs", "urn:example:prefs", 0, on_private, &p);
        pump(10, &p.calls, 0);
        check(p.calls == 1 && p.status == XMPP_IQ_RESULT && strcmp(p.color, "blue") == 0,
              "XEP-0049 get returns what was set");
    }

    /* ---- XEP-0084 */
    {
        unsigned char img[3000];
        size_t i;
        done d;
        avdata a;
        for (i = 0; i < sizeof(img); i++)
            img[i] = (unsigned char)(i * 7 + 3);
        memset(&d, 0, sizeof(d));
        check(xmpp_avatar_publish(A.s, img, XMPP_AVATAR_MAX_BYTES + 1, "image/png", 0, 0, 0,
                                  on_done, &d) == XMPP_ERR_LIMIT,
              "XEP-0084 an image over the size limit is refused");
        xmpp_avatar_publish(A.s, img, sizeof(img), "image/png", 32, 32, 0, on_done, &d);
        check(wait_done(&d), "XEP-0084 publish data and metadata");
        pump(5, &B.meta, 0);
        check(B.meta >= 1 && strcmp(B.meta_from, A.bare) == 0 && strlen(B.meta_id) == 40,
              "bob notified of the metadata (his +notify interest in caps)");
        memset(&a, 0, sizeof(a));
        if (B.meta)
            xmpp_avatar_fetch(B.s, A.bare, B.meta_id, 0, on_avdata, &a);
        pump(10, &a.calls, 0);
        check(a.calls == 1 && a.err == XMPP_OK && a.len == sizeof(img) &&
                  memcmp(a.buf, img, sizeof(img)) == 0,
              "XEP-0084 data fetched by id, SHA-1 checked");
        memset(&a, 0, sizeof(a));
        xmpp_avatar_fetch(B.s, A.bare, "0000000000000000000000000000000000000000", 0,
                          on_avdata, &a);
        pump(10, &a.calls, 0);
        check(a.calls == 1 && a.err != XMPP_OK, "an unknown avatar id gives no data");
    }

    /* ---- XEP-0402 / XEP-0048 */
    {
        xmpp_bookmark b;
        done d;
        bmlist l;
        memset(&b, 0, sizeof(b));
        b.jid = ROOM;
        b.name = "Room One";
        b.nick = "alice-nick";
        b.password = "room-secret";
        b.autojoin = 1;
        memset(&d, 0, sizeof(d));
        xmpp_bookmarks_add(A.s, &b, 0, on_done, &d);
        check(wait_done(&d), "bookmarks add");
        printf("info: bookmarks storage: %s\n",
               xmpp_bookmarks_get_storage(A.s) == XMPP_BOOKMARKS_PEP ? "XEP-0402 PEP"
                                                                      : "XEP-0048 private");
        memset(&l, 0, sizeof(l));
        xmpp_bookmarks_list(A.s, 0, on_bmlist, &l);
        pump(10, &l.calls, 0);
        check(l.calls == 1 && l.status == XMPP_IQ_RESULT && l.found && l.autojoin &&
                  strcmp(l.nick, "alice-nick") == 0 && strcmp(l.password, "room-secret") == 0 &&
                  strcmp(l.name, "Room One") == 0,
              "bookmarks list: jid, name, nick, password, autojoin");
        if (xmpp_bookmarks_get_storage(A.s) == XMPP_BOOKMARKS_PEP) {
            pump(5, &A.bm_events, 0);
            check(A.bm_events >= 1 && strcmp(A.bm_nick, "alice-nick") == 0,
                  "bookmark notification from our own account");
        }
        memset(&d, 0, sizeof(d));
        xmpp_bookmarks_remove(A.s, ROOM, 0, on_done, &d);
        check(wait_done(&d), "bookmarks remove");
        memset(&l, 0, sizeof(l));
        xmpp_bookmarks_list(A.s, 0, on_bmlist, &l);
        pump(10, &l.calls, 0);
        check(l.calls == 1 && l.status == XMPP_IQ_RESULT && !l.found, "bookmark gone");
        if (xmpp_bookmarks_get_storage(A.s) == XMPP_BOOKMARKS_PEP) {
            pump(5, &A.bm_removed, 0);
            check(A.bm_removed >= 1, "removal notification");
        }
    }

    xmpp_client_close(A.c);
    xmpp_client_close(B.c);
    pump(3, &B.closed, 0);
    xmpp_client_free(A.c);
    xmpp_client_free(B.c);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
    printf("info: %.1f s\n", now_s() - t0);
    printf("pubsub_client: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
