/* The plugin registry and the built-in plugins (disco, caps, ping,
 * version) driven by scripted server bytes, as in test_session.c:
 * enabling order, dependencies, duplicates, unknown names, cycles,
 * detaching; disco#info answers and sender checks (ORG-05); the XEP-0115
 * verification string vector; ping and version answers; ORG-08. */
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
#include <xmpp/xep/caps.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/ping.h>
#include <xmpp/xep/version.h>

#include "testhelp.h"
#include "transcript.h"

/* ---- registry, with plugins of our own that record their life */
static char g_log[512];

static void log_event(const char *what, const char *name) {
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof(g_log) - n, "%s:%s ", what, name);
}

static int rec_attach(xmpp_session *s, void **state, void *ud) {
    (void)s;
    log_event("attach", (const char *)ud);
    *state = ud;
    return XMPP_OK;
}

static void rec_detach(xmpp_session *s, void *state, void *ud) {
    (void)s;
    assert_ptr_equal(state, ud);
    log_event("detach", (const char *)ud);
}

static int fail_attach(xmpp_session *s, void **state, void *ud) {
    (void)s;
    (void)state;
    (void)ud;
    return XMPP_ERR_NOMEM;
}

static const char *const dep_b[] = {"b", NULL};
static const char *const dep_c[] = {"c", NULL};
static const char *const dep_d[] = {"d", NULL};
static const char *const dep_nope[] = {"nope", NULL};
static const char *const dep_bf[] = {"b", "f", NULL};
static const char *const feat_a[] = {"urn:example:a", NULL};

static const xmpp_plugin_desc P_A = {XMPP_PLUGIN_ABI_VERSION, "a", dep_b, feat_a, NULL, 0,
                                     rec_attach, rec_detach, (void *)"a"};
static const xmpp_plugin_desc P_B = {XMPP_PLUGIN_ABI_VERSION, "b", NULL, NULL, NULL, 0,
                                     rec_attach, rec_detach, (void *)"b"};
static const xmpp_plugin_desc P_C = {XMPP_PLUGIN_ABI_VERSION, "c", dep_d, NULL, NULL, 0,
                                     rec_attach, rec_detach, (void *)"c"};
static const xmpp_plugin_desc P_D = {XMPP_PLUGIN_ABI_VERSION, "d", dep_c, NULL, NULL, 0,
                                     rec_attach, rec_detach, (void *)"d"};
static const xmpp_plugin_desc P_E = {XMPP_PLUGIN_ABI_VERSION, "e", dep_nope, NULL, NULL, 0,
                                     rec_attach, rec_detach, (void *)"e"};
static const xmpp_plugin_desc P_F = {XMPP_PLUGIN_ABI_VERSION, "f", NULL, NULL, NULL, 0,
                                     fail_attach, rec_detach, (void *)"f"};
static const xmpp_plugin_desc P_G = {XMPP_PLUGIN_ABI_VERSION, "g", dep_bf, NULL, NULL, 0,
                                     rec_attach, rec_detach, (void *)"g"};
static const xmpp_plugin_desc P_OLD = {XMPP_PLUGIN_ABI_VERSION + 1, "old", NULL, NULL, NULL, 0,
                                       rec_attach, rec_detach, (void *)"old"};

