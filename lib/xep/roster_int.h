/* Helpers shared by the instant-messaging plugins (roster, presence,
 * blocking, register). They use only the public interface. */
#ifndef XMPP_XEP_ROSTER_INT_H
#define XMPP_XEP_ROSTER_INT_H

#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>

/* RFC 6121 §2.1.6 (SECURITY ORG-02): a push is from the account when it
 * has no 'from' or a 'from' equal to the account's bare JID (prepared
 * form; a full JID, even of the account, does not qualify). */
static inline int xmpp__im_from_account(xmpp_session *s, const char *from) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_jid *me = NULL, *f = NULL;
    int ok = 0;
    if (from == NULL)
        return 1;
    if (xmpp_session_jid(s) == NULL)
        return 0;
    if (xmpp_jid_parse(&me, ctx, xmpp_session_jid(s)) == XMPP_OK &&
        xmpp_jid_parse(&f, ctx, from) == XMPP_OK)
        ok = !xmpp_jid_is_full(f) && xmpp_jid_bare_equal(me, f);
    xmpp_jid_free(me);
    xmpp_jid_free(f);
    return ok;
}

/* Answers an IQ request with an error (best effort). */
static inline void xmpp__im_iq_error(xmpp_session *s, const xmpp_stanza *req,
                                     xmpp_stanza_condition cond) {
    xmpp_stanza *err = NULL;
    if (xmpp_stanza_error_new(&err, req, cond, NULL) == XMPP_OK)
        (void)xmpp_session_send(s, err);
    xmpp_stanza_unref(err);
}

/* Answers an IQ request with an empty result (best effort). */
static inline void xmpp__im_iq_result(xmpp_session *s, const xmpp_stanza *req) {
    xmpp_stanza *res = NULL;
    if (xmpp_iq_result_new(&res, req) == XMPP_OK)
        (void)xmpp_session_send(s, res);
    xmpp_stanza_unref(res);
}

/* The bare, prepared form of a JID, allocated in ctx; NULL if invalid. */
static inline char *xmpp__im_bare(xmpp_ctx *ctx, const char *jid, int allow_full) {
    xmpp_jid *j = NULL;
    char *out = NULL;
    size_t n;
    if (jid == NULL || xmpp_jid_parse(&j, ctx, jid) != XMPP_OK)
        return NULL;
    if (allow_full || !xmpp_jid_is_full(j)) {
        n = strlen(xmpp_jid_bare(j)) + 1;
        out = xmpp__malloc(ctx, n);
        if (out)
            memcpy(out, xmpp_jid_bare(j), n);
    }
    xmpp_jid_free(j);
    return out;
}

/* An IQ with one child element, sent with a completion that frees req. */
static inline int xmpp__im_iq_new(xmpp_session *s, const char *type, const char *to,
                                  const char *name, const char *ns, xmpp_stanza **iq,
                                  xmpp_stanza **child) {
    char id[32];
    int rc;
    *iq = NULL;
    if (xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_iq_new(iq, xmpp_session_ctx(s), type, to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(*iq, name, ns, child)) != XMPP_OK) {
        xmpp_stanza_unref(*iq);
        *iq = NULL;
    }
    return rc;
}

#endif
