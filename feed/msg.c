#include "msg.h"

#include <stdlib.h>
#include <string.h>

ow_msg *ow_msg_new(const char *text, size_t len)
{
    ow_msg *m = malloc(sizeof *m + LWS_PRE + len + 1);
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    m->refs = 1;
    m->kind = OW_MSG_OTHER;
    m->base = -1;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    m->buf[LWS_PRE + len] = '\0';
    return m;
}

ow_msg *ow_msg_ref(ow_msg *m)
{
    m->refs++;
    return m;
}

void ow_msg_unref(ow_msg *m)
{
    if (m && --m->refs == 0) free(m);
}