static void test_registry(void **state) {
    struct fix *f = fix_new("alice@example.com", 1);
    xmpp_session *s = f->s;
    (void)state;
    g_log[0] = '\0';
    assert_int_equal(xmpp_session_plugin_count(s), 0);
    assert_int_equal(xmpp_session_register_plugin(s, &P_A), XMPP_OK);
    assert_int_equal(xmpp_session_register_plugin(s, &P_B), XMPP_OK);
    /* duplicates, built-in names and other ABI versions are refused */
    assert_int_equal(xmpp_session_register_plugin(s, &P_A), XMPP_ERR_INVALID);
    {
        xmpp_plugin_desc dup = P_B;
        dup.name = "disco";
        assert_int_equal(xmpp_session_register_plugin(s, &dup), XMPP_ERR_INVALID);
        dup.name = "bad name";
        assert_int_equal(xmpp_session_register_plugin(s, &dup), XMPP_ERR_INVALID);
    }
    assert_int_equal(xmpp_session_register_plugin(s, &P_OLD), XMPP_ERR_INVALID);
    /* dependencies first */
    assert_int_equal(xmpp_session_enable_plugin(s, "a"), XMPP_OK);
    assert_string_equal(g_log, "attach:b attach:a ");
    assert_int_equal(xmpp_session_plugin_count(s), 2);
    assert_string_equal(xmpp_session_plugin_at(s, 0)->name, "b");
    assert_string_equal(xmpp_session_plugin_at(s, 1)->name, "a");
    assert_null(xmpp_session_plugin_at(s, 2));
    assert_string_equal((const char *)xmpp_session_plugin_state(s, "a"), "a");
    assert_true(xmpp_session_plugin_enabled(s, "b"));
    /* enabling again attaches nothing again */
    assert_int_equal(xmpp_session_enable_plugin(s, "a"), XMPP_OK);
    assert_int_equal(xmpp_session_enable_plugin(s, "b"), XMPP_OK);
    assert_string_equal(g_log, "attach:b attach:a ");
    /* unknown names, unknown dependencies, cycles */
    assert_int_equal(xmpp_session_enable_plugin(s, "nope"), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_session_register_plugin(s, &P_C), XMPP_OK);
    assert_int_equal(xmpp_session_register_plugin(s, &P_D), XMPP_OK);
    assert_int_equal(xmpp_session_register_plugin(s, &P_E), XMPP_OK);
    assert_int_equal(xmpp_session_enable_plugin(s, "c"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_enable_plugin(s, "e"), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_session_plugin_count(s), 2);
    assert_string_equal(g_log, "attach:b attach:a ");
    /* a failing attach rolls back the dependencies enabled on the way */
    assert_int_equal(xmpp_session_disable_plugin(s, "a"), XMPP_OK);
    assert_int_equal(xmpp_session_disable_plugin(s, "b"), XMPP_OK);
    assert_string_equal(g_log, "attach:b attach:a detach:a detach:b ");
    g_log[0] = '\0';
    assert_int_equal(xmpp_session_register_plugin(s, &P_F), XMPP_OK);
    assert_int_equal(xmpp_session_register_plugin(s, &P_G), XMPP_OK);
    assert_int_equal(xmpp_session_enable_plugin(s, "g"), XMPP_ERR_NOMEM);
    assert_string_equal(g_log, "attach:b detach:b ");
    assert_int_equal(xmpp_session_plugin_count(s), 0);
    /* a plugin others depend on cannot go first; free detaches in reverse */
    g_log[0] = '\0';
    assert_int_equal(xmpp_session_enable_plugin(s, "a"), XMPP_OK);
    assert_int_equal(xmpp_session_disable_plugin(s, "b"), XMPP_ERR_STATE);
    assert_int_equal(xmpp_session_disable_plugin(s, "c"), XMPP_ERR_NOT_FOUND);
    /* built-ins: caps brings disco */
    assert_int_equal(xmpp_session_enable_plugin(s, "caps"), XMPP_OK);
    assert_true(xmpp_session_plugin_enabled(s, "disco"));
    assert_int_equal(xmpp_session_disable_plugin(s, "disco"), XMPP_ERR_STATE);
    fix_free(f);
    assert_string_equal(g_log, "attach:b attach:a detach:a detach:b ");
}

static void setup_unknown(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_enable_plugin(o, "nope"), XMPP_OK);
}

