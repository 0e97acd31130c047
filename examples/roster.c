/* roster: a small contact-list client. It logs in, fetches the roster
 * (with the version and items a previous run stored, RFC 6121 §2.6),
 * announces its presence, then reports every roster change, every
 * contact coming and going, and every subscription request, which it
 * approves when ROSTER_APPROVE=1 (and denies otherwise).
 *
 *   XMPP_JID, XMPP_PASSWORD  the account (required)
 *   XMPP_SERVER              HOST:PORT instead of the SRV lookup
 *   XMPP_CAFILE              trusted CAs instead of the system store
 *   ROSTER_SECONDS           run that long after login (default 30)
 *   ROSTER_APPROVE           1: approve subscription requests
 *
 * The roster is printed as "jid [name] subscription groups" lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/presence.h>
#include <xmpp/xep/roster.h>

static int ready, failed;

static void print_item(const char *what, const xmpp_roster_item *it) {
    size_t g;
    printf("%s %s [%s] %s%s", what, xmpp_roster_item_jid(it),
           xmpp_roster_item_name(it) ? xmpp_roster_item_name(it) : "",
           xmpp_roster_subscription_name(xmpp_roster_item_subscription(it)),
           xmpp_roster_item_ask(it) ? " (asked)" : "");
    for (g = 0; g < xmpp_roster_item_group_count(it); g++)
        printf(" #%s", xmpp_roster_item_group_at(it, g));
    putchar('\n');
}

static void on_change(xmpp_session *s, xmpp_roster_change ch, const xmpp_roster_item *it,
                      void *ud) {
    static const char *const what[] = {"added", "updated", "removed"};
    (void)s;
    (void)ud;
    print_item(what[ch], it);
}

static void on_fetched(xmpp_session *s, xmpp_iq_status status, int unchanged, void *ud) {
    size_t i;
    (void)ud;
    if (status != XMPP_IQ_RESULT) {
        fprintf(stderr, "roster: the roster request failed\n");
        return;
    }
    printf("roster%s (version %s):\n", unchanged ? " (unchanged)" : "",
           xmpp_roster_version(s) ? xmpp_roster_version(s) : "none");
    for (i = 0; i < xmpp_roster_count(s); i++)
        print_item(" ", xmpp_roster_item_at(s, i));
    /* initial presence after the roster (RFC 6121 §2.2 and §4.2) */
    xmpp_presence_send_available(s, NULL, NULL, "libxmpp roster example", 0);
}

static void on_sub(xmpp_session *s, const char *from, xmpp_subscription_type type,
                   const xmpp_stanza *p, void *ud) {
    const char *approve = getenv("ROSTER_APPROVE");
    (void)p;
    (void)ud;
    if (type != XMPP_PRESENCE_SUBSCRIBE) {
        printf("subscription news from %s (%d)\n", from, (int)type);
        return;
    }
    printf("%s asks to see our presence: %s\n", from,
           approve && strcmp(approve, "1") == 0 ? "approved" : "denied");
    xmpp_presence_send_subscription(s, from,
                                    approve && strcmp(approve, "1") == 0
                                        ? XMPP_PRESENCE_SUBSCRIBED
                                        : XMPP_PRESENCE_UNSUBSCRIBED);
}

static void on_avail(xmpp_session *s, const char *jid, int available,
                     const xmpp_presence_info *in, void *ud) {
    (void)s;
    (void)ud;
    if (available)
        printf("online %s%s%s%s\n", jid, xmpp_presence_info_show(in) ? " " : "",
               xmpp_presence_info_show(in) ? xmpp_presence_info_show(in) : "",
               xmpp_presence_info_status(in) ? " (status given)" : "");
    else
        printf("offline %s\n", jid);
}

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)ud;
    ready = 1;
    printf("ready as %s\n", jid);
    xmpp_roster_set_change_callback(s, on_change, NULL);
    xmpp_presence_set_subscription_callback(s, on_sub, NULL);
    xmpp_presence_set_change_callback(s, on_avail, NULL);
    if (xmpp_roster_fetch(s, 0, on_fetched, NULL) != XMPP_OK)
        fprintf(stderr, "roster: cannot ask for the roster\n");
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    (void)s;
    (void)ud;
    if (cause != XMPP_CAUSE_LOCAL_CLOSE)
        failed = 1;
}

int main(void) {
    const char *jid = getenv("XMPP_JID"), *pw = getenv("XMPP_PASSWORD");
    const char *server = getenv("XMPP_SERVER"), *cafile = getenv("XMPP_CAFILE");
    const char *secs = getenv("ROSTER_SECONDS");
    xmpp_ctx *ctx = NULL;
    xmpp_session_options *o = NULL;
    xmpp_tls_config *tls = NULL;
    xmpp_client *c = NULL;
    time_t end = 0;
    long run_for = secs ? strtol(secs, NULL, 10) : 30;
    int closing = 0;
    if (jid == NULL || pw == NULL) {
        fprintf(stderr, "roster: set XMPP_JID and XMPP_PASSWORD\n");
        return 2;
    }
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_session_options_new(&o, ctx) != XMPP_OK ||
        xmpp_session_options_set_jid(o, jid) != XMPP_OK ||
        xmpp_session_options_set_password(o, pw) != XMPP_OK ||
        xmpp_session_options_set_callbacks(o, on_ready, on_closed, NULL) != XMPP_OK ||
        xmpp_session_options_enable_plugin(o, "roster") != XMPP_OK ||
        xmpp_session_options_enable_plugin(o, "presence") != XMPP_OK ||
        xmpp_tls_config_new(&tls, ctx) != XMPP_OK) {
        fprintf(stderr, "roster: bad settings\n");
        return 2;
    }
    if (cafile) {
        xmpp_tls_config_use_system_trust(tls, 0);
        if (xmpp_tls_config_add_cafile(tls, cafile) != XMPP_OK) {
            fprintf(stderr, "roster: cannot read %s\n", cafile);
            return 2;
        }
    }
    xmpp_session_options_set_tls_config(o, tls);
    xmpp_tls_config_unref(tls);
    if (xmpp_client_new(&c, ctx, o) != XMPP_OK)
        return 1;
    xmpp_session_options_free(o);
    if (server) {
        char host[256];
        const char *colon = strrchr(server, ':');
        if (colon == NULL || (size_t)(colon - server) >= sizeof(host))
            return 2;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - server), server);
        if (xmpp_client_set_server(c, host, (unsigned)strtoul(colon + 1, NULL, 10)) != XMPP_OK)
            return 2;
    }
    xmpp_client_connect(c);
    for (;;) {
        if (ready && end == 0)
            end = time(NULL) + run_for;
        if (!closing && end != 0 && time(NULL) >= end) {
            closing = 1;
            xmpp_client_close(c);
        }
        fflush(stdout);
        if (xmpp_client_run_once(c, 500) == XMPP_ERR_CLOSED)
            break;
    }
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
    return failed || !ready ? 1 : 0;
}
