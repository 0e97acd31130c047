/* XEP-0359 Unique and Stable Stanza IDs: the "sid" plugin (advertises the
 * feature, stamps origin-ids) and trusted reading of stanza-ids. Uses only
 * the public plugin interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/sid.h>

#include "plugin/plugin_int.h"
#include "xep/xep_util.h"

static const char *usable(const char *id) {
    return id && id[0] && strlen(id) <= XMPP_SID_MAX ? id : NULL;
}

const char *xmpp_sid_stanza_id(const xmpp_stanza *msg, const char *by) {
    const xmpp_stanza *e;
    const char *found = NULL;
    int n = 0;
    if (msg == NULL || by == NULL)
        return NULL;
    for (e = xmpp_stanza_child(msg, "stanza-id", XMPP_NS_SID); e;
         e = xmpp_stanza_next_match(e, "stanza-id", XMPP_NS_SID)) {
        if (!xep__bare_is(xmpp_stanza_ctx(msg), xmpp_stanza_attr(e, "by"), by))
            continue;
        found = xmpp_stanza_attr(e, "id");
        n++;
    }
    return n == 1 ? usable(found) : NULL;
}

const char *xmpp_sid_archive_id(const xmpp_session *s, const xmpp_stanza *msg) {
    const char *type = xmpp_stanza_type(msg);
    if (s == NULL || msg == NULL)
        return NULL;
    if (type && strcmp(type, "groupchat") == 0) {
        /* the room stamps it (XEP-0359 §3; XEP-0045 archives) */
        const char *from = xmpp_stanza_from(msg);
        xmpp_jid *j = NULL;
        const char *id = NULL;
        if (from && xmpp_jid_parse(&j, xmpp_stanza_ctx(msg), from) == XMPP_OK)
            id = xmpp_sid_stanza_id(msg, xmpp_jid_bare(j));
        xmpp_jid_free(j);
        return id;
    }
    return xmpp_sid_stanza_id(msg, xmpp_session_jid(s));
}

const char *xmpp_sid_origin_id(const xmpp_stanza *msg) {
    const xmpp_stanza *e = msg ? xmpp_stanza_child(msg, "origin-id", XMPP_NS_SID) : NULL;
    if (e == NULL || xmpp_stanza_next_match(e, "origin-id", XMPP_NS_SID) != NULL)
        return NULL;
    return usable(xmpp_stanza_attr(e, "id"));
}

int xmpp_sid_add_origin_id(xmpp_session *s, xmpp_stanza *msg) {
    char id[32];
    const char *mid;
    xmpp_stanza *e = NULL;
    int rc;
    if (s == NULL || msg == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "sid") ||
        xmpp_stanza_child(msg, "origin-id", XMPP_NS_SID) != NULL)
        return XMPP_OK;
    mid = xmpp_stanza_id(msg);
    if (mid == NULL || usable(mid) == NULL) {
        if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(msg, "id", id)) != XMPP_OK)
            return rc;
        mid = xmpp_stanza_id(msg);
    }
    if ((rc = xmpp_stanza_add_child_new(msg, "origin-id", XMPP_NS_SID, &e)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_set_attr(e, "id", mid)) != XMPP_OK)
        xmpp_stanza_remove_child(msg, e);
    return rc;
}

static const char *const sid_features[] = {XMPP_NS_SID, NULL};

const xmpp_plugin_desc xmpp__plugin_sid = {
    XMPP_PLUGIN_ABI_VERSION, "sid", NULL, sid_features, NULL, 0, NULL, NULL, NULL};