static void test_options_unknown(void **state) {
    xmpp_ctx *ctx;
    xmpp_session_options *o;
    xmpp_session *s = NULL;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    setup_unknown(o);
    assert_int_equal(xmpp_session_new(&s, ctx, o), XMPP_ERR_NOT_FOUND);
    assert_null(s);
    assert_int_equal(xmpp_session_options_disable_plugin(o, "nope"), XMPP_OK);
    assert_int_equal(xmpp_session_options_disable_plugin(o, "nope"), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_session_options_register_plugin(o, &P_A), XMPP_OK);
    assert_int_equal(xmpp_session_options_register_plugin(o, &P_B), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "a"), XMPP_OK);
    g_log[0] = '\0';
    assert_int_equal(xmpp_session_new(&s, ctx, o), XMPP_OK);
    assert_string_equal(g_log, "attach:b attach:a ");
    xmpp_session_free(s);
    xmpp_session_options_free(o);
    xmpp_ctx_free(ctx);
}

/* ---- the built-in plugins on a logged-in session */
static void setup_all(xmpp_session_options *o) {
    assert_int_equal(xmpp_session_options_enable_plugin(o, "ping"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "version"), XMPP_OK);
    assert_int_equal(xmpp_session_options_enable_plugin(o, "caps"), XMPP_OK);
}

static struct fix *login_all(void) {
    struct fix *f;
    g_setup = setup_all;
    f = login("alice@example.com", "alice@example.com/r");
    g_setup = NULL;
    take(f);
    return f;
}

static void test_disco_info_answer(void **state) {
    struct fix *f = login_all();
    (void)state;
    server(f, "<iq type='get' id='d1' from='bob@example.com/x' to='alice@example.com/r'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_non_null(strstr(f->out, "id=\"d1\""));
    assert_non_null(strstr(f->out, "to=\"bob@example.com/x\""));
    assert_int_equal(count_of(f->out, "<identity category=\"client\" type=\"pc\"/>"), 1);
    assert_int_equal(count_of(f->out, "var=\"http://jabber.org/protocol/disco#info\""), 1);
    assert_int_equal(count_of(f->out, "var=\"urn:xmpp:ping\""), 1);
    assert_int_equal(count_of(f->out, "var=\"jabber:iq:version\""), 1);
    assert_int_equal(count_of(f->out, "var=\"http://jabber.org/protocol/caps\""), 1);
    /* an unknown node: item-not-found */
    take(f);
    server(f, "<iq type='get' id='d2' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#info' node='urn:x#y'/></iq>");
    assert_non_null(strstr(f->out, "type=\"error\""));
    assert_non_null(strstr(f->out, "item-not-found"));
    /* the caps node#ver is answered, with the node echoed */
    {
        char *ver = NULL, req[512], node[256];
        assert_int_equal(xmpp_caps_ver(f->s, &ver), XMPP_OK);
        snprintf(node, sizeof(node), "%s#%s", xmpp_caps_node(f->s), ver);
        snprintf(req, sizeof(req),
                 "<iq type='get' id='d3' from='bob@example.com/x'>"
                 "<query xmlns='http://jabber.org/protocol/disco#info' node='%s'/></iq>",
                 node);
        take(f);
        server(f, req);
        assert_non_null(strstr(f->out, "type=\"result\""));
        assert_non_null(strstr(f->out, node));
        assert_non_null(strstr(f->out, "var=\"urn:xmpp:ping\""));
        xmpp_free(f->ctx, ver);
    }
    /* disabled: the session answers service-unavailable again */
    assert_int_equal(xmpp_session_disable_plugin(f->s, "caps"), XMPP_OK);
    assert_int_equal(xmpp_session_disable_plugin(f->s, "disco"), XMPP_OK);
    take(f);
    server(f, "<iq type='get' id='d4' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_non_null(strstr(f->out, "service-unavailable"));
    fix_free(f);
}

struct info_seen {
    int calls;
    xmpp_iq_status status;
    int has_ping, n_features, n_identities;
    char category[32];
};

