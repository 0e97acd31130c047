/* XEP-0092 Software Version responder. Uses only the public plugin
 * interface. The operating system is omitted unless the application sets
 * it (XEP-0092 §5: it helps an attacker pick exploits). */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/version.h>

#include "plugin/plugin_int.h"

struct version_state {
    unsigned long handler;
    char *name, *version, *os;
};

static int add_text_child(xmpp_stanza *parent, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(parent, name, NULL, &c);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

static int on_version(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct version_state *vs = ud;
    xmpp_stanza *res = NULL, *q = NULL;
    if (xmpp_iq_result_new(&res, st) == XMPP_OK &&
        xmpp_stanza_add_child_new(res, "query", XMPP_NS_VERSION, &q) == XMPP_OK &&
        add_text_child(q, "name", vs->name ? vs->name : "libxmpp") == XMPP_OK &&
        add_text_child(q, "version", vs->version ? vs->version : xmpp_version_string()) ==
            XMPP_OK &&
        (vs->os == NULL || add_text_child(q, "os", vs->os) == XMPP_OK))
        (void)xmpp_session_send(s, res);
    xmpp_stanza_unref(res);
    return 1;
}

static void vs_free(xmpp_ctx *ctx, struct version_state *vs) {
    xmpp_free(ctx, vs->name);
    xmpp_free(ctx, vs->version);
    xmpp_free(ctx, vs->os);
    xmpp_free(ctx, vs);
}

static int version_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct version_state *vs = xmpp__malloc(ctx, sizeof(*vs));
    int rc;
    (void)ud;
    if (vs == NULL)
        return XMPP_ERR_NOMEM;
    memset(vs, 0, sizeof(*vs));
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_VERSION, "get", on_version, vs, &vs->handler);
    if (rc != XMPP_OK) {
        vs_free(ctx, vs);
        return rc;
    }
    *state = vs;
    return XMPP_OK;
}

static void version_detach(xmpp_session *s, void *state, void *ud) {
    struct version_state *vs = state;
    (void)ud;
    xmpp_session_remove_handler(s, vs->handler);
    vs_free(xmpp_session_ctx(s), vs);
}

static const char *const version_features[] = {XMPP_NS_VERSION, NULL};

const xmpp_plugin_desc xmpp__plugin_version = {
    XMPP_PLUGIN_ABI_VERSION, "version", NULL, version_features, NULL, 0,
    version_attach,          version_detach, NULL};

int xmpp_version_set(xmpp_session *s, const char *name, const char *version, const char *os) {
    struct version_state *vs = xmpp_session_plugin_state(s, "version");
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    char *n, *v, *o = NULL;
    if (name == NULL || version == NULL || !xmpp__xml_text_ok(name, strlen(name)) ||
        !xmpp__xml_text_ok(version, strlen(version)) ||
        (os && !xmpp__xml_text_ok(os, strlen(os))))
        return XMPP_ERR_INVALID;
    if (vs == NULL)
        return XMPP_ERR_STATE;
    n = xmpp__strdup(ctx, name);
    v = xmpp__strdup(ctx, version);
    if (os)
        o = xmpp__strdup(ctx, os);
    if (n == NULL || v == NULL || (os && o == NULL)) {
        xmpp_free(ctx, n);
        xmpp_free(ctx, v);
        xmpp_free(ctx, o);
        return XMPP_ERR_NOMEM;
    }
    xmpp_free(ctx, vs->name);
    xmpp_free(ctx, vs->version);
    xmpp_free(ctx, vs->os);
    vs->name = n;
    vs->version = v;
    vs->os = o;
    return XMPP_OK;
}
