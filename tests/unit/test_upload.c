/* XEP-0363 HTTP File Upload (discovery, slot requests and hostile slot
 * replies), XEP-0066 OOB, XEP-0357 push enable/disable, and the client's I/O sources
 * (xmpp/sys/io.h), driven by scripted server bytes as in test_plugin.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>

#include <xmpp/xmpp.h>
#include <xmpp/client.h>
#include <xmpp/sys/io.h>
#include <xmpp/xep/push.h>
#include <xmpp/xep/upload.h>

#include "testhelp.h"
#include "transcript.h"

/* The id of the iq sent to `to` in the output (the last one when several). */
static void id_for(const struct fix *f, const char *to, char *id, size_t cap) {
    char pat[256];
    const char *p = NULL, *q, *tag, *e;
    snprintf(pat, sizeof(pat), "to=\"%s\"", to);
    for (q = strstr(f->out, pat); q; q = strstr(q + 1, pat))
        p = q;
    assert_non_null(p);
    for (tag = p; tag > f->out && strncmp(tag, "<iq", 3) != 0; tag--)
        ;
    e = strchr(tag, '>');
    q = strstr(tag, " id=\"");
    assert_true(q != NULL && q < e);
    q += 5;
    assert_true((size_t)(strchr(q, '"') - q) < cap);
    snprintf(id, cap, "%.*s", (int)(strchr(q, '"') - q), q);
}

static void reply(struct fix *f, const char *from, const char *id, const char *type,
                  const char *payload) {
    char buf[16384];
    snprintf(buf, sizeof(buf), "<iq type='%s' id='%s' from='%s'>%s</iq>", type, id, from, payload);
    server(f, buf);
}

/* ---- slot requests */
struct slot_seen {
    int calls;
    xmpp_iq_status status;
    int err;
    xmpp_upload_slot *slot;
    uint64_t max;
};

static void on_slot(xmpp_session *s, xmpp_iq_status status, int err, xmpp_upload_slot *slot,
                    xmpp_stanza *error, void *ud) {
    struct slot_seen *r = ud;
    (void)s;
    r->calls++;
    r->status = status;
    r->err = err;
    r->slot = slot;
    r->max = error ? xmpp_upload_error_max_size(error) : 0;
    assert_true(status == XMPP_IQ_ERROR ? error != NULL : error == NULL);
}

#define SVC    "upload.example.com"
#define PUT_OK "https://up.example.com/put/abc/f.txt"
#define GET_OK "https://up.example.com/get/abc/f.txt"

/* Requests a slot and answers it with `payload` from `from`. */
static struct fix *slot_exchange(struct slot_seen *r, unsigned flags, const char *from,
                                 const char *type, const char *payload) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    char id[64];
    memset(r, 0, sizeof(*r));
    take(f);
    assert_int_equal(
        xmpp_upload_request_slot(f->s, SVC, "f.txt", 1234, "text/plain", flags, 0, on_slot, r),
        XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<request xmlns=\"urn:xmpp:http:upload:0\" filename=\"f.txt\" "
                                   "size=\"1234\" content-type=\"text/plain\"/>"));
    assert_non_null(strstr(f->out, "type=\"get\""));
    id_for(f, SVC, id, sizeof(id));
    take(f);
    reply(f, from, id, type, payload);
    return f;
}

static void test_slot_ok(void **state) {
    struct slot_seen r;
    struct fix *f;
    const char *n, *v;
    (void)state;
    f = slot_exchange(&r, 0, SVC, "result",
                      "<slot xmlns='urn:xmpp:http:upload:0'><put url='" PUT_OK "'>"
                      "<header name='Authorization'>Basic Base64String==</header>"
                      "<header name='X-Evil'>no</header>"
                      "<header name='Host'>evil.example</header>"
                      "<header name='cookie'>foo=bar&#13;&#10;X-Injected: 1</header>"
                      "<header name='Expires'>Tue, 29 Nov 2016 12:00:00 GMT</header>"
                      "</put><get url='" GET_OK "'/></slot>");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(r.err, XMPP_OK);
    assert_non_null(r.slot);
    assert_string_equal(xmpp_upload_slot_put_url(r.slot), PUT_OK);
    assert_string_equal(xmpp_upload_slot_get_url(r.slot), GET_OK);
    assert_int_equal(xmpp_upload_slot_size(r.slot), 1234);
    /* only Authorization, Cookie and Expires; newlines stripped (XEP-0363 §4) */
    assert_int_equal(xmpp_upload_slot_header_count(r.slot), 3);
    assert_int_equal(xmpp_upload_slot_header_at(r.slot, 0, &n, &v), XMPP_OK);
    assert_string_equal(n, "Authorization");
    assert_string_equal(v, "Basic Base64String==");
    assert_int_equal(xmpp_upload_slot_header_at(r.slot, 1, &n, &v), XMPP_OK);
    assert_string_equal(n, "Cookie");
    assert_string_equal(v, "foo=barX-Injected: 1");
    assert_int_equal(xmpp_upload_slot_header_at(r.slot, 2, &n, &v), XMPP_OK);
    assert_string_equal(n, "Expires");
    assert_int_equal(xmpp_upload_slot_header_at(r.slot, 3, &n, &v), XMPP_ERR_NOT_FOUND);
    xmpp_upload_slot_free(r.slot);
    fix_free(f);
}

static void expect_bad(const char *payload, unsigned flags) {
    struct slot_seen r;
    struct fix *f = slot_exchange(&r, flags, SVC, "result", payload);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_int_equal(r.err, XMPP_ERR_BAD_REPLY);
    assert_null(r.slot);
    fix_free(f);
}

