/* Fuzz target: builds a stanza tree from the input (an op-code stream that
 * creates elements, attributes and text), serialises it, parses the result
 * back with the stream parser and checks that serialising the parsed tree
 * gives the identical bytes. Inputs that are not a valid build are
 * rejected by the API with an error, which is fine. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xmpp.h>

#include "xml/parser.h"

struct rt {
    xmpp_ctx *ctx;
    char *expect;
    size_t expect_len;
    int seen;
};

static void on_stanza(xmpp_stanza *st, void *ud) {
    struct rt *r = ud;
    char *s = NULL;
    size_t n = 0;
    if (xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &s, &n) != XMPP_OK)
        abort();
    if (n != r->expect_len || memcmp(s, r->expect, n) != 0)
        abort(); /* round trip not byte-identical */
    r->seen++;
    xmpp_free(r->ctx, s);
}

/* Pulls a short string from the input: length byte then bytes. */
static char *take(const uint8_t **d, size_t *n) {
    size_t len;
    char *s;
    if (*n == 0)
        return NULL;
    len = (*d)[0] % 24;
    (*d)++;
    (*n)--;
    if (len > *n)
        len = *n;
    s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, *d, len);
    s[len] = '\0';
    *d += len;
    *n -= len;
    return s;
}

static const char *const names[] = {"message", "body", "x", "item", "query", "a:b", "",
                                    "presence", "iq"};
static const char *const nss[] = {NULL, "jabber:client", "urn:x", "jabber:iq:roster",
                                  "http://jabber.org/protocol/muc#user"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xmpp_ctx *ctx = NULL;
    xmpp_stanza *root = NULL, *cur;
    xmpp_xml_parser *p = NULL;
    xmpp_xml_callbacks cb = {NULL, on_stanza, NULL};
    struct rt r;
    static const char head[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    int depth = 0;

    memset(&r, 0, sizeof(r));
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    if (xmpp_stanza_new(&root, ctx, "message", XMPP_NS_CLIENT) != XMPP_OK)
        goto out;
    cur = root;
    while (size > 0) {
        uint8_t op = data[0];
        char *s, *v;
        data++;
        size--;
        switch (op % 6) {
        case 0: /* child element */
            if (depth < 20) {
                xmpp_stanza *c = NULL;
                if (xmpp_stanza_add_child_new(cur, names[(op / 6) % 9],
                                              nss[(op / 54) % 5], &c) == XMPP_OK) {
                    cur = c;
                    depth++;
                }
            }
            break;
        case 1: /* attribute with fuzzed value */
            v = take(&data, &size);
            if (v)
                (void)xmpp_stanza_set_attr(cur, (op & 0x40) ? "xml:lang" : "to", v);
            free(v);
            break;
        case 2: /* text */
            s = take(&data, &size);
            if (s)
                (void)xmpp_stanza_add_text(cur, s, strlen(s));
            free(s);
            break;
        case 3: /* pop */
            if (cur != root) {
                cur = xmpp_stanza_parent(cur);
                depth--;
            }
            break;
        case 4: /* fuzzed attribute name */
            s = take(&data, &size);
            v = take(&data, &size);
            if (s && v)
                (void)xmpp_stanza_set_attr(cur, s, v);
            free(s);
            free(v);
            break;
        default: /* fuzzed namespace on the current element */
            s = take(&data, &size);
            if (s && cur != root)
                (void)xmpp_stanza_set_ns(cur, *s ? s : NULL);
            free(s);
            break;
        }
    }
    r.ctx = ctx;
    if (xmpp_stanza_serialize(root, XMPP_NS_CLIENT, &r.expect, &r.expect_len) != XMPP_OK)
        goto out;
    {
        /* copy must serialise identically too */
        xmpp_stanza *cp = NULL;
        char *s2 = NULL;
        size_t n2 = 0;
        if (xmpp_stanza_copy(&cp, root) == XMPP_OK &&
            xmpp_stanza_serialize(cp, XMPP_NS_CLIENT, &s2, &n2) == XMPP_OK) {
            if (n2 != r.expect_len || memcmp(s2, r.expect, n2) != 0)
                abort();
        }
        xmpp_free(ctx, s2);
        xmpp_stanza_unref(cp);
    }
    if (xmpp_xml_parser_new(&p, ctx, &cb, &r) != XMPP_OK)
        goto out;
    if (xmpp_xml_parser_feed(p, head, sizeof(head) - 1) != XMPP_OK ||
        xmpp_xml_parser_feed(p, r.expect, r.expect_len) != XMPP_OK)
        abort(); /* our own serialisation must always parse */
    if (r.seen != 1)
        abort();
out:
    xmpp_xml_parser_free(p);
    if (ctx)
        xmpp_free(ctx, r.expect);
    xmpp_stanza_unref(root);
    xmpp_ctx_free(ctx);
    return 0;
}
