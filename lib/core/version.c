#include "core/internal.h"

#include <xmpp/version.h>

const char *xmpp_version_string(void) {
    return XMPP_VERSION;
}