static void test_slot_hostile(void **state) {
    char *big, *payload;
    size_t i;
    (void)state;
    /* no slot, missing URLs */
    expect_bad("", 0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'/>", 0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='" PUT_OK "'/></slot>", 0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><get url='" GET_OK "'/></slot>", 0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url=''/><get url='" GET_OK "'/></slot>",
               0);
    /* the wrong namespace */
    expect_bad("<slot xmlns='urn:xmpp:http:upload'><put url='" PUT_OK "'/><get url='" GET_OK
               "'/></slot>",
               0);
    /* not https: refused unless allowed */
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='http://up.example.com/p'/>"
               "<get url='" GET_OK "'/></slot>",
               0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='" PUT_OK "'/>"
               "<get url='ftp://up.example.com/g'/></slot>",
               0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='file:///etc/passwd'/>"
               "<get url='" GET_OK "'/></slot>",
               0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='ftp://x/p'/>"
               "<get url='http://x/g'/></slot>",
               XMPP_UPLOAD_ALLOW_HTTP);
    /* no host, whitespace, control characters */
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='https:///p'/>"
               "<get url='" GET_OK "'/></slot>",
               0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='https://a b/p'/>"
               "<get url='" GET_OK "'/></slot>",
               0);
    expect_bad("<slot xmlns='urn:xmpp:http:upload:0'><put url='https://a/p&#10;Host: x'/>"
               "<get url='" GET_OK "'/></slot>",
               0);
    /* oversized URL and header value */
    big = malloc(6000);
    payload = malloc(7000);
    assert_non_null(big);
    assert_non_null(payload);
    memcpy(big, "https://a/", 10);
    for (i = 10; i < 5000; i++)
        big[i] = 'x';
    big[i] = '\0';
    snprintf(payload, 7000,
             "<slot xmlns='urn:xmpp:http:upload:0'><put url='%s'/>"
             "<get url='" GET_OK "'/></slot>",
             big);
    expect_bad(payload, 0);
    snprintf(payload, 7000,
             "<slot xmlns='urn:xmpp:http:upload:0'><put url='" PUT_OK "'>"
             "<header name='Cookie'>%s</header></put><get url='" GET_OK "'/></slot>",
             big + 3000);
    expect_bad(payload, 0);
    free(big);
    free(payload);
}

static void test_slot_http_allowed(void **state) {
    struct slot_seen r;
    struct fix *f;
    (void)state;
    f = slot_exchange(&r, XMPP_UPLOAD_ALLOW_HTTP, SVC, "result",
                      "<slot xmlns='urn:xmpp:http:upload:0'><put url='http://127.0.0.1:5280/p'/>"
                      "<get url='http://127.0.0.1:5280/g'/></slot>");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, XMPP_OK);
    assert_non_null(r.slot);
    assert_string_equal(xmpp_upload_slot_get_url(r.slot), "http://127.0.0.1:5280/g");
    xmpp_upload_slot_free(r.slot);
    fix_free(f);
}

static void test_slot_sender_and_errors(void **state) {
    struct slot_seen r;
    struct fix *f;
    char id[64];
    (void)state;
    /* a slot from someone else than the service is not accepted (ORG-05) */
    f = slot_exchange(&r, 0, "mallory@evil.example/x", "result",
                      "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://evil/p'/>"
                      "<get url='https://evil/g'/></slot>");
    assert_int_equal(r.calls, 0);
    /* the session's end cancels the request: one call */
    fix_free(f);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
    assert_null(r.slot);
    /* file too large (XEP-0363 §5) */
    f = slot_exchange(&r, 0, SVC, "error",
                      "<request xmlns='urn:xmpp:http:upload:0' filename='f.txt' size='1234'/>"
                      "<error type='modify'><not-acceptable "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                      "<file-too-large xmlns='urn:xmpp:http:upload:0'>"
                      "<max-file-size>1000</max-file-size></file-too-large></error>");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_ERROR);
    assert_int_equal(r.max, 1000);
    assert_null(r.slot);
    /* arguments */
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "a/b", 1, NULL, 0, 0, on_slot, &r),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "..\\b", 1, NULL, 0, 0, on_slot, &r),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "", 1, NULL, 0, 0, on_slot, &r),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "f", 0, NULL, 0, 0, on_slot, &r),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "f", 1, NULL, 0, 0, NULL, &r),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "f", 1, NULL, 8, 0, on_slot, &r),
                     XMPP_ERR_INVALID);
    /* a timeout: exactly one call */
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "f", 1, NULL, 0, 5000, on_slot, &r),
                     XMPP_OK);
    pump(f);
    id_for(f, SVC, id, sizeof(id));
    f->now += 6000;
    assert_int_equal(xmpp_session_handle_timeout(f->s, f->now), XMPP_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_TIMEOUT);
    reply(f, SVC, id, "result", "<slot xmlns='urn:xmpp:http:upload:0'/>");
    assert_int_equal(r.calls, 1);
    fix_free(f);
}

/* ---- discovery */
struct disc_seen {
    int calls;
    xmpp_iq_status status;
    char service[128];
    uint64_t max;
};

static void on_disc(xmpp_session *s, xmpp_iq_status status, const char *service, uint64_t max,
                    void *ud) {
    struct disc_seen *r = ud;
    (void)s;
    r->calls++;
    r->status = status;
    snprintf(r->service, sizeof(r->service), "%s", service ? service : "");
    r->max = max;
}

#define ITEMS(x) "<query xmlns='http://jabber.org/protocol/disco#items'>" x "</query>"
#define INFO(x)  "<query xmlns='http://jabber.org/protocol/disco#info'>" x "</query>"
#define UPLOAD_FORM(size)                                                                          \
    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"                 \
    "<value>urn:xmpp:http:upload:0</value></field><field var='max-file-size'><value>" size         \
    "</value></field></x>"

