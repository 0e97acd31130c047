/* libFuzzer target for the IM parsers (lib/xep/im.c, vcard.c, datetime.c):
 * the input is the inside of a client stream; every stanza delivered by
 * the XML parser goes through every typed parser of xmpp/xep/im.h and
 * the XEP-0153 reader, and its body through the XEP-0082, /me and reaction
 * checks. Invariants: no crash, a stripped body is never longer than the
 * body and stays valid XML text, a date-time that parses formats back to
 * the same instant. Built with libFuzzer or with replay_main.c. */
#include "xml/parser.h"
#include "xep/datetime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xep/im.h>
#include <xmpp/xep/vcard.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(xmpp_ctx *ctx, const char *body) {
    int64_t t, back;
    uint32_t us, us2;
    int tzo;
    char buf[XMPP__DATETIME_MAX];
    const char *act;
    (void)ctx;
    if (xmpp__datetime_parse(body, &t, &us, &tzo) == XMPP_OK &&
        xmpp__datetime_format(t, us, buf, sizeof(buf)) == XMPP_OK) {
        if (xmpp__datetime_parse(buf, &back, &us2, NULL) != XMPP_OK || back != t || us2 != us)
            abort();
    }
    (void)xmpp__tzo_parse(body, &tzo);
    (void)xmpp__date_parse(body, &t);
    (void)xmpp_me_command(body, &act);
    (void)xmpp_reaction_valid(body);
}

static void on_stanza(xmpp_stanza *st, void *ud) {
    xmpp_ctx *ctx = ud;
    xmpp_chatstate cs;
    xmpp_marker mk;
    xmpp_reactions rx;
    xmpp_reply rp;
    const char *id, *hash;
    char *out = NULL, *body = NULL;
    size_t blen = 0, i;
    static const char *const nss[] = {XMPP_NS_REPLY, XMPP_NS_RETRACT};
    (void)xmpp_chatstate_get(st, &cs);
    (void)xmpp_correction_get(st, &id);
    (void)xmpp_marker_get(st, &mk, &id);
    (void)xmpp_marker_is_markable(st);
    (void)xmpp_retraction_get(st, &id);
    if (xmpp_reactions_get(st, &rx) == XMPP_OK) {
        if (rx.count > XMPP_REACTIONS_MAX)
            abort();
        for (i = 0; i < rx.count; i++)
            if (!xmpp_reaction_valid(rx.reactions[i]))
                abort();
    }
    (void)xmpp_reply_get(st, &rp);
    (void)xmpp_vcard_update_get(st, &hash);
    if (xmpp_stanza_child(st, "body", NULL) &&
        xmpp_stanza_text(xmpp_stanza_child(st, "body", NULL), &body, &blen) == XMPP_OK) {
        check_body(ctx, body);
        for (i = 0; i < 2; i++) {
            if (xmpp_fallback_strip(st, nss[i], &out) == XMPP_OK) {
                if (strlen(out) > blen || !xmpp__xml_text_ok(out, strlen(out)))
                    abort();
                xmpp_free(ctx, out);
            }
        }
        xmpp_free(ctx, body);
    }
}

static void on_start(xmpp_stanza *hdr, const char *dns, void *ud) {
    (void)hdr;
    (void)dns;
    (void)ud;
}

static void on_end(void *ud) {
    (void)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char hdr[] = "<stream:stream xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams'>";
    xmpp_xml_callbacks cb = {on_start, on_stanza, on_end};
    xmpp_xml_parser *p = NULL;
    xmpp_ctx *ctx = NULL;
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK)
        return 0;
    if (xmpp_xml_parser_new(&p, ctx, &cb, ctx) == XMPP_OK &&
        xmpp_xml_parser_feed(p, hdr, strlen(hdr)) == XMPP_OK)
        (void)xmpp_xml_parser_feed(p, (const char *)data, size);
    xmpp_xml_parser_free(p);
    xmpp_ctx_free(ctx);
    return 0;
}
