/* Error codes and XMPP error condition names. */
#include "core/internal.h"

#include <string.h>

const char *xmpp_strerror(int err) {
    switch ((xmpp_error)err) {
    case XMPP_OK: return "success";
    case XMPP_ERR_NOMEM: return "out of memory";
    case XMPP_ERR_INVALID: return "invalid argument";
    case XMPP_ERR_NOT_FOUND: return "not found";
    case XMPP_ERR_RECURSIVE: return "call not allowed from inside a callback";
    case XMPP_ERR_STATE: return "operation not allowed in the current state";
    case XMPP_ERR_LIMIT: return "limit exceeded";
    case XMPP_ERR_STREAM: return "XML stream error";
    case XMPP_ERR_CLOSED: return "stream closed";
    case XMPP_ERR_NOT_TEXT: return "wrong node kind (element or text)";
    case XMPP_ERR_UTF8: return "invalid UTF-8 or forbidden XML character";
    case XMPP_ERR_JID_MALFORMED: return "malformed JID";
    case XMPP_ERR_JID_EMPTY_LOCAL: return "JID localpart is empty";
    case XMPP_ERR_JID_EMPTY_DOMAIN: return "JID domainpart is empty";
    case XMPP_ERR_JID_EMPTY_RESOURCE: return "JID resourcepart is empty";
    case XMPP_ERR_JID_TOO_LONG: return "JID part longer than 1023 octets";
    case XMPP_ERR_JID_LOCAL: return "JID localpart not allowed by PRECIS UsernameCaseMapped";
    case XMPP_ERR_JID_DOMAIN: return "JID domainpart is not a valid IDNA2008 domain or IP literal";
    case XMPP_ERR_JID_RESOURCE: return "JID resourcepart not allowed by PRECIS OpaqueString";
    case XMPP_ERR_JID_BIDI: return "JID part violates the bidi rule";
    case XMPP_ERR_JID_ESCAPE: return "string cannot be XEP-0106 escaped";
    case XMPP_ERR_UNSUPPORTED: return "not supported by this build";
    case XMPP_ERR_BAD_REPLY: return "malformed or unsafe reply";
    case XMPP_ERR_HTTP: return "HTTP transfer failed";
    case XMPP_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}

static const char *const stream_conds[] = {
    "", "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout",
    "host-gone", "host-unknown", "improper-addressing", "internal-server-error",
    "invalid-from", "invalid-namespace", "invalid-xml", "not-authorized",
    "not-well-formed", "policy-violation", "remote-connection-failed", "reset",
    "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown",
    "undefined-condition", "unsupported-encoding", "unsupported-feature",
    "unsupported-stanza-type", "unsupported-version",
};

const char *xmpp_stream_condition_name(xmpp_stream_condition cond) {
    if ((unsigned)cond >= sizeof(stream_conds) / sizeof(stream_conds[0]))
        return "";
    return stream_conds[cond];
}

xmpp_stream_condition xmpp_stream_condition_from_name(const char *name) {
    size_t i;
    if (name == NULL)
        return XMPP_SC_UNDEFINED_CONDITION;
    for (i = 1; i < sizeof(stream_conds) / sizeof(stream_conds[0]); i++)
        if (strcmp(stream_conds[i], name) == 0)
            return (xmpp_stream_condition)i;
    return XMPP_SC_UNDEFINED_CONDITION;
}

/* RFC 6120 §8.3.3: each condition with the error type the RFC shows for it. */
static const struct {
    const char *name;
    const char *type;
} stanza_conds[] = {
    {"", "cancel"},
    {"bad-request", "modify"},
    {"conflict", "cancel"},
    {"feature-not-implemented", "cancel"},
    {"forbidden", "auth"},
    {"gone", "cancel"},
    {"internal-server-error", "cancel"},
    {"item-not-found", "cancel"},
    {"jid-malformed", "modify"},
    {"not-acceptable", "modify"},
    {"not-allowed", "cancel"},
    {"not-authorized", "auth"},
    {"policy-violation", "modify"},
    {"recipient-unavailable", "wait"},
    {"redirect", "modify"},
    {"registration-required", "auth"},
    {"remote-server-not-found", "cancel"},
    {"remote-server-timeout", "wait"},
    {"resource-constraint", "wait"},
    {"service-unavailable", "cancel"},
    {"subscription-required", "auth"},
    {"undefined-condition", "cancel"},
    {"unexpected-request", "wait"},
};
#define N_STANZA_CONDS (sizeof(stanza_conds) / sizeof(stanza_conds[0]))

const char *xmpp_stanza_condition_name(xmpp_stanza_condition cond) {
    if ((unsigned)cond >= N_STANZA_CONDS)
        return "";
    return stanza_conds[cond].name;
}

const char *xmpp_stanza_condition_type(xmpp_stanza_condition cond) {
    if ((unsigned)cond >= N_STANZA_CONDS)
        return "cancel";
    return stanza_conds[cond].type;
}

/* Internal: name -> condition, 0 when unknown. */
int xmpp__stanza_condition_from_name(const char *name);
int xmpp__stanza_condition_from_name(const char *name) {
    size_t i;
    for (i = 1; i < N_STANZA_CONDS; i++)
        if (strcmp(stanza_conds[i].name, name) == 0)
            return (int)i;
    return 0;
}
