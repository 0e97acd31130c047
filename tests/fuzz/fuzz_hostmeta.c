/* libFuzzer target: XEP-0156 host-meta parsing (lib/transport/hostmeta.h).
 *
 * Input: 1 header byte (bit 0: XRD or JSON, bit 1: plaintext allowed),
 * then the document a hostile web server returns.
 * Invariants checked with abort(): the result is one of the documented
 * codes; on success every link found is a URL of the right scheme (a
 * WebSocket one passes xmpp__ws_url_parse(), secure unless plaintext was
 * allowed); on failure the output is empty; parsing twice gives the same
 * result (no hidden state).
 *
 * Seed corpus (tests/fuzz/corpus/hostmeta): an XRD and a JSON document
 * with both rels, a DOCTYPE with entities, escapes and surrogate pairs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transport/hostmeta.h"
#include "transport/ws.h"

static xmpp_ctx *ctx;

static int run(const char *d, size_t n, int xrd, int plain, xmpp__hostmeta *hm) {
    return xrd ? xmpp__hostmeta_parse_xrd(ctx, d, n, plain, hm)
               : xmpp__hostmeta_parse_json(ctx, d, n, plain, hm);
}

static int same(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp__hostmeta a, b;
    int xrd, plain, ra, rb;
    if (size < 1)
        return 0;
    if (ctx == NULL && xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        abort();
    xrd = data[0] & 1;
    plain = (data[0] >> 1) & 1;
    ra = run((const char *)data + 1, size - 1, xrd, plain, &a);
    rb = run((const char *)data + 1, size - 1, xrd, plain, &b);
    if (ra != rb || !same(a.websocket, b.websocket) || !same(a.bosh, b.bosh))
        abort();
    if (ra != XMPP_OK && ra != XMPP_ERR_INVALID && ra != XMPP_ERR_LIMIT && ra != XMPP_ERR_NOMEM)
        abort();
    if (ra != XMPP_OK && (a.websocket != NULL || a.bosh != NULL))
        abort();
    if (a.websocket != NULL) {
        xmpp__ws_url u;
        if (xmpp__ws_url_parse(a.websocket, &u) != XMPP_OK || (!u.secure && !plain))
            abort();
    }
    /* schemes are case-insensitive (RFC 3986 §3.1) */
    if (a.bosh != NULL && strncasecmp(a.bosh, "https://", 8) != 0 &&
        !(plain && strncasecmp(a.bosh, "http://", 7) == 0))
        abort();
    xmpp__hostmeta_clear(ctx, &a);
    xmpp__hostmeta_clear(ctx, &b);
    return 0;
}