static void on_info(xmpp_session *s, xmpp_iq_status status, const xmpp_disco_info *info,
                    xmpp_stanza *error, void *ud) {
    struct info_seen *r = ud;
    (void)s;
    (void)error;
    r->calls++;
    r->status = status;
    if (info) {
        const char *cat = NULL;
        r->has_ping = xmpp_disco_info_has_feature(info, "urn:xmpp:ping");
        r->n_features = (int)xmpp_disco_info_feature_count(info);
        r->n_identities = (int)xmpp_disco_info_identity_count(info);
        if (xmpp_disco_info_identity_at(info, 0, &cat, NULL, NULL, NULL) == XMPP_OK)
            snprintf(r->category, sizeof(r->category), "%s", cat);
        assert_int_equal(xmpp_disco_info_identity_at(info, 5, NULL, NULL, NULL, NULL),
                         XMPP_ERR_NOT_FOUND);
        assert_string_equal(xmpp_disco_info_from(info), "bob@example.com/x");
    }
}

static void test_disco_request_sender(void **state) {
    struct fix *f = login_all();
    struct info_seen r;
    const char *id;
    char buf[1024];
    int idlen;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_disco_info_request(f->s, "bob@example.com/x", NULL, 0, on_info, &r),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<query xmlns=\"http://jabber.org/protocol/disco#info\"/>"));
    id = strstr(f->out, "id=\"");
    assert_non_null(id);
    idlen = (int)(strchr(id + 4, '"') - id - 4);
    /* a reply with the right id from someone else is not accepted */
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%.*s' from='mallory@evil.example/x'>"
             "<query xmlns='http://jabber.org/protocol/disco#info'>"
             "<feature var='urn:evil'/></query></iq>",
             idlen, id + 4);
    server(f, buf);
    assert_int_equal(r.calls, 0);
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%.*s' from='bob@example.com/x'>"
             "<query xmlns='http://jabber.org/protocol/disco#info'>"
             "<identity category='client' type='phone' name='Bob'/>"
             "<feature var='http://jabber.org/protocol/disco#info'/>"
             "<feature var='urn:xmpp:ping'/></query></iq>",
             idlen, id + 4);
    server(f, buf);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(r.has_ping, 1);
    assert_int_equal(r.n_features, 2);
    assert_int_equal(r.n_identities, 1);
    assert_string_equal(r.category, "client");
    fix_free(f);
}

