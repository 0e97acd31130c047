/* Serialisation: escaping, namespaces, and the serialise → parse →
 * serialise round trip being byte-identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/xmpp.h>

#include "xml/parser.h"

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

static const char HEAD[] = "<stream:stream xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

struct got {
    xmpp_stanza *st;
    int n;
};

static void on_stanza(xmpp_stanza *st, void *ud) {
    struct got *g = ud;
    g->n++;
    xmpp_stanza_unref(g->st);
    g->st = xmpp_stanza_ref(st);
}

/* Parses one serialised stanza inside a jabber:client stream. */
static xmpp_stanza *parse_one(const char *xml, size_t len) {
    xmpp_xml_parser *p;
    xmpp_xml_callbacks cb = {NULL, on_stanza, NULL};
    struct got g = {NULL, 0};
    assert_int_equal(xmpp_xml_parser_new(&p, ctx, &cb, &g), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, HEAD, sizeof(HEAD) - 1), XMPP_OK);
    assert_int_equal(xmpp_xml_parser_feed(p, xml, len), XMPP_OK);
    xmpp_xml_parser_free(p);
    assert_int_equal(g.n, 1);
    return g.st;
}

static void roundtrip(const xmpp_stanza *st) {
    char *a, *b;
    size_t al, bl;
    xmpp_stanza *back;
    assert_int_equal(xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &a, &al), XMPP_OK);
    back = parse_one(a, al);
    assert_int_equal(xmpp_stanza_serialize(back, XMPP_NS_CLIENT, &b, &bl), XMPP_OK);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    xmpp_free(ctx, a);
    xmpp_free(ctx, b);
    xmpp_stanza_unref(back);
}

static void test_escaping(void **state) {
    xmpp_stanza *m, *body;
    char *s;
    (void)state;
    assert_int_equal(xmpp_message_new(&m, ctx, NULL, "a\"<&>'b", NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(m, "x", "tab\tnl\ncr\r"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(m, "body", NULL, &body), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_text(body, "<&>]]>\"'\r\n\t", 11), XMPP_OK);
    assert_int_equal(xmpp_stanza_serialize(m, XMPP_NS_CLIENT, &s, NULL), XMPP_OK);
    assert_string_equal(s, "<message to=\"a&quot;&lt;&amp;&gt;'b\" x=\"tab&#9;nl&#10;cr&#13;\">"
                           "<body>&lt;&amp;&gt;]]&gt;\"'&#13;\n\t</body></message>");
    xmpp_free(ctx, s);
    roundtrip(m);
    /* the parsed values are the originals */
    {
        char *a;
        xmpp_stanza *back;
        char *t;
        assert_int_equal(xmpp_stanza_serialize(m, XMPP_NS_CLIENT, &a, NULL), XMPP_OK);
        back = parse_one(a, strlen(a));
        assert_string_equal(xmpp_stanza_to(back), "a\"<&>'b");
        assert_string_equal(xmpp_stanza_attr(back, "x"), "tab\tnl\ncr\r");
        assert_int_equal(xmpp_stanza_text(xmpp_stanza_child(back, "body", NULL), &t, NULL), XMPP_OK);
        assert_string_equal(t, "<&>]]>\"'\r\n\t");
        xmpp_free(ctx, t);
        xmpp_free(ctx, a);
        xmpp_stanza_unref(back);
    }
    xmpp_stanza_unref(m);
}

static void test_namespaces(void **state) {
    xmpp_stanza *iq, *q, *x, *inner;
    char *s;
    (void)state;
    assert_int_equal(xmpp_iq_new(&iq, ctx, "set", NULL, "n1"), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(iq, "query", "jabber:iq:roster", &q), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(q, "item", NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(q, "item", "jabber:iq:roster", NULL), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(q, "x", "urn:x", &x), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(x, "inner", "jabber:iq:roster", &inner), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(inner, "xml:lang", "de"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(inner, "{urn:a}one", "1"), XMPP_OK);
    assert_int_equal(xmpp_stanza_set_attr(inner, "{urn:b}two", "2"), XMPP_OK);
    assert_int_equal(xmpp_stanza_serialize(iq, XMPP_NS_CLIENT, &s, NULL), XMPP_OK);
    assert_string_equal(s, "<iq type=\"set\" id=\"n1\"><query xmlns=\"jabber:iq:roster\">"
                           "<item/><item/><x xmlns=\"urn:x\"><inner xmlns=\"jabber:iq:roster\" "
                           "xml:lang=\"de\" xmlns:ns0=\"urn:a\" ns0:one=\"1\" xmlns:ns1=\"urn:b\" "
                           "ns1:two=\"2\"/></x></query></iq>");
    xmpp_free(ctx, s);
    roundtrip(iq);
    xmpp_stanza_unref(iq);
}

static void test_unicode_and_empty_text(void **state) {
    xmpp_stanza *m, *b;
    (void)state;
    assert_int_equal(xmpp_message_new(&m, ctx, "chat", "r\xc3\xa9@x", "u",
                                      "\xe2\x82\xac \xf0\x9f\x98\x80 \xd7\xa9\xd7\x9c"),
                     XMPP_OK);
    assert_int_equal(xmpp_stanza_add_child_new(m, "empty", NULL, &b), XMPP_OK);
    assert_int_equal(xmpp_stanza_add_text(b, "", 0), XMPP_OK);
    roundtrip(m);
    xmpp_stanza_unref(m);
}

static void test_parsed_stanza_roundtrip(void **state) {
    static const char in[] =
        "<message xmlns='jabber:client' from='a@b/c' to='d@e' type='groupchat' id='x1'>"
        "<body>hi &amp; &lt;there&gt; &#x1F600; <![CDATA[<raw> & ]]></body>"
        "<stanza-id xmlns='urn:xmpp:sid:0' id='s1' by='room@muc'/>"
        "<p:x xmlns:p='http://jabber.org/protocol/muc#user'><p:item affiliation='none' "
        "role='participant'/></p:x>"
        "<delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/></message>";
    xmpp_stanza *st;
    char *s;
    (void)state;
    st = parse_one(in, sizeof(in) - 1);
    assert_int_equal(xmpp_stanza_serialize(st, XMPP_NS_CLIENT, &s, NULL), XMPP_OK);
    assert_string_equal(s,
        "<message from=\"a@b/c\" to=\"d@e\" type=\"groupchat\" id=\"x1\">"
        "<body>hi &amp; &lt;there&gt; \xf0\x9f\x98\x80 &lt;raw&gt; &amp; </body>"
        "<stanza-id xmlns=\"urn:xmpp:sid:0\" id=\"s1\" by=\"room@muc\"/>"
        "<x xmlns=\"http://jabber.org/protocol/muc#user\"><item affiliation=\"none\" "
        "role=\"participant\"/></x>"
        "<delay xmlns=\"urn:xmpp:delay\" stamp=\"2026-01-01T00:00:00Z\"/></message>");
    xmpp_free(ctx, s);
    roundtrip(st);
    xmpp_stanza_unref(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_unicode_and_empty_text),
        cmocka_unit_test(test_parsed_stanza_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