static void test_discover(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    struct disc_seen r;
    char id[64];
    (void)state;
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_upload_discover(f->s, 0, on_disc, &r), XMPP_OK);
    pump(f);
    /* the items of the server, not of the account */
    assert_non_null(strstr(f->out, "to=\"example.com\""));
    assert_non_null(strstr(f->out, "disco#items"));
    id_for(f, "example.com", id, sizeof(id));
    take(f);
    reply(f, "example.com", id, "result",
          ITEMS("<item jid='conference.example.com'/>"
                "<item jid='example.com' node='some-node'/>"
                "<item jid='upload.example.com' name='Upload'/>"
                "<item jid='upload2.example.com'/>"));
    /* info asked of each service item, not of the node item */
    assert_non_null(strstr(f->out, "to=\"conference.example.com\""));
    assert_non_null(strstr(f->out, "to=\"upload.example.com\""));
    assert_non_null(strstr(f->out, "to=\"upload2.example.com\""));
    assert_null(strstr(f->out, "to=\"example.com\""));
    /* a forged answer for the upload item is ignored (ORG-05) */
    id_for(f, "upload.example.com", id, sizeof(id));
    reply(f, "mallory@evil.example", id, "result", INFO("<feature var='urn:xmpp:http:upload:0'/>"));
    reply(f, "upload.example.com", id, "result",
          INFO("<identity category='store' type='file'/>"
               "<feature var='urn:xmpp:http:upload:0'/>"
               "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'>"
               "<value>urn:example:other</value></field><field var='max-file-size'>"
               "<value>7</value></field></x>" UPLOAD_FORM("1048576")));
    assert_int_equal(r.calls, 0); /* waits for the earlier items */
    id_for(f, "upload2.example.com", id, sizeof(id));
    reply(f, "upload2.example.com", id, "result", INFO("<feature var='urn:xmpp:http:upload:0'/>"));
    id_for(f, "conference.example.com", id, sizeof(id));
    reply(f, "conference.example.com", id, "error",
          "<error type='cancel'><service-unavailable "
          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_string_equal(r.service, "upload.example.com");
    assert_int_equal(r.max, 1048576);
    fix_free(f);
    assert_int_equal(r.calls, 1);
}

static void test_discover_none(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    struct disc_seen r;
    char id[64];
    (void)state;
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_upload_discover(f->s, 0, on_disc, &r), XMPP_OK);
    pump(f);
    id_for(f, "example.com", id, sizeof(id));
    take(f);
    reply(f, "example.com", id, "result", ITEMS("<item jid='pubsub.example.com'/>"));
    id_for(f, "pubsub.example.com", id, sizeof(id));
    /* a bogus max-file-size is read as "none" */
    reply(f, "pubsub.example.com", id, "result", INFO("<feature var='urn:xmpp:http:upload'/>"));
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    assert_string_equal(r.service, "");
    /* no items at all */
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_upload_discover(f->s, 0, on_disc, &r), XMPP_OK);
    pump(f);
    id_for(f, "example.com", id, sizeof(id));
    reply(f, "example.com", id, "result", ITEMS(""));
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.service, "");
    /* cancelled while info requests are pending: one call */
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_upload_discover(f->s, 0, on_disc, &r), XMPP_OK);
    pump(f);
    id_for(f, "example.com", id, sizeof(id));
    reply(f, "example.com", id, "result",
          ITEMS("<item jid='a.example.com'/><item jid='b.example.com'/>"));
    id_for(f, "b.example.com", id, sizeof(id));
    reply(f, "b.example.com", id, "result", INFO(UPLOAD_FORM("99999999999999999999999")));
    assert_int_equal(r.calls, 0);
    fix_free(f);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
}

/* A server listing many items: only the first 32 are asked (bounded). */
static void test_discover_bounded(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    struct disc_seen r;
    char id[64], items[8192], *p;
    const char *q;
    int i, n = 0;
    (void)state;
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_upload_discover(f->s, 0, on_disc, &r), XMPP_OK);
    pump(f);
    id_for(f, "example.com", id, sizeof(id));
    take(f);
    p = items;
    p += sprintf(p, "<query xmlns='http://jabber.org/protocol/disco#items'>");
    for (i = 0; i < 40; i++)
        p += sprintf(p, "<item jid='s%d.example.com'/>", i);
    sprintf(p, "</query>");
    reply(f, "example.com", id, "result", items);
    for (q = strstr(f->out, "disco#info"); q; q = strstr(q + 1, "disco#info"))
        n++;
    assert_int_equal(n, 32);
    assert_non_null(strstr(f->out, "to=\"s31.example.com\""));
    assert_null(strstr(f->out, "to=\"s32.example.com\""));
    fix_free(f);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
}

/* ---- XEP-0066 */
static void test_oob(void **state) {
    xmpp_ctx *ctx;
    xmpp_stanza *m = NULL;
    char *url = NULL, *desc = NULL, *xml = NULL;
    size_t n;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_message_new(&m, ctx, "chat", "bob@example.com", NULL, GET_OK), XMPP_OK);
    assert_int_equal(xmpp_oob_get(m, &url, &desc), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_oob_add(m, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_oob_add(m, GET_OK "?a=1&b=2", "a <file>"), XMPP_OK);
    assert_int_equal(xmpp_stanza_serialize(m, "jabber:client", &xml, &n), XMPP_OK);
    assert_non_null(strstr(xml, "<x xmlns=\"jabber:x:oob\"><url>" GET_OK
                                "?a=1&amp;b=2</url><desc>a &lt;file&gt;</desc></x>"));
    xmpp_free(ctx, xml);
    assert_int_equal(xmpp_oob_get(m, &url, &desc), XMPP_OK);
    assert_string_equal(url, GET_OK "?a=1&b=2");
    assert_string_equal(desc, "a <file>");
    xmpp_free(ctx, url);
    xmpp_free(ctx, desc);
    xmpp_stanza_unref(m);
    xmpp_ctx_free(ctx);
}

