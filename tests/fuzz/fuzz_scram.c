/* libFuzzer target: SCRAM server-first and server-final parsing through the
 * SASL layer (SECURITY.md §2 item 1c), plus the strict base64 codec
 * (item 1d).
 *
 * Input layout:  cfg-byte  server-first  0x00  server-final  [0x00 mechs]
 *   cfg bits 0-1  hash: SCRAM-SHA-1 / -256 / -512 (3: -256)
 *   cfg bit 2     channel binding available (fake tls-exporter data)
 *   cfg bit 3     deliver server-final in a <challenge/> (then empty success)
 *   cfg bit 4     SASL2
 *   cfg bit 5     advertise XEP-0440 types (tls-exporter, tls-server-end-point)
 *   cfg bit 6     use the optional trailing mechanism list (space-separated)
 * The client nonce is fixed to "fuzz" (deterministic randomness, §2 item 2),
 * the iteration window is [1, 64] so PBKDF2 stays cheap.
 *
 * Invariants checked with abort():
 *  - a failed step leaves no output buffer;
 *  - a successful finish (only reachable from seeds that carry the right
 *    HMAC-derived v=) leaves the object in the pinning state;
 *  - base64: a successful decode re-encodes to exactly the input.
 * Leaks are caught by LeakSanitizer; every path frees its objects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/base64.h"
#include "stream/sasl.h"

static int fake_cb(void *ud, const char *type, uint8_t *out, size_t *len) {
    (void)ud;
    (void)type;
    if (*len < 8)
        return -1;
    memcpy(out, "FUZZ-CB!", 8);
    *len = 8;
    return 0;
}

static void check_base64(const xmpp_ctx *ctx, const uint8_t *data, size_t size) {
    uint8_t *dec = NULL;
    char *enc = NULL;
    size_t dlen = 0, elen = 0;
    if (xmpp__b64_decode_alloc(ctx, (const char *)data, size, &dec, &dlen) != XMPP_OK)
        return;
    if (xmpp__b64_encode_alloc(ctx, dec, dlen, &enc, &elen) != XMPP_OK)
        abort();
    if (elen != size || memcmp(enc, data, size) != 0)
        abort(); /* the strict decoder must accept canonical input only */
    xmpp__free(ctx, enc);
    xmpp__free(ctx, dec);
}

/* Splits the trailing space-separated list into at most 16 names. */
static size_t split_mechs(char *list, const char **out) {
    size_t n = 0;
    char *p = list;
    while (*p != '\0' && n < 16) {
        char *sp = strchr(p, ' ');
        if (sp != NULL)
            *sp = '\0';
        if (*p != '\0')
            out[n++] = p;
        if (sp == NULL)
            break;
        p = sp + 1;
    }
    return n;
}

static void run_exchange(xmpp_ctx *ctx, unsigned cfg, const char *sfirst,
                         size_t sflen, const char *sfinal, size_t sfinlen,
                         char *mechlist) {
    static const char *hashes[] = {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512",
                                   "SCRAM-SHA-256"};
    static const char *pluses[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS",
                                   "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS"};
    const char *cbt[] = {"tls-exporter", "tls-server-end-point"};
    const char *mechs[16];
    size_t n;
    xmpp__sasl_params p;
    xmpp__sasl *s = NULL;
    const char *mech;
    uint8_t *out = NULL;
    size_t len = 0;
    int rc;

    memset(&p, 0, sizeof(p));
    p.authcid = "user";
    p.password = "pencil";
    p.flags = XMPP_SASL_TLS_ACTIVE;
    p.scram_min_iter = 1;
    p.scram_max_iter = 64;
    if (cfg & 4) {
        p.get_cb = fake_cb;
        p.cb_info = XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_ENDPOINT | XMPP_SASL_CB_TLS13;
    }
    if ((cfg & 64) && mechlist != NULL) {
        n = split_mechs(mechlist, mechs);
    } else {
        mechs[0] = hashes[cfg & 3];
        mechs[1] = pluses[cfg & 3];
        mechs[2] = "PLAIN";
        n = 3;
    }
    if (xmpp__sasl_new(&s, ctx, &p) != XMPP_OK)
        abort();
    rc = xmpp__sasl_select(s, mechs, n, (cfg & 32) ? cbt : NULL, (cfg & 32) ? 2 : 0,
                           (cfg & 16) != 0, &mech);
    if (rc != XMPP_OK || strncmp(mech, "SCRAM", 5) != 0)
        goto done;
    if (xmpp__sasl_test_set_nonce(s, "fuzz") != XMPP_OK)
        abort();
    if (xmpp__sasl_initial(s, &out, &len) != XMPP_OK)
        goto done;
    xmpp__sasl_buf_free(ctx, out, len);
    out = NULL;
    rc = xmpp__sasl_step(s, (const uint8_t *)sfirst, sflen, &out, &len);
    if (rc != XMPP_OK) {
        if (out != NULL)
            abort();
        goto done;
    }
    xmpp__sasl_buf_free(ctx, out, len);
    out = NULL;
    if (cfg & 8) {
        rc = xmpp__sasl_step(s, (const uint8_t *)sfinal, sfinlen, &out, &len);
        if (rc != XMPP_OK) {
            if (out != NULL)
                abort();
            goto done;
        }
        xmpp__sasl_buf_free(ctx, out, len);
        rc = xmpp__sasl_finish(s, NULL, 0);
    } else {
        rc = xmpp__sasl_finish(s, (const uint8_t *)sfinal, sfinlen);
    }
    /* Reaching success means the fuzzer produced the HMAC-derived server
     * signature; that is only possible from a seed that carries it. The
     * object must then report a pinning mechanism. */
    if (rc == XMPP_OK && !xmpp__sasl_pins_account(s))
        abort();
done:
    xmpp__sasl_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    char *buf, *sfinal, *mechlist = NULL, *nul;
    size_t sflen, sfinlen;
    unsigned cfg;

    if (size < 1 || size > 16384)
        return 0;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    check_base64(ctx, data, size);
    cfg = data[0];
    buf = malloc(size + 1);
    if (buf == NULL) {
        xmpp_ctx_free(ctx);
        return 0;
    }
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    nul = memchr(buf, '\0', size - 1);
    if (nul != NULL) {
        sflen = (size_t)(nul - buf);
        sfinal = nul + 1;
        sfinlen = size - 1 - sflen - 1;
        nul = memchr(sfinal, '\0', sfinlen);
        if (nul != NULL) {
            mechlist = nul + 1;
            sfinlen = (size_t)(nul - sfinal);
        }
    } else {
        sflen = size - 1;
        sfinal = buf + sflen;
        sfinlen = 0;
    }
    run_exchange(ctx, cfg, buf, sflen, sfinal, sfinlen, mechlist);
    free(buf);
    xmpp_ctx_free(ctx);
    return 0;
}
