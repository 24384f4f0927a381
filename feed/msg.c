#include "msg.h"

#include <stdlib.h>
#include <string.h>

size_t ow_msg_header(unsigned char *out, unsigned char first, uint64_t len)
{
    size_t h = 0;
    out[h++] = first;
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
    return h;
}

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
    unsigned char h[OW_MSG_HDR_MAX];
    size_t n = ow_msg_header(h, OW_MSG_TEXT, len); /* written once, at the end of the headroom */
    memcpy(m->buf + LWS_PRE - n, h, n);
    m->hdr = (unsigned char)n;
    return m;
}

ow_msg *ow_msg_ref(ow_msg *m)
{
    m->refs++;
    return m;
}

const unsigned char *ow_msg_wire(ow_msg *m, ow_pmd *z, size_t *len)
{
    if (z && !m->z_tried) {
        m->z_tried = true;
        m->z_len = ow_pmd_frame(z, m->buf + LWS_PRE, m->len, &m->z_frame);
    }
    if (z && m->z_frame) {
        *len = m->z_len;
        return m->z_frame;
    }
    *len = m->hdr + m->len;
    return m->buf + LWS_PRE - m->hdr;
}

void ow_msg_unref(ow_msg *m)
{
    if (m && --m->refs == 0) {
        free(m->z_frame);
        free(m);
    }
}