static void test_caps_vector(void **state) {
    /* XEP-0115 §5.2, the simple generation example */
    static const xmpp_plugin_identity exodus = {"client", "pc", "Exodus 0.9.1", NULL};
    const xmpp_plugin_identity *ids[1];
    const char *features[] = {"http://jabber.org/protocol/disco#info",
                              "http://jabber.org/protocol/disco#items",
                              "http://jabber.org/protocol/muc",
                              "http://jabber.org/protocol/caps",
                              "http://jabber.org/protocol/muc"}; /* a duplicate counts once */
    xmpp_ctx *ctx;
    char *ver = NULL;
    (void)state;
    ids[0] = &exodus;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_caps_compute_ver(ctx, ids, 1, features, 5, &ver), XMPP_OK);
    assert_string_equal(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
    xmpp_free(ctx, ver);
    assert_int_equal(xmpp_caps_compute_ver(ctx, ids, 1, features, 4, &ver), XMPP_OK);
    assert_string_equal(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
    xmpp_free(ctx, ver);
    xmpp_ctx_free(ctx);
}

static void test_caps_decorate(void **state) {
    struct fix *f = login_all();
    xmpp_stanza *pres = NULL;
    char *ver = NULL, *ver2 = NULL, *out = NULL;
    (void)state;
    assert_int_equal(xmpp_caps_set_node(f->s, "https://example.org/app"), XMPP_OK);
    assert_int_equal(xmpp_caps_ver(f->s, &ver), XMPP_OK);
    assert_int_equal(xmpp_presence_new(&pres, f->ctx, NULL, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_caps_decorate(f->s, pres), XMPP_OK);
    assert_int_equal(xmpp_caps_decorate(f->s, pres), XMPP_OK); /* replaced, not added */
    assert_int_equal(xmpp_stanza_serialize(pres, "jabber:client", &out, NULL), XMPP_OK);
    assert_int_equal(count_of(out, "<c xmlns=\"http://jabber.org/protocol/caps\""), 1);
    assert_non_null(strstr(out, "node=\"https://example.org/app\""));
    assert_non_null(strstr(out, ver));
    xmpp_free(f->ctx, out);
    /* the hash follows the enabled plugins */
    assert_int_equal(xmpp_session_disable_plugin(f->s, "version"), XMPP_OK);
    assert_int_equal(xmpp_caps_ver(f->s, &ver2), XMPP_OK);
    assert_string_not_equal(ver, ver2);
    xmpp_free(f->ctx, ver);
    xmpp_free(f->ctx, ver2);
    xmpp_stanza_unref(pres);
    assert_int_equal(xmpp_session_disable_plugin(f->s, "caps"), XMPP_OK);
    assert_int_equal(xmpp_caps_ver(f->s, &ver), XMPP_ERR_STATE);
    fix_free(f);
}

static void test_ping_version(void **state) {
    struct fix *f = login_all();
    (void)state;
    server(f, "<iq type='get' id='p1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_non_null(strstr(f->out, "id=\"p1\""));
    take(f);
    server(f, "<iq type='get' id='v1' from='bob@example.com/x'>"
              "<query xmlns='jabber:iq:version'/></iq>");
    assert_non_null(strstr(f->out, "<name>libxmpp</name>"));
    assert_non_null(strstr(f->out, "<version>"));
    assert_null(strstr(f->out, "<os>")); /* private by default */
    assert_int_equal(xmpp_version_set(f->s, "App", "1.2", NULL), XMPP_OK);
    take(f);
    server(f, "<iq type='get' id='v2' from='bob@example.com/x'>"
              "<query xmlns='jabber:iq:version'/></iq>");
    assert_non_null(strstr(f->out, "<name>App</name><version>1.2</version></query>"));
    assert_int_equal(xmpp_version_set(f->s, "App", "1.2", "Linux"), XMPP_OK);
    take(f);
    server(f, "<iq type='get' id='v3' from='bob@example.com/x'>"
              "<query xmlns='jabber:iq:version'/></iq>");
    assert_non_null(strstr(f->out, "<os>Linux</os>"));
    /* an IQ nobody handles still gets service-unavailable (ORG-08) */
    take(f);
    server(f, "<iq type='get' id='u1' from='bob@example.com/x'>"
              "<query xmlns='urn:example:unknown'/></iq>");
    assert_non_null(strstr(f->out, "type=\"error\""));
    assert_non_null(strstr(f->out, "service-unavailable"));
    /* a ping set is not a ping */
    take(f);
    server(f, "<iq type='set' id='u2' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_non_null(strstr(f->out, "service-unavailable"));
    /* disabled: pings get service-unavailable */
    assert_int_equal(xmpp_session_disable_plugin(f->s, "ping"), XMPP_OK);
    take(f);
    server(f, "<iq type='get' id='p2' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_non_null(strstr(f->out, "service-unavailable"));
    assert_int_equal(xmpp_version_set(f->s, "App", "1.2", NULL), XMPP_OK);
    assert_int_equal(xmpp_session_disable_plugin(f->s, "version"), XMPP_OK);
    assert_int_equal(xmpp_version_set(f->s, "App", "1.2", NULL), XMPP_ERR_STATE);
    fix_free(f);
}

struct ping_seen {
    int calls;
    xmpp_iq_status status;
};

static void on_pong(xmpp_session *s, xmpp_iq_status status, void *ud) {
    struct ping_seen *p = ud;
    (void)s;
    p->calls++;
    p->status = status;
}

static void test_ping_request(void **state) {
    struct fix *f = login_all();
    struct ping_seen p;
    const char *id;
    char buf[512];
    int idlen;
    (void)state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(xmpp_ping_send(f->s, "bob@example.com/x", 0, on_pong, &p), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<ping xmlns=\"urn:xmpp:ping\"/>"));
    id = strstr(f->out, "id=\"");
    idlen = (int)(strchr(id + 4, '"') - id - 4);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%.*s' from='eve@example.com/x'/>", idlen,
             id + 4);
    server(f, buf);
    assert_int_equal(p.calls, 0);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%.*s' from='bob@example.com/x'/>", idlen,
             id + 4);
    server(f, buf);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.status, XMPP_IQ_RESULT);
    /* a pending ping completes with CANCELLED when the session is freed */
    assert_int_equal(xmpp_ping_send(f->s, NULL, 0, on_pong, &p), XMPP_OK);
    fix_free(f);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.status, XMPP_IQ_CANCELLED);
}

