/* stanza-demo: builds a chat message, an IQ and an error reply with the
 * stanza API, prints them, and walks a tree. Runs without a server. */
#include <stdio.h>
#include <string.h>

#include <xmpp/xmpp.h>

static int check(int rc, const char *what) {
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", what, xmpp_strerror(rc));
    return rc;
}

static void print(const xmpp_stanza *st) {
    char *s;
    if (check(xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &s, NULL), "serialize") == 0) {
        printf("%s\n", s);
        xmpp_free(xmpp_stanza_ctx(st), s);
    }
}

int main(void) {
    xmpp_ctx *ctx;
    xmpp_stanza *msg = NULL, *iq = NULL, *err = NULL, *query = NULL, *item = NULL;
    int rc;

    if (check(xmpp_ctx_new(&ctx, NULL), "ctx") < 0)
        return 1;
    printf("libxmpp %s\n", xmpp_version_string());

    /* <message type='chat' to=... id=...><body>...</body></message> */
    rc = xmpp_message_new(&msg, ctx, "chat", "juliet@example.com", "m1",
                          "Wherefore art thou, Romeo? <3 & more");
    if (check(rc, "message") < 0)
        goto out;
    rc = xmpp_stanza_add_child_new(msg, "active", "http://jabber.org/protocol/chatstates", NULL);
    if (check(rc, "chat state") < 0)
        goto out;
    print(msg);

    /* a roster request and the lookup of its payload by path */
    if (check(xmpp_iq_new(&iq, ctx, "get", NULL, "roster1"), "iq") < 0 ||
        check(xmpp_stanza_add_child_new(iq, "query", "jabber:iq:roster", &query), "query") < 0 ||
        check(xmpp_stanza_add_child_new(query, "item", NULL, &item), "item") < 0 ||
        check(xmpp_stanza_set_attr(item, "jid", "romeo@example.net"), "attr") < 0)
        goto out;
    print(iq);
    printf("path query@jabber:iq:roster/item -> jid=%s\n",
           xmpp_stanza_attr(xmpp_stanza_path(iq, "query@jabber:iq:roster/item"), "jid"));

    /* the error reply a client owes for an IQ it does not understand */
    if (check(xmpp_stanza_set_attr(iq, "from", "mallory@example.org/x"), "from") < 0 ||
        check(xmpp_stanza_error_new(&err, iq, XMPP_EC_SERVICE_UNAVAILABLE, NULL), "error") < 0)
        goto out;
    print(err);
    rc = 0;
out:
    xmpp_stanza_unref(err);
    xmpp_stanza_unref(iq);
    xmpp_stanza_unref(msg);
    xmpp_ctx_free(ctx);
    return rc < 0 ? 1 : 0;
}