struct oob_seen {
    int calls, rc;
    char url[256];
};

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct oob_seen *r = ud;
    char *url = NULL;
    (void)s;
    r->calls++;
    r->rc = xmpp_oob_get(st, &url, NULL);
    snprintf(r->url, sizeof(r->url), "%s", url ? url : "");
    xmpp_free(xmpp_stanza_ctx(st), url);
    return 1;
}

static void test_oob_received(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    struct oob_seen r;
    unsigned long h;
    char *big, *msg;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, NULL, on_message, &r, &h),
                     XMPP_OK);
    server(f, "<message from='bob@example.com/x' type='chat'><body>" GET_OK "</body>"
              "<x xmlns='jabber:x:oob'><url>" GET_OK "</url></x></message>");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, XMPP_OK);
    assert_string_equal(r.url, GET_OK);
    server(f, "<message from='bob@example.com/x'><x xmlns='jabber:x:oob'><url/></x></message>");
    assert_int_equal(r.rc, XMPP_ERR_NOT_FOUND);
    server(f, "<message from='bob@example.com/x'><x xmlns='jabber:x:oob'/></message>");
    assert_int_equal(r.rc, XMPP_ERR_NOT_FOUND);
    /* an oversized URL is refused */
    big = malloc(5000);
    msg = malloc(6000);
    assert_non_null(big);
    assert_non_null(msg);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    snprintf(msg, 6000,
             "<message from='bob@example.com/x'><x xmlns='jabber:x:oob'><url>%s</url>"
             "</x></message>",
             big);
    server(f, msg);
    assert_int_equal(r.calls, 4);
    assert_int_equal(r.rc, XMPP_ERR_LIMIT);
    free(big);
    free(msg);
    fix_free(f);
}

/* ---- I/O sources (xmpp/sys/io.h) and the transfer's argument checks */
struct src_seen {
    int actions, detached, fd;
};

static void src_action(xmpp_client *c, int fd, int events, void *ud) {
    struct src_seen *r = ud;
    (void)c;
    (void)events;
    r->actions++;
    r->fd = fd;
}

static long src_timeout(xmpp_client *c, void *ud) {
    (void)c;
    (void)ud;
    return 5;
}

static void src_detach(xmpp_client *c, void *ud) {
    struct src_seen *r = ud;
    (void)c;
    r->detached++;
}

struct sock_seen {
    int calls, fd, events;
    long timer;
};

static void on_sock(xmpp_client *c, int fd, int events, void *ud) {
    struct sock_seen *r = ud;
    (void)c;
    r->calls++;
    r->fd = fd;
    r->events = events;
}

static void on_timer(xmpp_client *c, long timeout_ms, void *ud) {
    (void)c;
    ((struct sock_seen *)ud)->timer = timeout_ms;
}