/* ---- XEP-0115 receiving side: ask once, verify, cache */
struct caps_seen {
    int calls;
    char jid[128];
    int has_muc;
};

static void on_caps(xmpp_session *s, const char *jid, const xmpp_disco_info *info, void *ud) {
    struct caps_seen *c = ud;
    (void)s;
    c->calls++;
    snprintf(c->jid, sizeof(c->jid), "%s", jid);
    c->has_muc = xmpp_disco_info_has_feature(info, "http://jabber.org/protocol/muc");
}

/* The id of the last request in the output. */
static void last_id(struct fix *f, char *out, size_t n) {
    const char *id = strstr(f->out, "id=\"");
    assert_non_null(id);
    snprintf(out, n, "%.*s", (int)(strchr(id + 4, '"') - id - 4), id + 4);
}

#define PSI_VER "q07IKJEyjvHSyhy//CH0CxmKi8w="
/* XEP-0115 §5.3, the complex generation example (with an XEP-0128 form) */
#define PSI_QUERY(node)                                                                      \
    "<query xmlns='http://jabber.org/protocol/disco#info' node='" node "'>"                  \
    "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"                  \
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"             \
    "<feature var='http://jabber.org/protocol/caps'/>"                                       \
    "<feature var='http://jabber.org/protocol/disco#info'/>"                                 \
    "<feature var='http://jabber.org/protocol/disco#items'/>"                                \
    "<feature var='http://jabber.org/protocol/muc'/>"                                        \
    "<x xmlns='jabber:x:data' type='result'>"                                                \
    "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>" \
    "<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>"                 \
    "<field var='os'><value>Mac</value></field>"                                             \
    "<field var='os_version'><value>10.5.1</value></field>"                                  \
    "<field var='software'><value>Psi</value></field>"                                       \
    "<field var='software_version'><value>0.11</value></field>"                              \
    "</x></query>"

static void test_caps_receive(void **state) {
    struct fix *f = login_all();
    struct caps_seen c;
    char id[64], buf[4096];
    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(xmpp_caps_set_callback(f->s, on_caps, &c), XMPP_OK);
    assert_int_equal(xmpp_caps_has_feature(f->s, "bob@example.com/psi", "urn:x"),
                     XMPP_ERR_NOT_FOUND);
    take(f);
    server(f, "<presence from='bob@example.com/psi'><c xmlns='http://jabber.org/protocol/caps' "
              "hash='sha-1' node='http://psi-im.org' ver='" PSI_VER "'/></presence>");
    assert_non_null(strstr(f->out, "to=\"bob@example.com/psi\""));
    assert_non_null(strstr(f->out, "node=\"http://psi-im.org#" PSI_VER "\""));
    last_id(f, id, sizeof(id));
    /* a second peer with the same ver while the query is out: no new query */
    take(f);
    server(f, "<presence from='carol@example.com/psi'><c xmlns='http://jabber.org/protocol/caps' "
              "hash='sha-1' node='http://psi-im.org' ver='" PSI_VER "'/></presence>");
    assert_int_equal(f->out_len, 0);
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='bob@example.com/psi'>%s</iq>", id,
             PSI_QUERY("http://psi-im.org#" PSI_VER));
    server(f, buf);
    assert_int_equal(c.calls, 2); /* both peers */
    assert_int_equal(c.has_muc, 1);
    assert_int_equal(xmpp_caps_cache_size(f->s), 1);
    assert_int_equal(xmpp_caps_has_feature(f->s, "bob@example.com/psi",
                                           "http://jabber.org/protocol/muc"), 1);
    assert_int_equal(xmpp_caps_has_feature(f->s, "carol@example.com/psi", "urn:nope"), 0);
    /* a third peer: answered from the cache, nothing sent */
    take(f);
    server(f, "<presence from='dave@example.com/psi'><c xmlns='http://jabber.org/protocol/caps' "
              "hash='sha-1' node='http://psi-im.org' ver='" PSI_VER "'/></presence>");
    assert_int_equal(f->out_len, 0);
    assert_int_equal(c.calls, 3);
    assert_string_equal(c.jid, "dave@example.com/psi");
    /* unavailable: forgotten */
    server(f, "<presence type='unavailable' from='dave@example.com/psi'/>");
    assert_int_equal(xmpp_caps_has_feature(f->s, "dave@example.com/psi", "urn:x"),
                     XMPP_ERR_NOT_FOUND);
    fix_free(f);
}

