/* XEP-0077 In-Band Registration before login: after TLS, when the options
 * ask for it and the server offers it, one iq set with the legacy fields
 * (username, password, e-mail); its outcome goes to the application,
 * then the session authenticates as usual. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/stanza.h>
#include <xmpp/xep/register.h>

#include "session/session_int.h"

static void report(xmpp_session *s, int ok, xmpp_stanza_condition cond, const char *text) {
    xmpp_register_result_fn cb = s->o.reg_cb;
    s->o.reg_cb = NULL; /* once per session: a reconnection only logs in */
    if (cb)
        cb(s, ok, cond, text, s->o.reg_ud);
}

static int add_field(xmpp_stanza *q, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(q, name, NULL, &c);
    if (rc == XMPP_OK && text)
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

int xmpp__register_start(xmpp_session *s, const xmpp_stanza *features) {
    xmpp_stanza *iq = NULL, *q = NULL;
    int rc;
    if (xmpp_stanza_child(features, "register", XMPP_NS_REGISTER_FEATURE) == NULL) {
        report(s, 0, XMPP_EC_FEATURE_NOT_IMPLEMENTED, "in-band registration is not offered");
        return s->step != STEP_FEATURES; /* closed from the callback */
    }
    if (xmpp_jid_local(s->jid) == NULL || s->o.password == NULL) {
        report(s, 0, XMPP_EC_NOT_ACCEPTABLE, "the JID has no localpart, or no password is set");
        return s->step != STEP_FEATURES;
    }
    xmpp_session_new_id(s, s->reg_id, sizeof(s->reg_id));
    rc = xmpp_iq_new(&iq, s->ctx, "set", NULL, s->reg_id);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_child_new(iq, "query", XMPP_NS_REGISTER, &q);
    if (rc == XMPP_OK)
        rc = add_field(q, "username", xmpp_jid_local(s->jid));
    if (rc == XMPP_OK)
        rc = add_field(q, "password", s->o.password);
    if (rc == XMPP_OK && s->o.reg_email)
        rc = add_field(q, "email", s->o.reg_email);
    if (rc == XMPP_ERR_UTF8 || rc == XMPP_ERR_INVALID) {
        xmpp_stanza_unref(iq);
        report(s, 0, XMPP_EC_BAD_REQUEST, "a registration field is not valid text");
        return s->step != STEP_FEATURES;
    }
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return 1;
    }
    xmpp_stanza_unref(s->reg_features);
    s->reg_features = xmpp_stanza_ref((xmpp_stanza *)features);
    s->step = STEP_REGISTER;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "registering %s (XEP-0077)",
              xmpp_jid_bare(s->jid));
    /* the password goes out here, inside TLS (or plaintext allowed explicitly) */
    if (xmpp__session_write_stanza(s, iq, NULL) != XMPP_OK)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    xmpp_stanza_unref(iq);
    return 1;
}

void xmpp__register_stanza(xmpp_session *s, xmpp_stanza *st) {
    const char *type = xmpp_stanza_type(st), *id = xmpp_stanza_id(st);
    xmpp_stanza *features = s->reg_features;
    const char *n = xmpp_stanza_name(st), *ns = xmpp_stanza_ns(st);
    if (n == NULL || strcmp(n, "iq") != 0 || ns == NULL || strcmp(ns, XMPP_NS_CLIENT) != 0 ||
        id == NULL || strcmp(id, s->reg_id) != 0 || type == NULL ||
        (strcmp(type, "result") != 0 && strcmp(type, "error") != 0)) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "unexpected answer to the registration");
        return;
    }
    s->reg_features = NULL;
    s->step = STEP_FEATURES; /* between steps while the application hears of it */
    if (strcmp(type, "result") == 0) {
        report(s, 1, (xmpp_stanza_condition)0, NULL);
    } else {
        xmpp_stanza_condition cond = XMPP_EC_UNDEFINED_CONDITION;
        const char *text = NULL;
        if (xmpp_stanza_get_error(st, &cond, &text) != XMPP_OK)
            cond = XMPP_EC_UNDEFINED_CONDITION;
        report(s, 0, cond, text);
    }
    if (s->step == STEP_FEATURES)
        xmpp__neg_login(s, features);
    xmpp_stanza_unref(features);
}
