/* XEP-0156 host-meta parsing (lib/transport/hostmeta.h): XRD and JSON
 * documents as servers publish them, the choice of links (first usable
 * per rel, wss/https unless plaintext is allowed), and hostile documents
 * (DOCTYPE and entities, deep nesting, bad JSON escapes and UTF-8,
 * oversized input) refused without a leak, every allocation failing in
 * turn included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/hostmeta.h"
#include "testhelp.h"

#define XRD_OK                                                                               \
    "<?xml version='1.0' encoding='utf-8'?>\n"                                               \
    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"                              \
    "  <Link rel='urn:xmpp:alt-connections:xbosh' href='https://web.example.com:5280/bosh'/>\n" \
    "  <Link rel='urn:xmpp:alt-connections:websocket' href='ws://web.example.com/ws'/>\n"    \
    "  <Link rel='urn:xmpp:alt-connections:websocket' href='wss://web.example.com:443/ws'/>\n" \
    "  <Link rel='urn:xmpp:alt-connections:websocket' href='wss://second.example.com/ws'/>\n" \
    "</XRD>\n"

#define JSON_OK                                                                              \
    "{\"subject\": \"example.com\", \"properties\": {\"x\": [1, -2.5e3, true, null]},\n"     \
    " \"links\": [\n"                                                                        \
    "  {\"rel\": \"urn:xmpp:alt-connections:xbosh\", \"href\": \"https://web.example.com:5280/bosh\"},\n" \
    "  {\"rel\": \"urn:xmpp:alt-connections:websocket\", \"href\": \"ws://web.example.com/ws\"},\n" \
    "  {\"href\": \"wss:\\/\\/web.example.com\\u003a443/ws\", \"rel\": \"urn:xmpp:alt-connections:websocket\"}\n" \
    " ]}"

static xmpp_ctx *ctx;
static th_alloc alloc;

static int setup(void **state) {
    (void)state;
    ctx = th_ctx_new(&alloc);
    th_alloc_reset(&alloc, -1);
    return ctx ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    assert_int_equal(alloc.live, 0);
    xmpp_ctx_free(ctx);
    return 0;
}

static void test_xrd(void **state) {
    xmpp__hostmeta hm;
    (void)state;
    assert_int_equal(xmpp__hostmeta_parse_xrd(ctx, XRD_OK, strlen(XRD_OK), 0, &hm), XMPP_OK);
    assert_string_equal(hm.websocket, "wss://web.example.com:443/ws"); /* ws:// skipped */
    assert_string_equal(hm.bosh, "https://web.example.com:5280/bosh");
    xmpp__hostmeta_clear(ctx, &hm);
    /* with plaintext allowed the first one (ws://) counts */
    assert_int_equal(xmpp__hostmeta_parse_xrd(ctx, XRD_OK, strlen(XRD_OK), 1, &hm), XMPP_OK);
    assert_string_equal(hm.websocket, "ws://web.example.com/ws");
    xmpp__hostmeta_clear(ctx, &hm);
}

static void test_json(void **state) {
    xmpp__hostmeta hm;
    (void)state;
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, JSON_OK, strlen(JSON_OK), 0, &hm), XMPP_OK);
    assert_string_equal(hm.websocket, "wss://web.example.com:443/ws");
    assert_string_equal(hm.bosh, "https://web.example.com:5280/bosh");
    xmpp__hostmeta_clear(ctx, &hm);
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, JSON_OK, strlen(JSON_OK), 1, &hm), XMPP_OK);
    assert_string_equal(hm.websocket, "ws://web.example.com/ws");
    xmpp__hostmeta_clear(ctx, &hm);
}

static void test_nothing_usable(void **state) {
    static const char *const json[] = {
        "{}", "{\"links\": []}", "{\"links\": {}}", "{\"links\": [1, \"x\", {}]}",
        "{\"links\": [{\"rel\": \"urn:xmpp:alt-connections:websocket\"}]}",
        "{\"links\": [{\"rel\": \"urn:xmpp:alt-connections:websocket\", \"href\": \"http://x/\"}]}",
        "{\"links\": [{\"rel\": \"urn:xmpp:alt-connections:websocket\", \"href\": \"wss://u@x/\"}]}",
        "{\"links\": [{\"rel\": \"urn:xmpp:alt-connections:xbosh\", \"href\": \"http://x/\"}]}",
        "{\"nested\": {\"links\": [{\"rel\": \"urn:xmpp:alt-connections:websocket\", "
        "\"href\": \"wss://x/\"}]}}",
        "{\"links\": [{\"rel\": 5, \"href\": \"wss://x/\"}]}"};
    xmpp__hostmeta hm;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
        assert_int_equal(xmpp__hostmeta_parse_json(ctx, json[i], strlen(json[i]), 0, &hm), XMPP_OK);
        if (hm.websocket != NULL || hm.bosh != NULL)
            fail_msg("found a link in %s", json[i]);
    }
    assert_int_equal(
        xmpp__hostmeta_parse_xrd(ctx, "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>"
                                      "<Link rel='urn:xmpp:alt-connections:websocket'/>"
                                      "<x:Link xmlns:x='other' rel='urn:xmpp:alt-connections:"
                                      "websocket' href='wss://x/'/></XRD>",
                                 strlen("<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>"
                                        "<Link rel='urn:xmpp:alt-connections:websocket'/>"
                                        "<x:Link xmlns:x='other' rel='urn:xmpp:alt-connections:"
                                        "websocket' href='wss://x/'/></XRD>"),
                                 0, &hm),
        XMPP_OK);
    assert_null(hm.websocket);
}