static xmpp_client *client_new(xmpp_ctx *ctx) {
    xmpp_session_options *o;
    xmpp_client *c = NULL;
    assert_int_equal(xmpp_session_options_new(&o, ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    assert_int_equal(xmpp_client_new(&c, ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    return c;
}

static void test_sources(void **state) {
    xmpp_ctx *ctx;
    xmpp_client *c;
    struct src_seen r;
    struct sock_seen ss;
    unsigned long h, h2;
    int fds[3 * 8], t = -1, n, p[2];
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    c = client_new(ctx);
    assert_int_equal(pipe(p), 0);
    memset(&ss, 0, sizeof(ss));
    ss.timer = -7;
    assert_int_equal(xmpp_client_set_socket_fn(c, on_sock, &ss), XMPP_OK);
    assert_int_equal(xmpp_client_set_timer_fn(c, on_timer, &ss), XMPP_OK);
    assert_int_equal(xmpp_client_add_source(c, NULL, NULL, NULL, &r, &h), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_add_source(c, src_action, src_timeout, src_detach, &r, &h),
                     XMPP_OK);
    assert_int_equal(xmpp_client_source_watch(c, h, p[0], XMPP_IO_IN), XMPP_OK);
    /* the application's hooks hear of the source's descriptor and timer */
    assert_int_equal(ss.calls, 1);
    assert_int_equal(ss.fd, p[0]);
    assert_int_equal(ss.events, XMPP_IO_IN);
    assert_int_equal(xmpp_client_source_changed(c), XMPP_OK);
    assert_true(ss.timer >= 0 && ss.timer <= 5);
    assert_int_equal(xmpp_client_source_watch(c, h + 100, p[0], XMPP_IO_IN), XMPP_ERR_NOT_FOUND);
    n = xmpp_client_get_pollfds(c, fds, 8, &t);
    assert_int_equal(n, 1);
    assert_int_equal(fds[0], p[0]);
    assert_true(t >= 0 && t <= 5); /* the source's deadline */
    /* another source cannot take over the descriptor */
    assert_int_equal(xmpp_client_add_source(c, src_action, NULL, NULL, &r, &h2), XMPP_OK);
    assert_int_equal(xmpp_client_source_watch(c, h2, p[0], XMPP_IO_OUT), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_remove_source(c, h2), XMPP_OK);
    assert_int_equal(xmpp_client_remove_source(c, h2), XMPP_ERR_NOT_FOUND);
    /* its descriptor's readiness reaches the source */
    assert_int_equal(write(p[1], "x", 1), 1);
    (void)xmpp_client_socket_action(c, p[0], XMPP_IO_IN);
    assert_int_equal(r.actions, 1);
    assert_int_equal(r.fd, p[0]);
    (void)xmpp_client_socket_action(c, -1, 0); /* timer: every source looks */
    assert_int_equal(r.actions, 2);
    assert_int_equal(r.fd, -1);
    /* removed: its descriptor is unwatched, then added back for the end */
    assert_int_equal(xmpp_client_remove_source(c, h), XMPP_OK);
    assert_int_equal(ss.fd, p[0]);
    assert_int_equal(ss.events, XMPP_IO_NONE);
    assert_int_equal(xmpp_client_get_pollfds(c, fds, 8, &t), 0);
    assert_int_equal(xmpp_client_add_source(c, src_action, src_timeout, src_detach, &r, &h),
                     XMPP_OK);
    /* freeing the client detaches the source once */
    xmpp_client_free(c);
    assert_int_equal(r.detached, 1);
    close(p[0]);
    close(p[1]);
    xmpp_ctx_free(ctx);
}

static void test_transfer_args(void **state) {
    xmpp_ctx *ctx;
    xmpp_client *c;
    xmpp_upload *up = NULL;
    struct slot_seen r;
    struct fix *f;
    int rc;
    (void)state;
    f = slot_exchange(&r, XMPP_UPLOAD_ALLOW_HTTP, SVC, "result",
                      "<slot xmlns='urn:xmpp:http:upload:0'><put url='http://127.0.0.1:1/p'/>"
                      "<get url='http://127.0.0.1:1/g'/></slot>");
    assert_non_null(r.slot);
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    c = client_new(ctx);
    rc = xmpp_upload_new(&up, c, r.slot);
    if (rc == XMPP_ERR_UNSUPPORTED) { /* built without libcurl */
        assert_null(up);
    } else {
        assert_int_equal(rc, XMPP_OK);
        /* http refused unless allowed on the transfer too; the size must match */
        static char data[1234];
        assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_ERR_INVALID);
        assert_int_equal(xmpp_upload_allow_http(up, 1), XMPP_OK);
        assert_int_equal(xmpp_upload_start_data(up, "abc", 3, NULL), XMPP_ERR_INVALID);
        assert_int_equal(xmpp_upload_start_file(up, "/nonexistent/file", NULL), XMPP_ERR_NOT_FOUND);
        xmpp_upload_free(up);
    }
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
    xmpp_upload_slot_free(r.slot);
    fix_free(f);
}

/* ---- XEP-0357 push */
struct push_seen {
    int calls;
    xmpp_iq_status status;
    int has_error;
};

static void on_push(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *error, void *ud) {
    struct push_seen *r = ud;
    (void)s;
    r->calls++;
    r->status = status;
    r->has_error = error != NULL;
}

/* The id of the last iq of type set in the output. */
static void last_set_id(const struct fix *f, char *id, size_t cap) {
    const char *p = NULL, *q, *e;
    for (q = strstr(f->out, "<iq"); q; q = strstr(q + 1, "<iq"))
        p = q;
    assert_non_null(p);
    e = strchr(p, '>');
    q = strstr(p, " id=\"");
    assert_true(q != NULL && q < e);
    q += 5;
    snprintf(id, cap, "%.*s", (int)(strchr(q, '"') - q), q);
}

static void test_push(void **state) {
    struct fix *f = login("alice@example.com", "alice@example.com/r");
    struct push_seen r;
    static const char *const vars[] = {"secret", "endpoint"};
    static const char *const vals[] = {"eruio234vzxc2kla-91", "https://push.example/x?a=1&b=2"};
    static const char *const bad_vars[] = {"FORM_TYPE"};
    char id[64], buf[512];
    (void)state;
    memset(&r, 0, sizeof(r));
    take(f);
    assert_int_equal(xmpp_push_enable(f->s, "push-5.client.example", "yxs32uqsflafdk3iuqo", vars,
                                      vals, 2, 0, on_push, &r),
                     XMPP_OK);
    pump(f);
    /* XEP-0357 §5: to the own account, the form of type submit */
    assert_non_null(strstr(f->out, "type=\"set\""));
    assert_null(strstr(f->out, " to=\""));
    assert_non_null(strstr(
        f->out, "<enable xmlns=\"urn:xmpp:push:0\" jid=\"push-5.client.example\" "
                "node=\"yxs32uqsflafdk3iuqo\"><x xmlns=\"jabber:x:data\" type=\"submit\">"
                "<field var=\"FORM_TYPE\"><value>http://jabber.org/protocol/pubsub#publish-options"
                "</value></field><field var=\"secret\"><value>eruio234vzxc2kla-91</value></field>"
                "<field var=\"endpoint\"><value>https://push.example/x?a=1&amp;b=2</value></field>"
                "</x></enable>"));
    last_set_id(f, id, sizeof(id));
    /* an answer from another entity is not accepted (ORG-05) */
    reply(f, "push-5.client.example", id, "result", "");
    reply(f, "mallory@evil.example/x", id, "result", "");
    assert_int_equal(r.calls, 0);
    reply(f, "alice@example.com", id, "result", "");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, XMPP_IQ_RESULT);
    /* without a form; then disable one node, then every node */
    take(f);
    assert_int_equal(xmpp_push_enable(f->s, "push.example", "n1", NULL, NULL, 0, 0, on_push, &r),
                     XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<enable xmlns=\"urn:xmpp:push:0\" jid=\"push.example\" "
                                   "node=\"n1\"/>"));
    last_set_id(f, id, sizeof(id));
    snprintf(buf, sizeof(buf),
             "<iq type='error' id='%s'><error type='cancel'>"
             "<not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
             id);
    server(f, buf); /* no from: the account itself */
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.status, XMPP_IQ_ERROR);
    assert_int_equal(r.has_error, 1);
    take(f);
    assert_int_equal(xmpp_push_disable(f->s, "push.example", "n1", 0, on_push, &r), XMPP_OK);
    assert_int_equal(xmpp_push_disable(f->s, "push.example", NULL, 0, on_push, &r), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<disable xmlns=\"urn:xmpp:push:0\" jid=\"push.example\" "
                                   "node=\"n1\"/>"));
    assert_non_null(strstr(f->out, "<disable xmlns=\"urn:xmpp:push:0\" jid=\"push.example\"/>"));
    /* arguments */
    assert_int_equal(xmpp_push_enable(f->s, "", "n", NULL, NULL, 0, 0, NULL, NULL),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_push_enable(f->s, "p", NULL, NULL, NULL, 0, 0, NULL, NULL),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_push_enable(f->s, "p", "n", bad_vars, vals, 1, 0, NULL, NULL),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_push_enable(f->s, "p", "n", vars, vals, 33, 0, NULL, NULL),
                     XMPP_ERR_LIMIT);
    assert_int_equal(xmpp_push_disable(f->s, "p", "", 0, NULL, NULL), XMPP_ERR_INVALID);
    /* the two disables pending: cancelled once each at the end */
    fix_free(f);
    assert_int_equal(r.calls, 4);
    assert_int_equal(r.status, XMPP_IQ_CANCELLED);
}

