/* libFuzzer target: XEP-0156 host-meta parsing (lib/transport/hostmeta.h).
 * The input is parsed as XRD and as JSON, with and without plaintext
 * allowed. Invariants checked with abort(): results are XMPP_OK,
 * XMPP_ERR_INVALID or XMPP_ERR_NOMEM; link counts within bounds; without
 * allow_plain every kept link is wss:// or https:// (in any case); every kept link is
 * printable ASCII without spaces. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transport/hostmeta.h"

static void check(const xmpp__hostmeta *hm, int rc, int allow_plain) {
    size_t i;
    if (rc != XMPP_OK && rc != XMPP_ERR_INVALID && rc != XMPP_ERR_NOMEM)
        abort();
    if (hm->n_websocket > XMPP_HOSTMETA_MAX_LINKS || hm->n_bosh > XMPP_HOSTMETA_MAX_LINKS)
        abort();
    for (i = 0; i < hm->n_websocket; i++) {
        const char *u = hm->websocket[i];
        if (!allow_plain && strncasecmp(u, "wss://", 6) != 0) /* schemes are case-insensitive */
            abort();
        for (; *u; u++)
            if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f)
                abort();
    }
    for (i = 0; i < hm->n_bosh; i++)
        if (!allow_plain && strncasecmp(hm->bosh[i], "https://", 8) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp__hostmeta hm;
    int plain, rc;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    for (plain = 0; plain < 2; plain++) {
        rc = xmpp__hostmeta_parse_xrd(ctx, (const char *)data, size, plain, &hm);
        check(&hm, rc, plain);
        xmpp__hostmeta_clear(ctx, &hm);
        rc = xmpp__hostmeta_parse_json(ctx, (const char *)data, size, plain, &hm);
        check(&hm, rc, plain);
        xmpp__hostmeta_clear(ctx, &hm);
    }
    xmpp_ctx_free(ctx);
    return 0;
}
