/* An external component (XEP-0114) that answers service discovery and
 * echoes messages.
 *
 *   XMPP_COMPONENT_SECRET=... component echo.example.org 127.0.0.1 5347 [COUNT]
 *
 * It connects to the server's component port (plaintext: a component
 * usually runs next to the server; over a network use direct TLS with
 * xmpp_session_options_set_tls_mode(o, XMPP_TLS_DIRECT)), authenticates
 * with the shared secret taken from the environment, and then serves its
 * domain: disco#info through the built-in "disco" plugin, and every chat
 * or normal message with a body is sent back to the sender's bare JID, from
 * the address it was sent to. With COUNT it leaves after that many echoes.
 * Prints "ready as DOMAIN" and one "echoed ..." line per echo on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xmpp.h>
#include <xmpp/client.h>
#include <xmpp/plugin.h>
#include <xmpp/xep/component.h>

struct comp {
    xmpp_ctx *ctx;
    xmpp_client *client;
    long count, echoes;
    int failed;
};

static void on_ready(xmpp_session *s, const char *jid, void *user_data) {
    (void)s;
    (void)user_data;
    printf("ready as %s\n", jid);
    fflush(stdout);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *user_data) {
    struct comp *c = user_data;
    const char *text = NULL;
    xmpp_stream_condition cond = XMPP_SC_NONE;
    if (cause == XMPP_CAUSE_LOCAL_CLOSE)
        return;
    xmpp_session_get_error(s, &cond, &text);
    if ((cause == XMPP_CAUSE_DNS || cause == XMPP_CAUSE_TCP) && xmpp_client_error(c->client))
        text = xmpp_client_error(c->client);
    if (cause == XMPP_CAUSE_STREAM_ERROR) /* a refused secret: not-authorized */
        fprintf(stderr, "component: stream error: %s%s%s\n", xmpp_stream_condition_name(cond),
                text ? ": " : "", text ? text : "");
    else
        fprintf(stderr, "component: session ended: %s\n", text ? text : "connection closed");
    c->failed = 1;
}

static int on_message(xmpp_session *s, xmpp_stanza *msg, void *user_data) {
    struct comp *c = user_data;
    const char *type = xmpp_stanza_type(msg), *from = xmpp_stanza_from(msg);
    const char *to = xmpp_stanza_to(msg);
    xmpp_stanza *body = xmpp_stanza_child(msg, "body", NULL), *reply = NULL;
    xmpp_jid *sender = NULL;
    char *text = NULL;
    int rc;
    /* never answer errors, groupchat or headlines (no loops) */
    if (type && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0)
        return 1;
    if (body == NULL || from == NULL || to == NULL ||
        xmpp_jid_parse(&sender, c->ctx, from) != XMPP_OK)
        return 1;
    rc = xmpp_stanza_text(body, &text, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_message_new(&reply, c->ctx, type, xmpp_jid_bare(sender), NULL, text);
    /* the server routes a component's stanzas by their from: answer from
     * the address the message was sent to (any JID of our domain) */
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(reply, "from", to);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, reply);
    if (rc == XMPP_OK) {
        c->echoes++;
        printf("echoed to %s: %s\n", xmpp_jid_bare(sender), text);
        fflush(stdout);
        if (c->count > 0 && c->echoes >= c->count)
            xmpp_client_close(c->client);
    } else {
        fprintf(stderr, "component: cannot echo: %s\n", xmpp_strerror(rc));
    }
    xmpp_stanza_unref(reply);
    xmpp_free(c->ctx, text);
    xmpp_jid_free(sender);
    return 1;
}

int main(int argc, char **argv) {
    struct comp c;
    xmpp_session_options *o = NULL;
    const char *secret = getenv("XMPP_COMPONENT_SECRET");
    long port;
    int rc;
    if (argc < 4 || argc > 5 || secret == NULL) {
        fprintf(stderr, "usage: XMPP_COMPONENT_SECRET=... component DOMAIN HOST PORT [COUNT]\n");
        return 2;
    }
    port = strtol(argv[3], NULL, 10);
    memset(&c, 0, sizeof(c));
    c.count = argc == 5 ? strtol(argv[4], NULL, 10) : 0;
    if (port <= 0 || port > 65535 || xmpp_ctx_new(&c.ctx, NULL) != XMPP_OK)
        return 2;
    if ((rc = xmpp_session_options_new(&o, c.ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_component(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, argv[1])) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, secret)) != XMPP_OK ||
        (rc = xmpp_session_options_allow_plaintext(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE)) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "disco")) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, &c)) != XMPP_OK ||
        (rc = xmpp_client_new(&c.client, c.ctx, o)) != XMPP_OK) {
        fprintf(stderr, "component: %s\n", xmpp_strerror(rc));
        return 1;
    }
    xmpp_session_options_free(o);
    xmpp_session_add_handler(xmpp_client_session(c.client), "message", NULL, NULL, on_message, &c,
                             NULL);
    xmpp_client_set_server(c.client, argv[2], (unsigned)port);
    xmpp_client_connect(c.client);
    while (xmpp_client_run_once(c.client, 1000) == XMPP_OK)
        ;
    xmpp_client_free(c.client);
    xmpp_ctx_free(c.ctx);
    return c.failed ? 1 : 0;
}
