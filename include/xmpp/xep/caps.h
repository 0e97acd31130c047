/**
 * @file xmpp/xep/caps.h
 * @brief XEP-0115 Entity Capabilities: the "caps" plugin (needs "disco").
 *
 * The verification string is computed from the identities and features of
 * the enabled plugins (XEP-0115 §5.1, SHA-1); the disco plugin answers
 * disco#info requests for the node "node#ver". Decorate outgoing presence
 * with xmpp_caps_decorate().
 *
 * Receiving side: the plugin watches every presence from a full JID that
 * carries \<c hash='sha-1'/>. A ver it has not seen is asked for once
 * (disco#info to node#ver; at most 8 such queries at a time), the answer
 * is verified (§5.4: recomputed, duplicates and malformed forms rejected)
 * and only then cached (up to 512 answers, the oldest dropped first; up to
 * 4096 peers remembered, forgotten when they go unavailable). Answers that
 * do not match their ver are not cached and are logged.
 */
#ifndef XMPP_XEP_CAPS_H
#define XMPP_XEP_CAPS_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/disco.h>

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

/**
 * Computes the verification string of a received disco#info answer
 * (XEP-0115 §5.2 with XEP-0128 forms, SHA-1) and checks it for the faults
 * of §5.4: duplicate identities, features or form types, a FORM_TYPE that
 * is not a single hidden value, a field without var.
 * @param ctx the context whose allocator is used.
 * @param query the \<query xmlns='http://jabber.org/protocol/disco#info'/>.
 * @param out receives the NUL-terminated string; free with xmpp_free().
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (a fault of §5.4) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_caps_verify_query(xmpp_ctx *ctx, const xmpp_stanza *query, char **out);

/**
 * Called when the capabilities of a peer (a full JID) become known: when
 * its presence names a cached ver, or when the answer for a new ver has
 * been verified.
 * @param s the session.
 * @param jid the peer's full JID.
 * @param info its disco#info (borrowed, valid during the call; the
 *        xmpp_disco_info_* accessors of xmpp/xep/disco.h read it).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_caps_fn)(xmpp_session *s, const char *jid,
                             const xmpp_disco_info *info, void *user_data);

/**
 * Sets the callback for newly known capabilities.
 * @param s the session, with caps enabled.
 * @param cb the callback, or NULL to remove it.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE (caps not enabled).
 */
XMPP_EXTERN int xmpp_caps_set_callback(xmpp_session *s, xmpp_caps_fn cb, void *user_data);

/**
 * Whether a peer's verified capabilities include a feature.
 * @param s the session, with caps enabled.
 * @param jid the peer's full JID.
 * @param feature the feature (namespace).
 * @return 1 or 0; ::XMPP_ERR_NOT_FOUND when the peer's capabilities are
 *         not known (yet); ::XMPP_ERR_STATE (caps not enabled);
 *         ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_caps_has_feature(const xmpp_session *s, const char *jid,
                                      const char *feature);

/**
 * The number of verified answers in the cache.
 * @param s the session.
 * @return the count (0 when caps is not enabled).
 */
XMPP_EXTERN size_t xmpp_caps_cache_size(const xmpp_session *s);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_CAPS_H */
