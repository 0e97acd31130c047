/* libFuzzer target: JID parsing and preparation (RFC 7622, PRECIS, IDNA)
 * and XEP-0106 escaping (SECURITY.md §2 item 1b).
 *
 * Invariants checked with abort():
 *  - a prepared JID parses again to an equal JID (RFC 8264 §7 idempotence),
 *    also when rebuilt from its parts with the Unicode form of the domain;
 *  - copy and to_bare agree with the original;
 *  - unescape(escape(s)) == s whenever escaping succeeds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/jid.h>

static void check_jid(xmpp_ctx *ctx, const xmpp_jid *j) {
    xmpp_jid *again = NULL, *parts = NULL, *copy = NULL, *bare = NULL;
    int rc;

    if (xmpp_jid_parse(&again, ctx, xmpp_jid_full(j)) != XMPP_OK ||
        !xmpp_jid_equal(j, again))
        abort();
    rc = xmpp_jid_new(&parts, ctx, xmpp_jid_local(j), xmpp_jid_domain_unicode(j),
                      xmpp_jid_resource(j));
    if (rc != XMPP_OK || !xmpp_jid_equal(j, parts))
        abort();
    if (xmpp_jid_copy(&copy, j) != XMPP_OK || !xmpp_jid_equal(j, copy))
        abort();
    if (xmpp_jid_to_bare(&bare, j) != XMPP_OK || !xmpp_jid_bare_equal(j, bare) ||
        xmpp_jid_is_full(bare) || strcmp(xmpp_jid_full(bare), xmpp_jid_bare(j)) != 0)
        abort();
    if (!xmpp_jid_equal_str(j, xmpp_jid_full(j)))
        abort();
    xmpp_jid_free(bare);
    xmpp_jid_free(copy);
    xmpp_jid_free(parts);
    xmpp_jid_free(again);
}

static void check_escape(xmpp_ctx *ctx, const char *s) {
    char *esc = NULL, *plain = NULL;
    if (xmpp_jid_escape(ctx, s, &esc) == XMPP_OK) {
        if (xmpp_jid_unescape(ctx, esc, &plain) != XMPP_OK || strcmp(plain, s) != 0)
            abort();
        xmpp_free(ctx, plain);
        xmpp_free(ctx, esc);
    }
    if (xmpp_jid_unescape(ctx, s, &plain) != XMPP_OK)
        abort();
    xmpp_free(ctx, plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp_jid *j = NULL;
    char *s;

    if (size > 65536)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK) {
        free(s);
        return 0;
    }
    if (xmpp_jid_parse(&j, ctx, s) == XMPP_OK) {
        check_jid(ctx, j);
        xmpp_jid_free(j);
    } else if (j != NULL) {
        abort(); /* a failed parse leaves *out NULL */
    }
    check_escape(ctx, s);
    xmpp_ctx_free(ctx);
    free(s);
    return 0;
}
