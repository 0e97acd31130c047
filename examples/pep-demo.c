/* pep-demo: personal eventing with libxmpp. It logs in, says it wants
 * contacts' avatars (XEP-0163 "+notify" in its caps), sends presence,
 * lists its bookmarks (XEP-0402, or XEP-0048 on older servers),
 * optionally publishes an avatar (XEP-0084), and then prints every
 * avatar change of a contact, fetching the image to check its hash.
 *
 * Configuration comes from the environment:
 *
 *   XMPP_JID, XMPP_PASSWORD   the account (required)
 *   XMPP_SERVER               HOST:PORT instead of the SRV lookup (HOST an
 *                             IP literal)
 *   XMPP_CAFILE               a PEM file of trusted CAs instead of the
 *                             system store
 *   PEP_DEMO_AVATAR           a PNG file to publish as our avatar
 *   PEP_DEMO_SECONDS          how long to listen (default 30)
 *
 *   XMPP_JID=me@example.org XMPP_PASSWORD=secret ./pep-demo
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/avatar.h>
#include <xmpp/xep/bookmarks.h>
#include <xmpp/xep/caps.h>

static int ready, closed;

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)s;
    (void)ud;
    printf("ready as %s\n", jid);
    ready = 1;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    (void)s;
    (void)ud;
    printf("closed (cause %d)\n", (int)cause);
    closed = 1;
}

static void on_bookmarks(xmpp_session *s, xmpp_iq_status status, const xmpp_bookmark *list,
                         size_t n, xmpp_stanza *error, void *ud) {
    size_t i;
    (void)error;
    (void)ud;
    if (status != XMPP_IQ_RESULT) {
        printf("bookmarks: request failed (%d)\n", (int)status);
        return;
    }
    printf("bookmarks (%s): %lu\n",
           xmpp_bookmarks_get_storage(s) == XMPP_BOOKMARKS_PEP ? "PEP" : "private storage",
           (unsigned long)n);
    for (i = 0; i < n; i++)
        printf("  %s%s nick=%s%s\n", list[i].jid, list[i].autojoin ? " (autojoin)" : "",
               list[i].nick ? list[i].nick : "-", list[i].password ? " (password)" : "");
}

static void on_image(xmpp_session *s, xmpp_iq_status status, int err, const void *data,
                     size_t len, void *ud) {
    (void)s;
    (void)data;
    (void)ud;
    if (status == XMPP_IQ_RESULT && err == XMPP_OK)
        printf("  image: %lu bytes, SHA-1 checked\n", (unsigned long)len);
    else
        printf("  image: not available (%s)\n", xmpp_strerror(err));
}

static void on_metadata(xmpp_session *s, const char *from, const char *id, const char *type,
                        size_t bytes, void *ud) {
    (void)ud;
    if (id == NULL) {
        printf("%s has no avatar\n", from);
        return;
    }
    printf("%s has avatar %s (%s, %lu bytes)\n", from, id, type ? type : "?",
           (unsigned long)bytes);
    xmpp_avatar_fetch(s, from, id, 0, on_image, NULL);
}

static void on_published(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply,
                         void *ud) {
    (void)s;
    (void)reply;
    (void)ud;
    printf("avatar publish: %s\n", status == XMPP_IQ_RESULT ? "done" : "failed");
}

static void publish_avatar(xmpp_session *s, const char *path) {
    static unsigned char buf[XMPP_AVATAR_MAX_BYTES + 1];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc;
    if (f == NULL) {
        perror(path);
        return;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    rc = xmpp_avatar_publish(s, buf, n, "image/png", 0, 0, 0, on_published, NULL);
    if (rc != XMPP_OK)
        printf("avatar publish: %s\n", xmpp_strerror(rc));
}

int main(void) {
    const char *jid = getenv("XMPP_JID"), *pw = getenv("XMPP_PASSWORD");
    const char *server = getenv("XMPP_SERVER"), *cafile = getenv("XMPP_CAFILE");
    const char *avatar = getenv("PEP_DEMO_AVATAR"), *secs = getenv("PEP_DEMO_SECONDS");
    xmpp_ctx *ctx = NULL;
    xmpp_session_options *o = NULL;
    xmpp_tls_config *tls = NULL;
    xmpp_client *c = NULL;
    xmpp_session *s;
    xmpp_stanza *pres = NULL;
    time_t end;
    int rc;
    if (jid == NULL || pw == NULL) {
        fprintf(stderr, "pep-demo: set XMPP_JID and XMPP_PASSWORD\n");
        return 2;
    }
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_session_options_new(&o, ctx) != XMPP_OK ||
        xmpp_tls_config_new(&tls, ctx) != XMPP_OK)
        return 1;
    if (cafile) {
        xmpp_tls_config_use_system_trust(tls, 0);
        xmpp_tls_config_add_cafile(tls, cafile);
    }
    /* "avatar" and "bookmarks" bring "pubsub" and "disco"; "caps" puts our
     * features (with the +notify interests) into our presence */
    if ((rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, pw)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, tls)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, NULL)) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "caps")) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "avatar")) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "bookmarks")) != XMPP_OK ||
        (rc = xmpp_client_new(&c, ctx, o)) != XMPP_OK) {
        fprintf(stderr, "pep-demo: %s\n", xmpp_strerror(rc));
        return 2;
    }
    xmpp_tls_config_unref(tls);
    xmpp_session_options_free(o);
    if (server) {
        char host[256];
        const char *colon = strrchr(server, ':');
        if (colon == NULL || (size_t)(colon - server) >= sizeof(host)) {
            fprintf(stderr, "pep-demo: XMPP_SERVER is HOST:PORT\n");
            return 2;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - server), server);
        xmpp_client_set_server(c, host, (unsigned)strtoul(colon + 1, NULL, 10));
    }
    s = xmpp_client_session(c);
    /* the interest first, so that the first presence carries it */
    xmpp_avatar_watch(s, on_metadata, NULL, NULL);
    xmpp_client_connect(c);
    while (!ready && !closed)
        xmpp_client_run_once(c, 1000);
    if (closed) {
        xmpp_client_free(c);
        xmpp_ctx_free(ctx);
        return 1;
    }
    if (xmpp_presence_new(&pres, ctx, NULL, NULL, NULL) == XMPP_OK &&
        xmpp_caps_decorate(s, pres) == XMPP_OK)
        xmpp_session_send(s, pres);
    xmpp_stanza_unref(pres);
    xmpp_bookmarks_list(s, 0, on_bookmarks, NULL);
    if (avatar)
        publish_avatar(s, avatar);
    end = time(NULL) + (secs ? strtol(secs, NULL, 10) : 30);
    while (!closed && time(NULL) < end)
        xmpp_client_run_once(c, 500);
    xmpp_client_close(c);
    while (!closed)
        if (xmpp_client_run_once(c, 500) == XMPP_ERR_CLOSED)
            break;
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
    return 0;
}