/* ---- the PUT through libcurl on the client's loop, against a one-shot
 * HTTP server on 127.0.0.1 (a thread) */
struct httpd {
    int lfd;
    unsigned port;
    const char *certdir; /* HTTPS with certdir/server.pem, else plain HTTP */
    int handshake_ok;
    const char *response; /* NULL: read the request, then wait for the close */
    char req[262144];
    size_t req_len;
    pthread_t th;
};

/* The server's writes never raise SIGPIPE when the client has gone (a
 * SIGPIPE from the library would still end the test). */
static ssize_t push_nosig(gnutls_transport_ptr_t p, const void *buf, size_t len) {
    return send((int)(intptr_t)p, buf, len, MSG_NOSIGNAL);
}

static void *httpd_main(void *arg) {
    struct httpd *h = arg;
    int fd = accept(h->lfd, NULL, NULL);
    size_t want = (size_t)-1;
    gnutls_session_t tls = NULL;
    gnutls_certificate_credentials_t cred = NULL;
    if (fd < 0)
        return NULL;
    if (h->certdir) {
        char crt[512], key[512];
        int rc;
        snprintf(crt, sizeof(crt), "%s/server.pem", h->certdir);
        snprintf(key, sizeof(key), "%s/server-key.pem", h->certdir);
        if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
            gnutls_certificate_set_x509_key_file(cred, crt, key, GNUTLS_X509_FMT_PEM) < 0 ||
            gnutls_init(&tls, GNUTLS_SERVER) < 0 || gnutls_set_default_priority(tls) < 0 ||
            gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, cred) < 0)
            goto out;
        gnutls_transport_set_int(tls, fd);
        gnutls_transport_set_push_function(tls, push_nosig);
        do
            rc = gnutls_handshake(tls);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
        if (rc < 0)
            goto out; /* the client refused the certificate */
        h->handshake_ok = 1;
    }
    for (;;) {
        ssize_t r;
        char *end = NULL;
        if (h->req_len == sizeof(h->req) - 1)
            break;
        if (tls)
            r = gnutls_record_recv(tls, h->req + h->req_len, sizeof(h->req) - 1 - h->req_len);
        else
            r = read(fd, h->req + h->req_len, sizeof(h->req) - 1 - h->req_len);
        if (r <= 0)
            break;
        h->req_len += (size_t)r;
        h->req[h->req_len] = '\0';
        if (want == (size_t)-1 && (end = strstr(h->req, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(h->req, "Content-Length: ");
            want = (size_t)(end + 4 - h->req) + (cl ? (size_t)atol(cl + 16) : 0);
        }
        if (want != (size_t)-1 && h->req_len >= want && h->response)
            break;
    }
    if (h->response && tls)
        (void)gnutls_record_send(tls, h->response, strlen(h->response));
    else if (h->response)
        (void)send(fd, h->response, strlen(h->response), MSG_NOSIGNAL);
    if (tls)
        (void)gnutls_bye(tls, GNUTLS_SHUT_WR);
out:
    if (tls)
        gnutls_deinit(tls);
    if (cred)
        gnutls_certificate_free_credentials(cred);
    close(fd);
    return NULL;
}

static void httpd_start_tls(struct httpd *h, const char *response, const char *certdir) {
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    memset(h, 0, sizeof(*h));
    h->response = response;
    h->certdir = certdir;
    h->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(h->lfd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(h->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(h->lfd, 4), 0);
    assert_int_equal(getsockname(h->lfd, (struct sockaddr *)&a, &l), 0);
    h->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&h->th, NULL, httpd_main, h), 0);
}

static void httpd_start(struct httpd *h, const char *response) {
    httpd_start_tls(h, response, NULL);
}

/* Lets a server thread that nobody will talk to end. */
static void httpd_poke(struct httpd *h) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)h->port);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    close(s);
}

static void httpd_stop(struct httpd *h) {
    pthread_join(h->th, NULL);
    close(h->lfd);
}

struct xfer_seen {
    int done, err, progress;
    long status;
    uint64_t last_sent;
    int cancel_in_progress;
};

static void on_xfer_progress(xmpp_upload *up, uint64_t sent, uint64_t total, void *ud) {
    struct xfer_seen *r = ud;
    r->progress++;
    assert_true(sent <= total);
    assert_true(sent >= r->last_sent);
    r->last_sent = sent;
    if (r->cancel_in_progress)
        assert_int_equal(xmpp_upload_cancel(up), XMPP_OK);
}

static void on_xfer_done(xmpp_upload *up, int err, long status, void *ud) {
    struct xfer_seen *r = ud;
    (void)up;
    r->done++;
    r->err = err;
    r->status = status;
}

