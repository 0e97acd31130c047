/* The XML stream parser: a libxml2 SAX2 push parser that turns the bytes of
 * an XMPP stream into a stream header, complete depth-1 stanza trees and the
 * stream end, enforcing RFC 6120 §11 restricted XML and size limits.
 *
 * Internal to libxmpp (the session feeds it); tests, fuzzers and benchmarks
 * link it through the convenience library. */
#ifndef XMPP_XML_PARSER_H
#define XMPP_XML_PARSER_H

#include "core/internal.h"

#include <xmpp/stanza.h>

typedef struct xmpp_xml_parser xmpp_xml_parser;

/* Limits. A field set to 0 takes the default. Exceeding any of them stops
 * the parser with XMPP_SC_POLICY_VIOLATION. */
typedef struct xmpp_xml_limits {
    size_t max_stanza_bytes; /* bytes of one depth-1 element, tags included; default 1 MiB */
    size_t max_depth;        /* element nesting below the stream root; default 64 */
    size_t max_attrs;        /* attributes per element; default 64 */
    size_t max_text;         /* bytes of one text node; default: max_stanza_bytes */
    size_t max_header_bytes; /* bytes before the stream header is complete; default 8 KiB */
} xmpp_xml_limits;

#define XMPP_XML_DEFAULT_MAX_STANZA (1024 * 1024)
#define XMPP_XML_DEFAULT_MAX_DEPTH 64
#define XMPP_XML_DEFAULT_MAX_ATTRS 64
#define XMPP_XML_DEFAULT_MAX_HEADER (8 * 1024)

typedef struct xmpp_xml_callbacks {
    /* The stream root opened. `header` is an element "stream" (borrowed, valid
     * during the call) with the root's namespace and attributes;
     * `default_ns` is the default namespace the root declared, or NULL. */
    void (*stream_start)(xmpp_stanza *header, const char *default_ns, void *ud);
    /* A complete depth-1 element. Borrowed: take a reference to keep it. */
    void (*stanza)(xmpp_stanza *stanza, void *ud);
    /* The root closed (</stream:stream>). Nothing is delivered after it. */
    void (*stream_end)(void *ud);
} xmpp_xml_callbacks;

/* Creates a parser. cb is copied. Returns XMPP_OK, XMPP_ERR_INVALID or
 * XMPP_ERR_NOMEM. */
int xmpp_xml_parser_new(xmpp_xml_parser **out, xmpp_ctx *ctx,
                        const xmpp_xml_callbacks *cb, void *ud);

/* Sets limits (copied; zero fields take defaults). Allowed at any time; a
 * stanza in progress is checked against the new values from then on. */
void xmpp_xml_parser_set_limits(xmpp_xml_parser *p, const xmpp_xml_limits *limits);

/* Sets the root element required instead of <stream:stream> (name and
 * namespace, both static strings; NULL name restores the default). BOSH
 * parses each <body xmlns='http://jabber.org/protocol/httpbind'/> as a
 * stream of its own. Call before feeding. */
void xmpp_xml_parser_set_root(xmpp_xml_parser *p, const char *name, const char *ns);

/* Once the root has closed: the number of input bytes up to and including
 * its end tag since the last reset (what follows it was ignored); else 0. */
uint64_t xmpp_xml_parser_end_offset(const xmpp_xml_parser *p);

/* Feeds bytes. Callbacks fire from inside this call. Returns
 *  XMPP_OK          all bytes consumed (an incomplete tail is kept);
 *  XMPP_ERR_STREAM  the stream is in error (sticky); see xmpp_xml_parser_error;
 *  XMPP_ERR_CLOSED  the stream already ended (bytes after it are ignored);
 *  XMPP_ERR_NOMEM   out of memory (sticky: the parser is then in error with
 *                   XMPP_SC_RESOURCE_CONSTRAINT).
 * Identical results for any split of the same bytes into calls. */
int xmpp_xml_parser_feed(xmpp_xml_parser *p, const char *data, size_t len);

/* The stream error condition (XMPP_SC_NONE while healthy) and a short text
 * saying what was wrong (static or parser-owned; may be NULL). */
xmpp_stream_condition xmpp_xml_parser_error(const xmpp_xml_parser *p, const char **text);

/* Starts over for a new stream on the same transport (after STARTTLS or
 * SASL success, RFC 6120 §5.4.3.3, §6.4.6). Clears any error. */
int xmpp_xml_parser_reset(xmpp_xml_parser *p);

void xmpp_xml_parser_free(xmpp_xml_parser *p);

#endif