static void test_hostile(void **state) {
    static const char *const xrd[] = {
        "",
        "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>",
        "<XRD><Link rel='urn:xmpp:alt-connections:websocket' href='wss://x/'/></XRD>",
        "<?xml version='1.0'?><!DOCTYPE XRD [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
        "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='&b;'/></XRD>",
        "<!DOCTYPE XRD SYSTEM 'http://evil.example/x.dtd'><XRD "
        "xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>",
        "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link href='&x;'/></XRD>",
        "{\"links\": []}"};
    static const char *const json[] = {
        "", "[]", "{", "{\"links\": [}", "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": -}",
        "{\"a\": tru}", "{\"a\": \"\\x\"}", "{\"a\": \"\\ud800\"}", "{\"a\": \"\\udc00\"}",
        "{\"a\": \"\\ud800\\u0041\"}", "{\"a\": \"\\u12g4\"}", "{\"a\": \"\x01\"}",
        "{\"a\": \"\xc3\x28\"}", "{\"a\": \"\xed\xa0\x80\"}", "{\"a\": \"\xc0\xaf\"}",
        "{\"a\": 1} x", "{\"a\" 1}", "{\"a\": 1,}", "{'a': 1}", "\xef\xbb\xbf{}",
        "{\"a\": [1,]}", "{\"a\": \"unterminated}"};
    xmpp__hostmeta hm;
    size_t i;
    char *big;
    (void)state;
    for (i = 0; i < sizeof(xrd) / sizeof(xrd[0]); i++)
        if (xmpp__hostmeta_parse_xrd(ctx, xrd[i], strlen(xrd[i]), 1, &hm) != XMPP_ERR_INVALID)
            fail_msg("accepted XRD %s", xrd[i]);
    for (i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        if (xmpp__hostmeta_parse_json(ctx, json[i], strlen(json[i]), 1, &hm) != XMPP_ERR_INVALID)
            fail_msg("accepted JSON %s", json[i]);
    /* nesting */
    big = malloc(XMPP_HOSTMETA_MAX + 2);
    assert_non_null(big);
    memset(big, '[', 1000);
    big[0] = '{';
    memcpy(big + 1, "\"a\":", 4);
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, big, 1000, 1, &hm), XMPP_ERR_LIMIT);
    /* size */
    memset(big, ' ', XMPP_HOSTMETA_MAX + 1);
    big[0] = '{';
    big[XMPP_HOSTMETA_MAX] = '}';
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, big, XMPP_HOSTMETA_MAX + 1, 1, &hm),
                     XMPP_ERR_LIMIT);
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, big + 1, XMPP_HOSTMETA_MAX, 1, &hm),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp__hostmeta_parse_xrd(ctx, big, XMPP_HOSTMETA_MAX + 1, 1, &hm),
                     XMPP_ERR_LIMIT);
    /* a long string */
    memset(big, 'a', 5000);
    memcpy(big, "{\"a\": \"", 7);
    memcpy(big + 4990, "\"}", 2);
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, big, 4992, 1, &hm), XMPP_ERR_LIMIT);
    free(big);
    assert_int_equal(xmpp__hostmeta_parse_json(NULL, "{}", 2, 1, &hm), XMPP_ERR_INVALID);
    assert_int_equal(xmpp__hostmeta_parse_json(ctx, "{}", 2, 1, NULL), XMPP_ERR_INVALID);
}

static int scenario(xmpp_ctx *c, void *arg) {
    xmpp__hostmeta hm;
    int rc;
    (void)arg;
    if ((rc = xmpp__hostmeta_parse_json(c, JSON_OK, strlen(JSON_OK), 0, &hm)) != XMPP_OK)
        return rc;
    rc = hm.websocket && hm.bosh ? XMPP_OK : XMPP_ERR_NOMEM;
    xmpp__hostmeta_clear(c, &hm);
    if (rc != XMPP_OK)
        return rc;
    if ((rc = xmpp__hostmeta_parse_xrd(c, XRD_OK, strlen(XRD_OK), 0, &hm)) != XMPP_OK)
        return rc;
    rc = hm.websocket && hm.bosh ? XMPP_OK : XMPP_ERR_NOMEM;
    xmpp__hostmeta_clear(c, &hm);
    return rc;
}

static void test_torture(void **state) {
    (void)state;
    assert_true(th_torture(scenario, NULL) > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xrd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_usable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
