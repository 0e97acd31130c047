/* jid-demo: parses and prepares JIDs given on the command line (or a
 * built-in list) and shows their parts, or the specific error. */
#include <stdio.h>

#include <xmpp/xmpp.h>

static void show(xmpp_ctx *ctx, const char *s) {
    xmpp_jid *jid = NULL;
    int rc = xmpp_jid_parse(&jid, ctx, s);
    if (rc < 0) {
        printf("%-32s -> error: %s\n", s, xmpp_strerror(rc));
        return;
    }
    printf("%-32s -> full=%s bare=%s local=%s domain=%s (unicode %s) resource=%s\n", s,
           xmpp_jid_full(jid), xmpp_jid_bare(jid),
           xmpp_jid_local(jid) ? xmpp_jid_local(jid) : "-", xmpp_jid_domain(jid),
           xmpp_jid_domain_unicode(jid),
           xmpp_jid_resource(jid) ? xmpp_jid_resource(jid) : "-");
    xmpp_jid_free(jid);
}

int main(int argc, char **argv) {
    static const char *const samples[] = {
        "juliet@example.com/balcony",
        "Juliet@Example.COM./Balcony Room",
        "\xe2\x99\x9a@example.com",            /* U+265A: a symbol, not allowed */
        "\xef\xbc\xaa\xef\xbd\x95liet@example.com", /* fullwidth letters map */
        "user@m\xc3\xbcnchen.example",
        "a@b@c",
        "@example.com",
        "room@conference.example.com/nick/with/slashes",
        "[::1]",
    };
    xmpp_ctx *ctx;
    int i;
    char *esc = NULL;
    if (xmpp_ctx_new(&ctx, NULL) < 0)
        return 1;
    if (argc > 1) {
        for (i = 1; i < argc; i++)
            show(ctx, argv[i]);
    } else {
        for (i = 0; i < (int)(sizeof(samples) / sizeof(samples[0])); i++)
            show(ctx, samples[i]);
    }
    if (xmpp_jid_escape(ctx, "d'artagnan@gascony", &esc) == 0) {
        printf("XEP-0106 escape of \"d'artagnan@gascony\": %s\n", esc);
        xmpp_free(ctx, esc);
    }
    xmpp_ctx_free(ctx);
    return 0;
}
