/* The stanza object model: construction, attributes, children, lookups,
 * refcounting, copies, builders and error replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>

#include "testhelp.h"

static xmpp_ctx *ctx;

static int setup(void **state) {
    (void)state;
    return xmpp_ctx_new(&ctx, NULL);
}
static int teardown(void **state) {
    (void)state;
    xmpp_ctx_free(ctx);
    return 0;
}

static char *ser(const xmpp_stanza *st) {
    char *s = NULL;
    assert_int_equal(xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &s, NULL), XMPP_OK);
    return s;
}

#define assert_xml(st, expect)                                                 \
    do {                                                                       \
        char *s_ = ser(st);                                                    \
        assert_string_equal(s_, expect);                                       \
        xmpp_free(ctx, s_);                                                    \
    } while (0)

static void test_element_basics(void **state) {
    xmpp_stanza *st;
    const char *n, *v;
    (void)state;
    assert_int_equal(xmpp_stanza_new(&st, ctx, "message", XMPP_NS_CLIENT), XMPP_OK);
    assert_false(xmpp_stanza_is_text(st));
    assert_string_equal(xmpp_stanza_name(st), "message");
    assert_string_equal(xmpp_stanza_ns(st), XMPP_NS_CLIENT);
    assert_ptr_equal(xmpp_stanza_ctx(st), ctx);
    assert_int_equal(xmpp_stanza_set_attr(st, "to", "a@b"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(st, "id", "1"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(st, "to", "c@d"), XMPP_OK); /* replace keeps order */
    assert_int_equal(xmpp_stanza_attr_count(st), 2);
    assert_int_equal(xmpp_stanza_attr_at(st, 0, &n, &v), XMPP_OK);
    assert_string_equal(n, "to");
    assert_string_equal(v, "c@d");
    assert_int_equal(xmpp_stanza_attr_at(st, 2, &n, &v), XMPP_ERR_NOT_FOUND);
    assert_string_equal(xmpp_stanza_to(st), "c@d");
    assert_string_equal(xmpp_stanza_id(st), "1");
    assert_null(xmpp_stanza_from(st));
    assert_int_equal(xmpp_stanza_del_attr(st, "to"), XMPP_OK);
    assert_int_equal(xmpp_stanza_del_attr(st, "to"), XMPP_ERR_NOT_FOUND);
    assert_null(xmpp_stanza_to(st));
    assert_int_equal(xmpp_stanza_set_name(st, "presence"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_ns(st, "urn:x"), XMPP_OK);
    assert_xml(st, "<presence xmlns=\"urn:x\" id=\"1\"/>");
    assert_int_equal(xmpp_stanza_set_ns(st, NULL), XMPP_OK);
    assert_null(xmpp_stanza_ns(st));
    xmpp_stanza_unref(st);
}

