/**
 * @file xmpp/xep/version.h
 * @brief XEP-0092 Software Version: the "version" plugin.
 *
 * Answers jabber:iq:version queries with the name and version the
 * application set ("libxmpp" and the library version until then). The
 * operating system is omitted unless set: it helps attackers choose
 * exploits (XEP-0092 §5).
 */
#ifndef XMPP_XEP_VERSION_H
#define XMPP_XEP_VERSION_H

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The software version namespace. */
#define XMPP_NS_VERSION "jabber:iq:version"

/**
 * Sets what the version plugin answers.
 * @param s the session, with "version" enabled.
 * @param name the application's name (required, copied).
 * @param version its version (required, copied).
 * @param os the operating system, or NULL to omit it (the default).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (the plugin is not enabled),
 *         ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_version_set(xmpp_session *s, const char *name, const char *version,
                                 const char *os);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_VERSION_H */
