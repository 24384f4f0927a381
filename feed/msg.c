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

size_t ow_msg_frame(const ow_msg *m, unsigned char *out)
{
    size_t h = 0;
    uint64_t len = m->len;
    out[h++] = 0x81; /* FIN + text (RFC 6455 §5.2) */
    if (len < 126) {
        out[h++] = (unsigned char)len;
    } else if (len < 65536) {
        out[h++] = 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    } else {
        out[h++] = 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (unsigned char)(len >> (8 * i));
    }
    memcpy(out + h, m->buf + LWS_PRE, m->len);
    return h + m->len;
}

void ow_msg_unref(ow_msg *m)
{
    if (m && --m->refs == 0) free(m);
}