static void test_caps_poisoning(void **state) {
    struct fix *f = login_all();
    struct caps_seen c;
    char id[64], buf[4096];
    int i;
    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(xmpp_caps_set_callback(f->s, on_caps, &c), XMPP_OK);
    /* an answer that does not hash to the ver is not cached */
    take(f);
    server(f, "<presence from='eve@example.com/x'><c xmlns='http://jabber.org/protocol/caps' "
              "hash='sha-1' node='n' ver='" PSI_VER "'/></presence>");
    last_id(f, id, sizeof(id));
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s' from='eve@example.com/x'>"
             "<query xmlns='http://jabber.org/protocol/disco#info'>"
             "<identity category='client' type='pc'/><feature var='urn:evil'/></query></iq>",
             id);
    server(f, buf);
    assert_int_equal(c.calls, 0);
    assert_int_equal(xmpp_caps_cache_size(f->s), 0);
    /* §5.4: a duplicate feature makes the answer invalid even if the
     * hash of the deduplicated list would match */
    take(f);
    server(f, "<presence from='eve@example.com/y'><c xmlns='http://jabber.org/protocol/caps' "
              "hash='sha-1' node='n' ver='" PSI_VER "'/></presence>");
    last_id(f, id, sizeof(id));
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s' from='eve@example.com/y'>%s</iq>", id,
             PSI_QUERY("n#" PSI_VER));
    /* insert a duplicate feature */
    {
        char *p = strstr(buf, "<feature");
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%.*s<feature var='http://jabber.org/protocol/muc'/>%s",
                 (int)(p - buf), buf, p);
        server(f, tmp);
    }
    assert_int_equal(c.calls, 0);
    assert_int_equal(xmpp_caps_cache_size(f->s), 0);
    /* a flood of made-up vers: at most 8 queries in flight */
    take(f);
    for (i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf),
                 "<presence from='m%d@example.com/x'><c xmlns='http://jabber.org/protocol/caps' "
                 "hash='sha-1' node='n' ver='v%d'/></presence>", i, i);
        server(f, buf);
    }
    assert_int_equal(count_of(f->out, "disco#info"), 8);
    /* legacy caps (no hash) and bare-JID senders are ignored */
    take(f);
    server(f, "<presence from='old@example.com/x'><c xmlns='http://jabber.org/protocol/caps' "
              "node='n' ver='1.0'/></presence>"
              "<presence from='bare@example.com'><c xmlns='http://jabber.org/protocol/caps' "
              "hash='sha-1' node='n' ver='zz'/></presence>");
    assert_int_equal(f->out_len, 0);
    fix_free(f);
}

struct items_seen {
    int calls;
    size_t n;
    char first[128];
};

static void on_items(xmpp_session *s, xmpp_iq_status status, const xmpp_disco_items *items,
                     xmpp_stanza *error, void *ud) {
    struct items_seen *r = ud;
    const char *jid = NULL, *name = NULL;
    (void)s;
    (void)error;
    r->calls++;
    assert_int_equal(status, XMPP_IQ_RESULT);
    r->n = xmpp_disco_items_count(items);
    assert_int_equal(xmpp_disco_items_at(items, 0, &jid, NULL, &name), XMPP_OK);
    snprintf(r->first, sizeof(r->first), "%s|%s", jid, name ? name : "");
    assert_int_equal(xmpp_disco_items_at(items, r->n, &jid, NULL, NULL), XMPP_ERR_NOT_FOUND);
}

