/**
 * @file xmpp/plugin.h
 * @brief Enabling built-in (and registered) plugins on a session.
 *
 * Protocol extensions come as plugins, enabled by name on the options
 * (for every session created from them) or on a session. Enabling a plugin
 * enables the plugins it depends on first; an unknown name or a dependency
 * cycle is refused with an error (and a log line naming the problem).
 *
 * Built-in plugins:
 *  - "disco": answers XEP-0030 disco#info with the identities and features
 *    of every enabled plugin; typed requests in xmpp/xep/disco.h;
 *  - "caps": XEP-0115 entity capabilities (needs "disco"), xmpp/xep/caps.h;
 *  - "ping": answers XEP-0199 pings; requests in xmpp/xep/ping.h;
 *  - "version": answers XEP-0092 software version queries with the name
 *    and version set by the application (xmpp/xep/version.h); the
 *    operating system is not revealed unless set;
 *  - "muc": XEP-0045 multi-user chat with XEP-0249 invitations and
 *    XEP-0410 self-ping (xmpp/xep/muc.h).
 *  - "roster": the RFC 6121 roster in memory, versioning, checked pushes
 *    (xmpp/xep/roster.h);
 *  - "presence": subscription requests and contacts' resources
 *    (xmpp/xep/presence.h);
 *  - "blocking": the XEP-0191 block list (xmpp/xep/blocking.h).
 *  - "receipts": XEP-0184 receipts, answered and awaited
 *    (xmpp/xep/receipts.h);
 *  - "chatstates", "correction", "markers", "retraction", "reactions",
 *    "replies": advertise XEP-0085, 0308, 0333, 0424, 0444, 0461 (builders
 *    and parsers in xmpp/xep/im.h); "im" enables all six;
 *  - "time": answers XEP-0202 entity time (xmpp/xep/time.h);
 *  - "last": answers XEP-0012 last activity once the idle time is set
 *    (xmpp/xep/last.h);
 *  - "vcard": advertises vcard-temp, reports XEP-0153 avatar hashes
 *    (xmpp/xep/vcard.h);
 *  - "pubsub": XEP-0060 requests and sender-checked notifications,
 *    XEP-0163 +notify interests, XEP-0223 private publishing (needs
 *    "disco"), xmpp/xep/pubsub.h; XEP-0049 private storage needs no
 *    plugin (xmpp/xep/private.h);
 *  - "avatar": XEP-0084 user avatars (needs "pubsub"), xmpp/xep/avatar.h;
 *  - "bookmarks": XEP-0402 bookmarks with the XEP-0048 fallback (needs
 *    "pubsub"), xmpp/xep/bookmarks.h;
 *  - "sid": XEP-0359 stanza ids, origin-id on request (xmpp/xep/sid.h);
 *  - "carbons": XEP-0280 carbons, accepted only from our bare JID
 *    (xmpp/xep/carbons.h);
 *  - "mam": XEP-0313 archive queries with XEP-0059 paging; results
 *    accepted only for open queries from the queried archive
 *    (xmpp/xep/mam.h).
 *
 * Without any plugin the session answers every IQ request it does not
 * handle with service-unavailable (RFC 6120 §8.4), as before.
 */
#ifndef XMPP_PLUGIN_H
#define XMPP_PLUGIN_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Enables a plugin on a session, after the plugins it depends on.
 * Enabling a plugin that is already enabled does nothing.
 * @param s the session (any state; handlers work once it is ready).
 * @param name the plugin's name (a built-in one or one registered with
 *        xmpp_session_register_plugin()).
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (the name, or the name of a
 *         dependency, is unknown); ::XMPP_ERR_INVALID (a dependency cycle,
 *         NULL arguments); ::XMPP_ERR_NOMEM; or the error of a plugin's
 *         attach callback. On error nothing new stays enabled.
 */
XMPP_EXTERN int xmpp_session_enable_plugin(xmpp_session *s, const char *name);

/**
 * Disables a plugin: its detach callback removes its handlers and state.
 * @param s the session.
 * @param name the plugin's name.
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (not enabled); ::XMPP_ERR_STATE
 *         (another enabled plugin depends on it: disable that one first).
 */
XMPP_EXTERN int xmpp_session_disable_plugin(xmpp_session *s, const char *name);

/**
 * Whether a plugin is enabled on a session.
 * @param s the session.
 * @param name the plugin's name.
 * @return 1 when enabled, 0 otherwise.
 */
XMPP_EXTERN int xmpp_session_plugin_enabled(const xmpp_session *s, const char *name);

/**
 * Asks for a plugin on every session created from these options (enabled
 * in xmpp_session_new(), in the order given, each after its dependencies;
 * xmpp_session_new() fails with the error xmpp_session_enable_plugin()
 * would give). The name is checked then, not now.
 * @param opts the options.
 * @param name the plugin's name (copied).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_enable_plugin(xmpp_session_options *opts, const char *name);

/**
 * Withdraws a name given to xmpp_session_options_enable_plugin().
 * @param opts the options.
 * @param name the plugin's name.
 * @return ::XMPP_OK or ::XMPP_ERR_NOT_FOUND.
 */
XMPP_EXTERN int xmpp_session_options_disable_plugin(xmpp_session_options *opts,
                                                    const char *name);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_PLUGIN_H */
