/**
 * @file xmpp/xep/caps.h
 * @brief XEP-0115 Entity Capabilities: the "caps" plugin (needs "disco").
 *
 * The verification string is computed from the identities and features of
 * the enabled plugins (XEP-0115 §5.1, SHA-1); the disco plugin answers
 * disco#info requests for the node "node#ver". Decorate outgoing presence
 * with xmpp_caps_decorate().
 */
#ifndef XMPP_XEP_CAPS_H
#define XMPP_XEP_CAPS_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/sys/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The entity capabilities namespace. */
#define XMPP_NS_CAPS "http://jabber.org/protocol/caps"

/** The node used until xmpp_caps_set_node() is called. */
#define XMPP_CAPS_DEFAULT_NODE "https://libxmpp.org"

/**
 * Computes a XEP-0115 §5.1 verification string (SHA-1, base64) without
 * extended information. Duplicate features are counted once.
 * @param ctx the context whose allocator is used.
 * @param identities the identities (array of @p n_identities pointers).
 * @param n_identities their count.
 * @param features the features (array of @p n_features strings).
 * @param n_features their count.
 * @param out receives the NUL-terminated string; free with xmpp_free().
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (a NULL category, type or
 *         feature) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_caps_compute_ver(xmpp_ctx *ctx,
                                      const xmpp_plugin_identity *const *identities,
                                      size_t n_identities, const char *const *features,
                                      size_t n_features, char **out);

/**
 * The verification string of this session's enabled plugins.
 * @param s the session.
 * @param out receives the NUL-terminated string; free with xmpp_free().
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (caps not enabled) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_caps_ver(xmpp_session *s, char **out);

/**
 * Sets the node (the URI of the application) sent in \<c/>.
 * @param s the session, with caps enabled.
 * @param node the node (copied).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (caps not enabled),
 *         ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_caps_set_node(xmpp_session *s, const char *node);

/**
 * The node sent in \<c/>.
 * @param s the session.
 * @return a borrowed string, or NULL when caps is not enabled.
 */
XMPP_EXTERN const char *xmpp_caps_node(const xmpp_session *s);

/**
 * Adds (or replaces) the \<c xmlns='http://jabber.org/protocol/caps'/>
 * child of an outgoing presence with the current verification string.
 * @param s the session, with caps enabled.
 * @param presence the presence stanza to decorate.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (caps not enabled),
 *         ::XMPP_ERR_INVALID (not a presence) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_caps_decorate(xmpp_session *s, xmpp_stanza *presence);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_CAPS_H */