/* A slot for BASE:PORT/put/f.txt with an allowed and a foreign header. */
static xmpp_upload_slot *slot_at(struct fix **fp, const char *base, unsigned port, uint64_t size) {
    struct slot_seen r;
    char payload[1024];
    snprintf(payload, sizeof(payload),
             "<slot xmlns='urn:xmpp:http:upload:0'><put url='%s:%u/put/f.txt'>"
             "<header name='Authorization'>Bearer t0ken</header>"
             "<header name='X-Evil'>injected</header></put>"
             "<get url='%s:%u/get/f.txt'/></slot>",
             base, port, base, port);
    memset(&r, 0, sizeof(r));
    {
        struct fix *f = login("alice@example.com", "alice@example.com/r");
        char id[64];
        take(f);
        assert_int_equal(xmpp_upload_request_slot(f->s, SVC, "f.txt", size, "text/plain",
                                                  XMPP_UPLOAD_ALLOW_HTTP, 0, on_slot, &r),
                         XMPP_OK);
        pump(f);
        id_for(f, SVC, id, sizeof(id));
        reply(f, SVC, id, "result", payload);
        *fp = f;
    }
    assert_int_equal(r.err, XMPP_OK);
    assert_non_null(r.slot);
    return r.slot;
}

static xmpp_upload_slot *local_slot(struct fix **fp, unsigned port, uint64_t size) {
    return slot_at(fp, "http://127.0.0.1", port, size);
}

/* Drives the client's loop until the transfer completed (at most 10 s). */
static void run_until(xmpp_client *c, const struct xfer_seen *r) {
    int i;
    for (i = 0; i < 1000 && r->done == 0; i++)
        (void)xmpp_client_run_once(c, 10);
}

static void test_transfer_put(void **state) {
    static char data[200000];
    static struct httpd h;
    struct xfer_seen r;
    struct fix *f;
    xmpp_ctx *ctx;
    xmpp_client *c;
    xmpp_upload *up;
    xmpp_upload_slot *slot;
    const char *body;
    size_t i;
    int rc;
    (void)state;
    for (i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    httpd_start(&h, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    slot = local_slot(&f, h.port, sizeof(data));
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    c = client_new(ctx);
    rc = xmpp_upload_new(&up, c, slot);
    if (rc == XMPP_ERR_UNSUPPORTED) {
        /* built without libcurl: let the server thread go */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((unsigned short)h.port);
        assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
        close(s);
    } else {
        memset(&r, 0, sizeof(r));
        assert_int_equal(rc, XMPP_OK);
        assert_int_equal(xmpp_upload_allow_http(up, 1), XMPP_OK);
        assert_int_equal(xmpp_upload_set_callbacks(up, on_xfer_progress, on_xfer_done, &r),
                         XMPP_OK);
        assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_OK);
        assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_ERR_STATE);
        run_until(c, &r);
        assert_int_equal(r.done, 1);
        assert_int_equal(r.err, XMPP_OK);
        assert_int_equal(r.status, 201);
        assert_true(r.progress >= 1);
        assert_int_equal(r.last_sent, sizeof(data));
        xmpp_upload_free(up);
        assert_int_equal(r.done, 1);
    }
    httpd_stop(&h);
    if (rc != XMPP_ERR_UNSUPPORTED) {
        /* the request: a PUT of exactly the bytes, the slot's type and
         * allowed header, not the others */
        assert_non_null(strstr(h.req, "PUT /put/f.txt HTTP/1.1\r\n"));
        assert_non_null(strstr(h.req, "\r\nContent-Length: 200000\r\n"));
        assert_non_null(strstr(h.req, "\r\nContent-Type: text/plain\r\n"));
        assert_non_null(strstr(h.req, "\r\nAuthorization: Bearer t0ken\r\n"));
        assert_null(strstr(h.req, "X-Evil"));
        assert_null(strstr(h.req, "Expect:"));
        body = strstr(h.req, "\r\n\r\n") + 4;
        assert_int_equal(h.req_len - (size_t)(body - h.req), sizeof(data));
        assert_memory_equal(body, data, sizeof(data));
    }
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
    xmpp_upload_slot_free(slot);
    fix_free(f);
}

static void test_transfer_failures(void **state) {
    static char data[100];
    static struct httpd h;
    struct xfer_seen r;
    struct fix *f;
    xmpp_ctx *ctx;
    xmpp_client *c;
    xmpp_upload *up;
    xmpp_upload_slot *slot;
    unsigned port;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    c = client_new(ctx);
    /* an HTTP error status: XMPP_ERR_HTTP with the status */
    httpd_start(&h, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    slot = local_slot(&f, h.port, sizeof(data));
    if (xmpp_upload_new(&up, c, slot) == XMPP_ERR_UNSUPPORTED) {
        xmpp_upload_slot_free(slot);
        fix_free(f);
        xmpp_client_free(c);
        xmpp_ctx_free(ctx);
        h.response = "x";
        {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a;
            memset(&a, 0, sizeof(a));
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons((unsigned short)h.port);
            assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
            close(s);
        }
        httpd_stop(&h);
        skip();
    }
    memset(&r, 0, sizeof(r));
    xmpp_upload_allow_http(up, 1);
    xmpp_upload_set_callbacks(up, NULL, on_xfer_done, &r);
    assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), "text/x-test"), XMPP_OK);
    run_until(c, &r);
    httpd_stop(&h);
    assert_non_null(strstr(h.req, "\r\nContent-Type: text/x-test\r\n"));
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, XMPP_ERR_HTTP);
    assert_int_equal(r.status, 403);
    assert_non_null(xmpp_upload_error(up));
    xmpp_upload_free(up);
    port = h.port;
    /* nobody listens any more: a network failure, status 0 */
    up = NULL;
    assert_int_equal(xmpp_upload_new(&up, c, slot), XMPP_OK);
    memset(&r, 0, sizeof(r));
    xmpp_upload_allow_http(up, 1);
    xmpp_upload_set_callbacks(up, NULL, on_xfer_done, &r);
    assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_OK);
    run_until(c, &r);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, XMPP_ERR_HTTP);
    assert_int_equal(r.status, 0);
    xmpp_upload_free(up);
    xmpp_upload_slot_free(slot); /* the slot lives in the session's context */
    fix_free(f);
    (void)port;
    /* cancelled from the progress callback: one completion, CANCELLED;
     * the server sees the connection close */
    httpd_start(&h, NULL);
    slot = local_slot(&f, h.port, sizeof(data));
    assert_int_equal(xmpp_upload_new(&up, c, slot), XMPP_OK);
    memset(&r, 0, sizeof(r));
    r.cancel_in_progress = 1;
    xmpp_upload_allow_http(up, 1);
    xmpp_upload_set_callbacks(up, on_xfer_progress, on_xfer_done, &r);
    assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_OK);
    run_until(c, &r);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, XMPP_ERR_CANCELLED);
    assert_int_equal(xmpp_upload_cancel(up), XMPP_OK); /* not running: nothing */
    assert_int_equal(r.done, 1);
    xmpp_upload_free(up);
    httpd_stop(&h);
    /* the client freed under a running transfer: one completion, CANCELLED */
    httpd_start(&h, NULL);
    xmpp_upload_slot_free(slot);
    fix_free(f);
    slot = local_slot(&f, h.port, sizeof(data));
    assert_int_equal(xmpp_upload_new(&up, c, slot), XMPP_OK);
    memset(&r, 0, sizeof(r));
    xmpp_upload_allow_http(up, 1);
    xmpp_upload_set_callbacks(up, NULL, on_xfer_done, &r);
    assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_OK);
    (void)xmpp_client_run_once(c, 50);
    xmpp_client_free(c);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, XMPP_ERR_CANCELLED);
    xmpp_upload_free(up);
    assert_int_equal(r.done, 1);
    httpd_stop(&h);
    xmpp_upload_slot_free(slot);
    fix_free(f);
    xmpp_ctx_free(ctx);
}

