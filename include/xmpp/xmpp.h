/**
 * @file xmpp/xmpp.h
 * @brief The umbrella header: includes every public libxmpp header.
 */
#ifndef XMPP_XMPP_H
#define XMPP_XMPP_H

#include <xmpp/version.h>
#include <xmpp/common.h>
#include <xmpp/stanza.h>
#include <xmpp/jid.h>
#include <xmpp/tls.h>
#include <xmpp/session.h>
#include <xmpp/client.h>
#include <xmpp/plugin.h>

#endif /* XMPP_XMPP_H */
