/* XEP-0077 In-Band Registration for a logged-in account: password change
 * and cancellation. Uses only the public interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/xep/register.h>

#include "xep/roster_int.h"

struct reg_req {
    xmpp_iq_fn cb;
    void *ud;
    char *password; /* the new one, set on the session on success */
};

static void wipe_free(xmpp_ctx *ctx, char *p) {
    if (p) {
        volatile char *v = p;
        while (*v)
            *v++ = 0;
        xmpp_free(ctx, p);
    }
}

static void reg_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct reg_req r = *(struct reg_req *)ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_free(ctx, ud);
    if (status == XMPP_IQ_RESULT && r.password)
        (void)xmpp_session_set_password(s, r.password);
    wipe_free(ctx, r.password);
    if (r.cb)
        r.cb(s, status, reply, r.ud);
}

static int add_text(xmpp_stanza *q, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(q, name, NULL, &c);
    if (rc == XMPP_OK && text)
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

/* To the own server (service NULL: username from the session's JID, and
 * the session learns the new password) or to a gateway. */
static int send_reg(xmpp_session *s, const char *service, const char *username,
                    const char *password, unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    xmpp_ctx *ctx;
    xmpp_jid *me = NULL, *to = NULL;
    xmpp_stanza *iq = NULL, *q = NULL;
    struct reg_req *r;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    ctx = xmpp_session_ctx(s);
    if (service) {
        if ((rc = xmpp_jid_parse(&to, ctx, service)) != XMPP_OK)
            return XMPP_ERR_INVALID;
        rc = xmpp__im_iq_new(s, "set", xmpp_jid_full(to), "query", XMPP_NS_REGISTER, &iq, &q);
        xmpp_jid_free(to);
    } else {
        if (xmpp_session_jid(s) == NULL ||
            xmpp_jid_parse(&me, ctx, xmpp_session_jid(s)) != XMPP_OK)
            return XMPP_ERR_STATE;
        if ((username = xmpp_jid_local(me)) == NULL) {
            xmpp_jid_free(me);
            return XMPP_ERR_STATE;
        }
        rc = xmpp__im_iq_new(s, "set", xmpp_jid_domain(me), "query", XMPP_NS_REGISTER, &iq, &q);
    }
    if (rc == XMPP_OK && password) {
        rc = add_text(q, "username", username);
        if (rc == XMPP_OK)
            rc = add_text(q, "password", password);
    } else if (rc == XMPP_OK) {
        rc = add_text(q, "remove", NULL);
    }
    xmpp_jid_free(me);
    if (rc == XMPP_OK && (r = xmpp__malloc(ctx, sizeof(*r))) == NULL)
        rc = XMPP_ERR_NOMEM;
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    r->cb = cb;
    r->ud = user_data;
    r->password = NULL;
    if (password && service == NULL && (r->password = xmpp__strdup(ctx, password)) == NULL) {
        xmpp_free(ctx, r);
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    rc = xmpp_session_send_iq(s, iq, timeout_ms, reg_done, r);
    if (rc != XMPP_OK) {
        wipe_free(ctx, r->password);
        xmpp_free(ctx, r);
    }
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_register_change_password(xmpp_session *s, const char *new_password,
                                  unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    size_t n;
    if (new_password == NULL || (n = strlen(new_password)) == 0 || n > 1023)
        return XMPP_ERR_INVALID;
    return send_reg(s, NULL, NULL, new_password, timeout_ms, cb, user_data);
}

int xmpp_register_cancel(xmpp_session *s, unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    return send_reg(s, NULL, NULL, NULL, timeout_ms, cb, user_data);
}

int xmpp_register_service(xmpp_session *s, const char *service, const char *username,
                          const char *password, unsigned timeout_ms, xmpp_iq_fn cb,
                          void *user_data) {
    if (service == NULL || username == NULL || password == NULL || *username == '\0')
        return XMPP_ERR_INVALID;
    return send_reg(s, service, username, password, timeout_ms, cb, user_data);
}

int xmpp_register_service_cancel(xmpp_session *s, const char *service, unsigned timeout_ms,
                                 xmpp_iq_fn cb, void *user_data) {
    if (service == NULL)
        return XMPP_ERR_INVALID;
    return send_reg(s, service, NULL, NULL, timeout_ms, cb, user_data);
}