/* HTTPS: the server's certificate is verified against the CA file given
 * (a test PKI for "localhost" from tests/certs/gen-certs.sh), and refused
 * with the system store or under another name. */
static void test_transfer_https(void **state) {
    static struct httpd h;
    static char data[5000];
    char certdir[] = "/tmp/libxmpp-upload-XXXXXX", cmd[1024], ca[600];
    const char *top = getenv("top_srcdir");
    struct xfer_seen r;
    struct fix *f;
    xmpp_ctx *ctx;
    xmpp_client *c;
    xmpp_upload *up;
    xmpp_upload_slot *slot;
    int i, rc;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    c = client_new(ctx);
    httpd_start(&h, "x"); /* only to probe for libcurl */
    slot = local_slot(&f, h.port, 1);
    rc = xmpp_upload_new(&up, c, slot);
    xmpp_upload_free(up);
    xmpp_upload_slot_free(slot);
    fix_free(f);
    httpd_poke(&h);
    httpd_stop(&h);
    if (rc == XMPP_ERR_UNSUPPORTED) {
        xmpp_client_free(c);
        xmpp_ctx_free(ctx);
        skip();
    }
    assert_non_null(mkdtemp(certdir));
    snprintf(cmd, sizeof(cmd), "sh '%s/tests/certs/gen-certs.sh' '%s' localhost >/dev/null 2>&1",
             top ? top : ".", certdir);
    assert_int_equal(system(cmd), 0);
    snprintf(ca, sizeof(ca), "%s/ca.pem", certdir);
    memset(data, 'z', sizeof(data));
    for (i = 0; i < 3; i++) {
        /* 0: the test CA, the right name; 1: the system store; 2: the test
         * CA but the URL names 127.0.0.1, which the certificate does not */
        httpd_start_tls(&h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", certdir);
        slot =
            slot_at(&f, i == 2 ? "https://127.0.0.1" : "https://localhost", h.port, sizeof(data));
        assert_int_equal(xmpp_upload_new(&up, c, slot), XMPP_OK);
        memset(&r, 0, sizeof(r));
        if (i != 1)
            assert_int_equal(xmpp_upload_set_cafile(up, ca), XMPP_OK);
        xmpp_upload_set_callbacks(up, NULL, on_xfer_done, &r);
        assert_int_equal(xmpp_upload_start_data(up, data, sizeof(data), NULL), XMPP_OK);
        assert_int_equal(xmpp_upload_set_cafile(up, ca), XMPP_ERR_STATE);
        run_until(c, &r);
        assert_int_equal(r.done, 1);
        if (i == 0) {
            assert_int_equal(r.err, XMPP_OK);
            assert_int_equal(r.status, 200);
        } else {
            assert_int_equal(r.err, XMPP_ERR_HTTP);
            assert_int_equal(r.status, 0);
            assert_non_null(xmpp_upload_error(up));
        }
        xmpp_upload_free(up);
        httpd_stop(&h);
        /* an unverified server gets not a byte of the request (nor the
         * Authorization header); curl may check after the handshake */
        assert_int_equal(h.req_len == 0, i != 0);
        if (i == 0) {
            assert_int_equal(h.handshake_ok, 1);
            assert_non_null(strstr(h.req, "PUT /put/f.txt HTTP/1.1\r\n"));
            assert_non_null(strstr(h.req, "\r\nAuthorization: Bearer t0ken\r\n"));
        }
        xmpp_upload_slot_free(slot);
        fix_free(f);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
    assert_int_equal(system(cmd), 0);
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_ok),           cmocka_unit_test(test_slot_hostile),
        cmocka_unit_test(test_slot_http_allowed), cmocka_unit_test(test_slot_sender_and_errors),
        cmocka_unit_test(test_discover),          cmocka_unit_test(test_discover_none),
        cmocka_unit_test(test_discover_bounded),  cmocka_unit_test(test_oob),
        cmocka_unit_test(test_oob_received),      cmocka_unit_test(test_sources),
        cmocka_unit_test(test_transfer_args),     cmocka_unit_test(test_push),
        cmocka_unit_test(test_transfer_put),      cmocka_unit_test(test_transfer_failures),
        cmocka_unit_test(test_transfer_https),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
