/* Logging. Messages are formatted into a stack buffer only after the level
 * check in xmpp__log() passed. */
#include "core/internal.h"

#include <stdio.h>

void xmpp__log_emit(const xmpp_ctx *ctx, xmpp_log_level lvl, const char *area,
                    const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->log_fn(lvl, area, msg, ctx->log_ud);
}
