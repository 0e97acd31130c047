/* Small helpers shared by the built-in XEP plugins: sender checks by
 * normalised JID comparison. Public interface only. */
#ifndef XMPP_XEP_UTIL_H
#define XMPP_XEP_UTIL_H

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

/* 1 when @p str is a bare JID (or domain) equal to the bare JID of
 * @p ref after RFC 7622 normalisation; a full JID never matches. */
static inline int xep__bare_is(xmpp_ctx *ctx, const char *str, const char *ref) {
    xmpp_jid *a = NULL, *b = NULL;
    int ok = 0;
    if (str == NULL || ref == NULL)
        return 0;
    if (xmpp_jid_parse(&a, ctx, str) == XMPP_OK && !xmpp_jid_is_full(a) &&
        xmpp_jid_parse(&b, ctx, ref) == XMPP_OK)
        ok = xmpp_jid_bare_equal(a, b);
    xmpp_jid_free(a);
    xmpp_jid_free(b);
    return ok;
}

/* 1 when @p str names the same account as @p ref (bare parts equal; a
 * resource is allowed). */
static inline int xep__same_account(xmpp_ctx *ctx, const char *str, const char *ref) {
    xmpp_jid *a = NULL, *b = NULL;
    int ok = 0;
    if (str == NULL || ref == NULL)
        return 0;
    if (xmpp_jid_parse(&a, ctx, str) == XMPP_OK && xmpp_jid_parse(&b, ctx, ref) == XMPP_OK)
        ok = xmpp_jid_bare_equal(a, b);
    xmpp_jid_free(a);
    xmpp_jid_free(b);
    return ok;
}

#endif
