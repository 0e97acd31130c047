/* XEP-0156 connection-method discovery: parsing a server's host-meta
 * document, sans-I/O (the caller fetches https://DOMAIN/.well-known/
 * host-meta or host-meta.json over HTTPS and hands the body here).
 *
 *   xmpp__hostmeta_parse_xrd()   host-meta (XRD 1.0, RFC 6415 §3)
 *   xmpp__hostmeta_parse_json()  host-meta.json (JRD, RFC 6415 Appendix A)
 *
 * Both look at the top-level links only, and keep the first link of each
 * rel (in document order) with a usable URL:
 *   urn:xmpp:alt-connections:websocket  a wss:// URL (ws:// only when
 *                                       allowed: XEP-0156 §3, plaintext)
 *   urn:xmpp:alt-connections:xbosh      an https:// URL (http:// likewise)
 * A WebSocket URL must pass xmpp__ws_url_parse(). Other rels and links
 * without href are skipped.
 *
 * Hostile input: at most XMPP_HOSTMETA_MAX bytes; XRD with a DOCTYPE
 * (entities, external subsets) is refused before anything is expanded,
 * no network access; JSON strictly per RFC 8259 (UTF-8 checked, escapes
 * incl. surrogate pairs, no trailing data), nesting at most
 * XMPP_HOSTMETA_DEPTH, a string at most 2048 bytes.
 * All memory of the result goes through the context's allocator. */
#ifndef XMPP_TRANSPORT_HOSTMETA_H
#define XMPP_TRANSPORT_HOSTMETA_H

#include "core/internal.h"

#include <stddef.h>

#define XMPP_HOSTMETA_MAX (64 * 1024)
#define XMPP_HOSTMETA_DEPTH 32
#define XMPP_NS_ALT_WEBSOCKET "urn:xmpp:alt-connections:websocket"
#define XMPP_NS_ALT_XBOSH "urn:xmpp:alt-connections:xbosh"

typedef struct xmpp__hostmeta {
    char *websocket; /* NULL if none */
    char *bosh;      /* NULL if none */
} xmpp__hostmeta;

/* allow_plain: accept ws:// and http:// as well. Returns XMPP_OK (the
 * fields may both be NULL: nothing usable), XMPP_ERR_INVALID (NULL
 * arguments, malformed or refused document), XMPP_ERR_LIMIT (over
 * XMPP_HOSTMETA_MAX, too deep) or XMPP_ERR_NOMEM; on failure out is
 * empty. */
int xmpp__hostmeta_parse_xrd(const xmpp_ctx *ctx, const char *data, size_t len, int allow_plain,
                             xmpp__hostmeta *out);
int xmpp__hostmeta_parse_json(const xmpp_ctx *ctx, const char *data, size_t len,
                              int allow_plain, xmpp__hostmeta *out);
void xmpp__hostmeta_clear(const xmpp_ctx *ctx, xmpp__hostmeta *hm);

#endif
