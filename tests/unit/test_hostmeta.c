/* XEP-0156 host-meta parsing (lib/transport/hostmeta.c): the XRD and JSON
 * examples of the XEP, secure schemes only, link bounds, strict XML and
 * JSON (DTDs, bad escapes, lone surrogates, depth, trailing bytes),
 * allocation-failure torture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "transport/hostmeta.h"
#include "testhelp.h"

static xmpp_ctx *G;

#define XRD_HEAD "<?xml version='1.0' encoding='utf-8'?>" \
                 "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>"

static const char *XRD_EXAMPLE =
    XRD_HEAD
    "<Link rel='urn:xmpp:alt-connections:xbosh' href='https://web.example.com:5280/bosh'/>"
    "<Link rel='lrdd' href='https://example.com/lrdd?uri={uri}'/>"
    "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://web.example.com:443/ws'/>"
    "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://alt.example.com/xmpp'/>"
    "</XRD>";

static const char *JSON_EXAMPLE =
    "{\n  \"subject\": \"example.com\",\n  \"properties\": {\"a\": [1, 2.5e3, -0, true, null]},\n"
    "  \"links\": [\n"
    "    {\"rel\": \"urn:xmpp:alt-connections:xbosh\", \"href\": \"https:\\/\\/web.example.com:5280\\/bosh\"},\n"
    "    {\"rel\": \"urn:xmpp:alt-connections:websocket\", \"href\": \"wss://web.example.com:443/ws\","
    "     \"titles\": {\"en\": \"caf\\u00e9 \\ud83d\\ude00\"}},\n"
    "    \"not an object\",\n"
    "    {\"rel\": \"urn:xmpp:alt-connections:websocket\", \"href\": 42}\n"
    "  ]\n}\n";

static void test_xrd(void **state) {
    xmpp__hostmeta hm;
    (void)state;
    assert_int_equal(xmpp__hostmeta_parse_xrd(G, XRD_EXAMPLE, strlen(XRD_EXAMPLE), 0, &hm), XMPP_OK);
    assert_int_equal(hm.n_bosh, 1);
    assert_string_equal(hm.bosh[0], "https://web.example.com:5280/bosh");
    assert_int_equal(hm.n_websocket, 2);
    assert_string_equal(hm.websocket[0], "wss://web.example.com:443/ws");
    assert_string_equal(hm.websocket[1], "wss://alt.example.com/xmpp");
    assert_int_equal(hm.skipped, 0);
    xmpp__hostmeta_clear(G, &hm);
}

static void test_json(void **state) {
    xmpp__hostmeta hm;
    (void)state;
    assert_int_equal(xmpp__hostmeta_parse_json(G, JSON_EXAMPLE, strlen(JSON_EXAMPLE), 0, &hm),
                     XMPP_OK);
    assert_int_equal(hm.n_bosh, 1);
    assert_string_equal(hm.bosh[0], "https://web.example.com:5280/bosh");
    assert_int_equal(hm.n_websocket, 1);
    assert_string_equal(hm.websocket[0], "wss://web.example.com:443/ws");
    xmpp__hostmeta_clear(G, &hm);
    assert_int_equal(xmpp__hostmeta_parse_json(G, "{}", 2, 0, &hm), XMPP_OK);
    assert_int_equal(hm.n_bosh + hm.n_websocket, 0);
    xmpp__hostmeta_clear(G, &hm);
}

static void test_insecure_and_bounds(void **state) {
    xmpp__hostmeta hm;
    char doc[8192];
    size_t n;
    int i;
    const char *plain =
        XRD_HEAD "<Link rel='urn:xmpp:alt-connections:xbosh' href='http://127.0.0.1:5280/bosh'/>"
                 "<Link rel='urn:xmpp:alt-connections:websocket' href='ws://127.0.0.1/ws'/>"
                 "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://'/>"
                 "<Link rel='urn:xmpp:alt-connections:websocket' href='wss:///x'/>"
                 "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://a b/'/>"
                 "<Link rel='urn:xmpp:alt-connections:websocket' href='javascript:x'/></XRD>";
    (void)state;
    /* XEP-0156 §3: only secure endpoints, unless plaintext is allowed */
    assert_int_equal(xmpp__hostmeta_parse_xrd(G, plain, strlen(plain), 0, &hm), XMPP_OK);
    assert_int_equal(hm.n_bosh + hm.n_websocket, 0);
    assert_int_equal(hm.skipped, 6);
    xmpp__hostmeta_clear(G, &hm);
    assert_int_equal(xmpp__hostmeta_parse_xrd(G, plain, strlen(plain), 1, &hm), XMPP_OK);
    assert_int_equal(hm.n_bosh, 1);
    assert_int_equal(hm.n_websocket, 1);
    assert_int_equal(hm.skipped, 4);
    xmpp__hostmeta_clear(G, &hm);
    /* at most XMPP_HOSTMETA_MAX_LINKS of each */
    n = (size_t)snprintf(doc, sizeof(doc), "%s", XRD_HEAD);
    for (i = 0; i < 10; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://h%d/'/>", i);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</XRD>");
    assert_int_equal(xmpp__hostmeta_parse_xrd(G, doc, n, 0, &hm), XMPP_OK);
    assert_int_equal(hm.n_websocket, XMPP_HOSTMETA_MAX_LINKS);
    assert_int_equal(hm.skipped, 10 - XMPP_HOSTMETA_MAX_LINKS);
    xmpp__hostmeta_clear(G, &hm);
}

