/**
 * @file xmpp/xep/component.h
 * @brief XEP-0114 Jabber Component Protocol: a session that connects as an
 *        external component (jabber:component:accept) instead of a client.
 */
#ifndef XMPP_XEP_COMPONENT_H
#define XMPP_XEP_COMPONENT_H

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The stream namespace of XEP-0114 (accept side). */
#define XMPP_NS_COMPONENT_ACCEPT "jabber:component:accept"

/**
 * Makes sessions created from @p opts external components (XEP-0114):
 * the JID option is the component's domain (e.g. "echo.example.org"),
 * the password option its shared secret with the server. The session
 * opens a jabber:component:accept stream to that domain, answers the
 * server's stream id with the handshake (hex SHA-1 of the id and the
 * secret, XEP-0114 §3; the secret is wiped once it is sent) and is ready
 * (on_ready, with the domain as the JID) when the server accepts it. There
 * is no STARTTLS, SASL, resource binding, stream management or
 * compression. A refused secret ends the session with
 * ::XMPP_CAUSE_STREAM_ERROR (condition not-authorized, as servers send
 * it).
 *
 * The stream runs in plaintext only when the application allows it
 * explicitly (xmpp_session_options_allow_plaintext(), usual for a
 * component on the server's loopback); with ::XMPP_TLS_DIRECT the stream
 * runs inside TLS (certificate checked against the domain or the
 * configured TLS name); otherwise the session ends with
 * ::XMPP_CAUSE_TLS_REQUIRED. With the I/O driver, set the server's
 * component port with xmpp_client_set_server() (components have no SRV
 * records).
 *
 * Once ready, stanzas are handled as in a client session: handlers,
 * plugins (e.g. "disco") and IQ tracking work unchanged. Every stanza the
 * component sends must carry a `from` in its domain (the server routes by
 * it and refuses others); replies made with xmpp_stanza_reply() or
 * xmpp_stanza_error_new() swap the request's addresses and so have one.
 * @param opts the options.
 * @param on 1 for a component, 0 for a client (the default).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (NULL @p opts).
 */
XMPP_EXTERN int xmpp_session_options_set_component(xmpp_session_options *opts, int on);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_COMPONENT_H */
