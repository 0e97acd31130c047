/* XEP-0156 connection discovery: parsing the host-meta documents a domain
 * publishes at https://DOMAIN/.well-known/host-meta (XRD, RFC 6415) and
 * .../host-meta.json (JRD), sans I/O. The fetch is the driver's business.
 *
 * Only the links XMPP defines are kept: rel
 * "urn:xmpp:alt-connections:websocket" and "urn:xmpp:alt-connections:xbosh",
 * in document order, at most XMPP_HOSTMETA_MAX_LINKS of each. XEP-0156 §3
 * asks for secure endpoints: a WebSocket link must be wss:// and a BOSH
 * link https:// unless allow_plain is set (tests on loopback); other links
 * are skipped, and counted in `skipped`.
 *
 * Both parsers are strict: the XRD goes through the restricted stream
 * parser (no DTD, no entities, bounded), the JSON parser accepts RFC 8259
 * only (UTF-8, escapes checked, surrogates paired, nesting at most 32
 * deep) and either document at most XMPP_HOSTMETA_MAX_BYTES. */
#ifndef XMPP_TRANSPORT_HOSTMETA_H
#define XMPP_TRANSPORT_HOSTMETA_H

#include "core/internal.h"
#include "core/buf.h"

#include <stddef.h>

#define XMPP_HOSTMETA_MAX_LINKS 4
#define XMPP_HOSTMETA_MAX_BYTES (64 * 1024)
#define XMPP_HOSTMETA_MAX_URL 2048

#define XMPP_REL_WEBSOCKET "urn:xmpp:alt-connections:websocket"
#define XMPP_REL_BOSH "urn:xmpp:alt-connections:xbosh"

typedef struct xmpp__hostmeta {
    char *websocket[XMPP_HOSTMETA_MAX_LINKS];
    size_t n_websocket;
    char *bosh[XMPP_HOSTMETA_MAX_LINKS];
    size_t n_bosh;
    size_t skipped; /* XMPP links refused (insecure scheme, too long, extra) */
} xmpp__hostmeta;

/* Parse one document into *out (zeroed first; free with
 * xmpp__hostmeta_clear even on error). Return XMPP_OK, XMPP_ERR_INVALID
 * (malformed, too large, wrong root), XMPP_ERR_NOMEM. */
int xmpp__hostmeta_parse_xrd(xmpp_ctx *ctx, const char *data, size_t len, int allow_plain,
                             xmpp__hostmeta *out);
int xmpp__hostmeta_parse_json(xmpp_ctx *ctx, const char *data, size_t len, int allow_plain,
                              xmpp__hostmeta *out);
void xmpp__hostmeta_clear(xmpp_ctx *ctx, xmpp__hostmeta *hm);

#endif