static void bad_xrd(const char *doc) {
    xmpp__hostmeta hm;
    assert_int_equal(xmpp__hostmeta_parse_xrd(G, doc, strlen(doc), 0, &hm), XMPP_ERR_INVALID);
    xmpp__hostmeta_clear(G, &hm);
}

static void bad_json(const char *doc) {
    xmpp__hostmeta hm;
    assert_int_equal(xmpp__hostmeta_parse_json(G, doc, strlen(doc), 0, &hm), XMPP_ERR_INVALID);
    xmpp__hostmeta_clear(G, &hm);
}

static void test_malformed(void **state) {
    char deep[200];
    size_t i;
    (void)state;
    bad_xrd("");
    bad_xrd("<XRD xmlns='urn:wrong'/>");
    bad_xrd("<html><body>not found</body></html>");
    bad_xrd(XRD_HEAD "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://a/'/>");
    bad_xrd("<!DOCTYPE XRD [<!ENTITY e 'wss://evil/'>]>" XRD_HEAD "</XRD>");
    bad_xrd(XRD_HEAD "<Link href='&e;'/></XRD>");
    bad_json("");
    bad_json("[]");
    bad_json("{\"links\": [}");
    bad_json("{\"links\": [],}");
    bad_json("{\"a\": 01}");
    bad_json("{\"a\": 1.}");
    bad_json("{\"a\": \"\\ud800\"}");            /* a lone high surrogate */
    bad_json("{\"a\": \"\\udc00\"}");            /* a lone low surrogate */
    bad_json("{\"a\": \"\\u0000\"}");            /* NUL */
    bad_json("{\"a\": \"\\x\"}");
    bad_json("{\"a\": \"tab\there\"}");         /* raw control character */
    bad_json("{\"a\": \"\xff\"}");               /* not UTF-8 */
    bad_json("{\"a\": tru}");
    bad_json("{} {}");
    bad_json("{\"a\" 1}");
    bad_json("\xef\xbb\xbf{}");                  /* a BOM */
    for (i = 0; i < 80; i++)
        deep[i] = '[';
    deep[80] = '\0';
    {
        char doc[300];
        snprintf(doc, sizeof(doc), "{\"a\": %s}", deep);
        bad_json(doc);                           /* too deep (and unterminated) */
    }
}

static int scenario(xmpp_ctx *ctx, void *arg) {
    xmpp__hostmeta hm;
    int rc;
    (void)arg;
    rc = xmpp__hostmeta_parse_xrd(ctx, XRD_EXAMPLE, strlen(XRD_EXAMPLE), 0, &hm);
    xmpp__hostmeta_clear(ctx, &hm);
    if (rc != XMPP_OK)
        return rc;
    rc = xmpp__hostmeta_parse_json(ctx, JSON_EXAMPLE, strlen(JSON_EXAMPLE), 0, &hm);
    xmpp__hostmeta_clear(ctx, &hm);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(scenario, NULL) > 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xrd),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_insecure_and_bounds),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_torture),
    };
    int rc;
    if (xmpp_ctx_new(&G, NULL) != XMPP_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmpp_ctx_free(G);
    return rc;
}