static void test_invalid_input(void **state) {
    xmpp_stanza *st = NULL, *t = NULL;
    (void)state;
    assert_int_equal(xmpp_stanza_new(&st, ctx, "", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new(&st, ctx, "a:b", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new(&st, ctx, "a b", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new(&st, ctx, NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new(&st, ctx, "x", ""), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new(&st, ctx, "x", XMPP_NS_XML), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new(&st, NULL, "x", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new_text(&t, ctx, "a\x01", 2), XMPP_ERR_UTF8);
    assert_int_equal(xmpp_stanza_new_text(&t, ctx, "\xc0\xaf", 2), XMPP_ERR_UTF8);
    assert_int_equal(xmpp_stanza_new(&st, ctx, "x", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(st, "xmlns", "urn:evil"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_set_attr(st, "a:b", "v"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_set_attr(st, "a", "\xff"), XMPP_ERR_UTF8);
    assert_int_equal(xmpp_stanza_set_attr(st, "a", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_set_attr(st, "{" XMPP_NS_XML "}lang", "en"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_set_attr(st, "{}x", "v"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_stanza_new_text(&t, ctx, "t", 1), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(t, "a", "b"), XMPP_ERR_NOT_TEXT);
    assert_int_equal(xmpp_stanza_add_child(t, st), XMPP_ERR_INVALID);
    assert_null(xmpp_stanza_name(t));
    assert_string_equal(xmpp_stanza_text_ptr(t), "t");
    assert_null(xmpp_stanza_text_ptr(st));
    xmpp_stanza_unref(t);
    xmpp_stanza_unref(st);
}

static void test_children_and_lookup(void **state) {
    xmpp_stanza *iq, *q, *item, *c;
    int i, n;
    (void)state;
    assert_int_equal(xmpp_iq_new(&iq, ctx, "result", NULL, "r1"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(iq, "query", "jabber:iq:roster", &q), XMPP_OK);
    for (i = 0; i < 5; i++) {
        char jid[32];
        snprintf(jid, sizeof(jid), "u%d@example.com", i);
        assert_int_equal(xmpp_stanza_add_child_new(q, "item", NULL, &item), XMPP_OK);
        assert_int_equal(xmpp_stanza_set_attr(item, "jid", jid), XMPP_OK);
    }
    assert_int_equal(xmpp_stanza_add_child_new(q, "group", "urn:other", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_child_count(q), 6);
    assert_ptr_equal(xmpp_stanza_child(iq, "query", "jabber:iq:roster"), q);
    assert_null(xmpp_stanza_child(iq, "query", "jabber:iq:private"));
    assert_ptr_equal(xmpp_stanza_child(iq, NULL, NULL), q);
    /* children without their own ns inherit the parent's */
    item = xmpp_stanza_child(q, "item", "jabber:iq:roster");
    assert_non_null(item);
    assert_string_equal(xmpp_stanza_attr(item, "jid"), "u0@example.com");
    for (n = 0, c = item; c; c = xmpp_stanza_next_match(c, "item", "jabber:iq:roster"))
        n++;
    assert_int_equal(n, 5);
    assert_null(xmpp_stanza_child(q, "group", "jabber:iq:roster"));
    assert_non_null(xmpp_stanza_child(q, "group", "urn:other"));
    /* paths */
    assert_ptr_equal(xmpp_stanza_path(iq, "query"), q);
    assert_ptr_equal(xmpp_stanza_path(iq, "query@jabber:iq:roster/item"), item);
    assert_ptr_equal(xmpp_stanza_path(iq, "{jabber:iq:roster}query/{urn:other}group"),
                     xmpp_stanza_child(q, "group", NULL));
    assert_null(xmpp_stanza_path(iq, "query/nothing"));
    assert_null(xmpp_stanza_path(iq, "query@urn:nope/item"));
    assert_ptr_equal(xmpp_stanza_parent(item), q);
    /* removal */
    assert_int_equal(xmpp_stanza_remove_child(q, item), XMPP_OK);
    assert_int_equal(xmpp_stanza_child_count(q), 5);
    assert_int_equal(xmpp_stanza_remove_child(q, iq), XMPP_ERR_INVALID);
    xmpp_stanza_unref(iq);
}

static void test_path_ns_with_slash(void **state) {
    xmpp_stanza *m, *x, *item;
    (void)state;
    assert_int_equal(xmpp_message_new(&m, ctx, "groupchat", "r@muc", NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(m, "x", "http://jabber.org/protocol/muc#user", &x),
                     XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(x, "item", NULL, &item), XMPP_OK);
    assert_ptr_equal(xmpp_stanza_path(m, "x@http://jabber.org/protocol/muc#user/item"), item);
    assert_ptr_equal(xmpp_stanza_path(m, "x@http://jabber.org/protocol/muc#user"), x);
    xmpp_stanza_unref(m);
}

static void test_refcount_and_cycles(void **state) {
    xmpp_stanza *a, *b;
    (void)state;
    assert_int_equal(xmpp_stanza_new(&a, ctx, "a", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_new(&b, ctx, "b", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child(a, b), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child(a, b), XMPP_ERR_INVALID); /* already has a parent */
    assert_int_equal(xmpp_stanza_add_child(b, a), XMPP_ERR_INVALID); /* a has no parent but is b's ancestor */
    xmpp_stanza_ref(b);
    xmpp_stanza_unref(a); /* frees a; b survives with our references */
    assert_null(xmpp_stanza_parent(b));
    assert_string_equal(xmpp_stanza_name(b), "b");
    xmpp_stanza_unref(b);
    xmpp_stanza_unref(b);
    xmpp_stanza_unref(NULL);
}

static void test_text(void **state) {
    xmpp_stanza *m, *body;
    char *s;
    size_t n;
    (void)state;
    assert_int_equal(xmpp_message_new(&m, ctx, "chat", "a@b", "m1", "hi & <bye>"), XMPP_OK);
    body = xmpp_stanza_child(m, "body", NULL);
    assert_non_null(body);
    assert_int_equal(xmpp_stanza_add_text(body, " more", 5), XMPP_OK);
    assert_int_equal(xmpp_stanza_text(body, &s, &n), XMPP_OK);
    assert_string_equal(s, "hi & <bye> more");
    assert_int_equal(n, 15);
    xmpp_free(ctx, s);
    assert_int_equal(xmpp_stanza_set_text(body, "new", 3), XMPP_OK);
    assert_int_equal(xmpp_stanza_child_count(body), 1);
    assert_xml(m, "<message type=\"chat\" to=\"a@b\" id=\"m1\"><body>new</body></message>");
    xmpp_stanza_unref(m);
}

static void test_deep_tree(void **state) {
    xmpp_stanza *root, *cur, *cp = NULL;
    int i;
    char *s;
    (void)state;
    /* deep enough that recursion would be dangerous with small stacks */
    assert_int_equal(xmpp_stanza_new(&root, ctx, "a", NULL), XMPP_OK);
    cur = root;
    for (i = 0; i < 200000; i++)
        assert_int_equal(xmpp_stanza_add_child_new(cur, "a", NULL, &cur), XMPP_OK);
    assert_int_equal(xmpp_stanza_copy(&cp, root), XMPP_OK);
    assert_int_equal(xmpp_stanza_serialize(cp, NULL, &s, NULL), XMPP_OK);
    assert_int_equal(strncmp(s, "<a><a><a>", 9), 0);
    xmpp_free(ctx, s);
    xmpp_stanza_unref(cp);
    xmpp_stanza_unref(root);
}

static void test_copy(void **state) {
    xmpp_stanza *m, *cp, *x;
    char *a, *b;
    (void)state;
    assert_int_equal(xmpp_message_new(&m, ctx, "chat", "a@b", "m1", "body"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(m, "x", "urn:x", &x), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(x, "xml:lang", "en"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(x, "{urn:attr}k", "v"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_text(x, "t1", 2), XMPP_OK);
    assert_int_equal(xmpp_stanza_copy(&cp, m), XMPP_OK);
    a = ser(m);
    b = ser(cp);
    assert_string_equal(a, b);
    xmpp_free(ctx, a);
    xmpp_free(ctx, b);
    /* independent: changing the copy leaves the original alone */
    assert_int_equal(xmpp_stanza_set_attr(cp, "to", "z@z"), XMPP_OK);
    assert_string_equal(xmpp_stanza_to(m), "a@b");
    /* copy of a subtree has no parent */
    xmpp_stanza_unref(cp);
    assert_int_equal(xmpp_stanza_copy(&cp, x), XMPP_OK);
    assert_null(xmpp_stanza_parent(cp));
    assert_xml(cp, "<x xmlns=\"urn:x\" xml:lang=\"en\" xmlns:ns0=\"urn:attr\" ns0:k=\"v\">t1</x>");
    xmpp_stanza_unref(cp);
    xmpp_stanza_unref(m);
}

static void test_builders(void **state) {
    xmpp_stanza *st = NULL;
    (void)state;
    assert_int_equal(xmpp_presence_new(&st, ctx, NULL, NULL, NULL), XMPP_OK);
    assert_xml(st, "<presence/>");
    xmpp_stanza_unref(st);
    assert_int_equal(xmpp_presence_new(&st, ctx, "subscribe", "a@b", "p1"), XMPP_OK);
    assert_xml(st, "<presence type=\"subscribe\" to=\"a@b\" id=\"p1\"/>");
    xmpp_stanza_unref(st);
    assert_int_equal(xmpp_iq_new(&st, ctx, "get", NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_iq_new(&st, ctx, "bogus", NULL, "1"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_iq_new(&st, ctx, "get", "example.com", "q1"), XMPP_OK);
    assert_xml(st, "<iq type=\"get\" to=\"example.com\" id=\"q1\"/>");
    /* serialised outside a client stream, the namespace is written */
    {
        char *s;
        assert_int_equal(xmpp_stanza_serialize(st, NULL, &s, NULL), XMPP_OK);
        assert_string_equal(s, "<iq xmlns=\"jabber:client\" type=\"get\" to=\"example.com\" id=\"q1\"/>");
        xmpp_free(ctx, s);
    }
    xmpp_stanza_unref(st);
}

static void test_iq_result_and_error(void **state) {
    xmpp_stanza *req, *res, *err, *msg;
    xmpp_stanza_condition cond;
    const char *text;
    (void)state;
    assert_int_equal(xmpp_iq_new(&req, ctx, "get", "me@x/r", "q7"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(req, "from", "peer@y/z"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(req, "query", "urn:q", NULL), XMPP_OK);
    assert_int_equal(xmpp_iq_result_new(&res, req), XMPP_OK);
    assert_xml(res, "<iq type=\"result\" to=\"peer@y/z\" id=\"q7\"/>");
    assert_int_equal(xmpp_iq_result_new(&err, res), XMPP_ERR_INVALID); /* not a request */
    assert_int_equal(xmpp_stanza_error_new(&err, req, XMPP_EC_SERVICE_UNAVAILABLE, NULL), XMPP_OK);
    assert_xml(err, "<iq type=\"error\" to=\"peer@y/z\" id=\"q7\"><error type=\"cancel\">"
                    "<service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"
                    "</error></iq>");
    assert_int_equal(xmpp_stanza_get_error(err, &cond, &text), XMPP_OK);
    assert_int_equal(cond, XMPP_EC_SERVICE_UNAVAILABLE);
    assert_null(text);
    /* never answer an error with an error (RFC 6120 §8.3.1), nor a result */
    {
        xmpp_stanza *e2 = NULL;
        assert_int_equal(xmpp_stanza_error_new(&e2, err, XMPP_EC_BAD_REQUEST, NULL), XMPP_ERR_INVALID);
        assert_int_equal(xmpp_stanza_error_new(&e2, res, XMPP_EC_BAD_REQUEST, NULL), XMPP_ERR_INVALID);
        assert_int_equal(xmpp_stanza_error_new(&e2, req, (xmpp_stanza_condition)0, NULL),
                         XMPP_ERR_INVALID);
        assert_null(e2);
    }
    xmpp_stanza_unref(err);
    xmpp_stanza_unref(res);
    /* a message error with text */
    assert_int_equal(xmpp_message_new(&msg, ctx, "chat", "a@b", "m9", "x"), XMPP_OK);
    assert_int_equal(xmpp_stanza_error_new(&err, msg, XMPP_EC_NOT_AUTHORIZED, "go away"), XMPP_OK);
    assert_string_equal(xmpp_stanza_name(err), "message");
    assert_int_equal(xmpp_stanza_get_error(err, &cond, &text), XMPP_OK);
    assert_int_equal(cond, XMPP_EC_NOT_AUTHORIZED);
    assert_string_equal(text, "go away");
    assert_string_equal(xmpp_stanza_attr(xmpp_stanza_child(err, "error", NULL), "type"), "auth");
    assert_int_equal(xmpp_stanza_get_error(msg, &cond, NULL), XMPP_ERR_NOT_FOUND);
    xmpp_stanza_unref(err);
    xmpp_stanza_unref(msg);
    xmpp_stanza_unref(req);
}

/* ---- allocation-failure torture over the whole object model API */
static int build_scenario(xmpp_ctx *c, void *arg) {
    xmpp_stanza *m = NULL, *x, *cp = NULL, *err = NULL;
    char *s = NULL;
    int rc;
    (void)arg;
    if ((rc = xmpp_message_new(&m, c, "chat", "a@b", "id1", "hello")) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_add_child_new(m, "x", "urn:x", &x)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(x, "a", "1")) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(x, "a", "2")) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(x, "{urn:y}b", "3")) != XMPP_OK ||
        (rc = xmpp_stanza_del_attr(x, "a")) != XMPP_OK ||
        (rc = xmpp_stanza_set_name(x, "y")) != XMPP_OK ||
        (rc = xmpp_stanza_set_ns(x, "urn:z")) != XMPP_OK ||
        (rc = xmpp_stanza_add_text(x, "text", 4)) != XMPP_OK ||
        (rc = xmpp_stanza_set_text(x, "t2", 2)) != XMPP_OK ||
        (rc = xmpp_stanza_text(x, &s, NULL)) != XMPP_OK)
        goto out;
    xmpp_free(c, s);
    s = NULL;
    if ((rc = xmpp_stanza_copy(&cp, m)) != XMPP_OK ||
        (rc = xmpp_stanza_serialize(cp, XMPP_NS_CLIENT, &s, NULL)) != XMPP_OK ||
        (rc = xmpp_stanza_error_new(&err, m, XMPP_EC_BAD_REQUEST, "why")) != XMPP_OK)
        goto out;
    rc = 0;
out:
    xmpp_free(c, s);
    xmpp_stanza_unref(err);
    xmpp_stanza_unref(cp);
    xmpp_stanza_unref(m);
    return rc;
}

static void test_torture(void **state) {
    long n;
    (void)state;
    n = th_torture(build_scenario, NULL);
    assert_true(n > 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_element_basics),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_children_and_lookup),
        cmocka_unit_test(test_path_ns_with_slash),
        cmocka_unit_test(test_refcount_and_cycles),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_deep_tree),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_iq_result_and_error),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