static void test_disco_items(void **state) {
    struct fix *f = login_all();
    struct items_seen r;
    char id[64], buf[1024];
    (void)state;
    memset(&r, 0, sizeof(r));
    /* the responder: an empty list, item-not-found for a node */
    server(f, "<iq type='get' id='i1' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    assert_non_null(strstr(f->out, "type=\"result\""));
    assert_non_null(strstr(f->out, "<query xmlns=\"http://jabber.org/protocol/disco#items\"/>"));
    take(f);
    server(f, "<iq type='get' id='i2' from='bob@example.com/x'>"
              "<query xmlns='http://jabber.org/protocol/disco#items' node='x'/></iq>");
    assert_non_null(strstr(f->out, "item-not-found"));
    take(f);
    assert_int_equal(xmpp_disco_items_request(f->s, "example.com", NULL, 0, on_items, &r),
                     XMPP_OK);
    pump(f);
    last_id(f, id, sizeof(id));
    /* an item without jid is not counted */
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s' from='example.com'>"
             "<query xmlns='http://jabber.org/protocol/disco#items'><item name='broken'/>"
             "<item jid='upload.example.com' name='Upload'/>"
             "<item jid='conference.example.com'/></query></iq>", id);
    server(f, buf);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.first, "upload.example.com|Upload");
    fix_free(f);
}

struct form_seen {
    int calls;
    char max[32];
    int missing;
};

static void on_info_form(xmpp_session *s, xmpp_iq_status status, const xmpp_disco_info *info,
                         xmpp_stanza *error, void *ud) {
    struct form_seen *r = ud;
    char *v = NULL;
    (void)s;
    (void)error;
    (void)status;
    r->calls++;
    assert_non_null(xmpp_disco_info_form(info, "urn:xmpp:http:upload:0"));
    assert_null(xmpp_disco_info_form(info, "urn:other"));
    assert_int_equal(xmpp_disco_info_form_value(info, "urn:xmpp:http:upload:0", "max-file-size", &v),
                     XMPP_OK);
    snprintf(r->max, sizeof(r->max), "%s", v);
    xmpp_free(xmpp_session_ctx(s), v);
    r->missing = xmpp_disco_info_form_value(info, "urn:xmpp:http:upload:0", "nope", &v);
}

static void test_disco_info_forms(void **state) {
    struct fix *f = login_all();
    struct form_seen r;
    char id[64], buf[1024];
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_disco_info_request(f->s, "upload.example.com", NULL, 0, on_info_form, &r),
                     XMPP_OK);
    pump(f);
    last_id(f, id, sizeof(id));
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s' from='upload.example.com'>"
             "<query xmlns='http://jabber.org/protocol/disco#info'>"
             "<feature var='urn:xmpp:http:upload:0'/>"
             "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='text'>"
             "<value>urn:xmpp:http:upload:0</value></field>"
             "<field var='max-file-size'><value>1</value></field></x>"
             "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
             "<value>urn:xmpp:http:upload:0</value></field>"
             "<field var='max-file-size'><value>5242880</value></field></x>"
             "</query></iq>", id);
    server(f, buf);
    /* the form whose FORM_TYPE is not hidden is not taken */
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.max, "5242880");
    assert_int_equal(r.missing, XMPP_ERR_NOT_FOUND);
    fix_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_options_unknown),
        cmocka_unit_test(test_disco_info_answer),
        cmocka_unit_test(test_disco_request_sender),
        cmocka_unit_test(test_caps_vector),
        cmocka_unit_test(test_caps_decorate),
        cmocka_unit_test(test_ping_version),
        cmocka_unit_test(test_ping_request),
        cmocka_unit_test(test_caps_receive),
        cmocka_unit_test(test_caps_poisoning),
        cmocka_unit_test(test_disco_items),
        cmocka_unit_test(test_disco_info_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
