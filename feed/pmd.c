#define _GNU_SOURCE /* memmem */
#include "pmd.h"

#include "msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Client parameters lws 4.1.6 echoes or ignores without harm: client_max_window_bits (it answers
 * without it; the client then compresses with up to 15 bits, which lws inflates) and
 * client_no_context_takeover. */
const struct lws_extension OW_PMD_EXTENSIONS[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_max_window_bits"},
    {NULL, NULL, NULL},
};

struct ow_pmd {
    z_stream fixed;         /* messages up to OW_PMD_FIXED_MAX: fixed Huffman codes */
    z_stream dynamic;       /* longer ones: codes built for the message */
    unsigned char *scratch; /* the deflate output of one message */
    size_t cap;
};

ow_pmd *ow_pmd_new(int level)
{
    ow_pmd *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    if (level < 1 || level > 9) level = 6;
    /* raw deflate (-15: no zlib header, RFC 7692 §7.2.1), the whole 32 KB window, default memory */
    if (deflateInit2(&z->fixed, level, Z_DEFLATED, -15, 8, Z_FIXED) != Z_OK) {
        free(z);
        return NULL;
    }
    if (deflateInit2(&z->dynamic, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        deflateEnd(&z->fixed);
        free(z);
        return NULL;
    }
    return z;
}

void ow_pmd_free(ow_pmd *z)
{
    if (!z) return;
    deflateEnd(&z->fixed);
    deflateEnd(&z->dynamic);
    free(z->scratch);
    free(z);
}

size_t ow_pmd_frame(ow_pmd *z, const unsigned char *text, size_t len, unsigned char **out)
{
    return ow_pmd_frame_after(z, NULL, 0, text, len, out);
}

size_t ow_pmd_frame_after(ow_pmd *z, const unsigned char *prev, size_t prev_len,
                          const unsigned char *text, size_t len, unsigned char **out)
{
    *out = NULL;
    if (len > UINT32_MAX) return 0;
    z_stream *zs = len <= OW_PMD_FIXED_MAX ? &z->fixed : &z->dynamic;
    if (deflateReset(zs) != Z_OK) return 0;
    /* the receiver's window ends with prev: the last 32 KB of it is what may be referred to */
    if (prev_len > 32768) {
        prev += prev_len - 32768;
        prev_len = 32768;
    }
    if (prev && prev_len && deflateSetDictionary(zs, prev, (uInt)prev_len) != Z_OK) return 0;
    size_t need = deflateBound(zs, (uLong)len) + 16;
    if (need > z->cap) {
        unsigned char *b = realloc(z->scratch, need);
        if (!b) return 0;
        z->scratch = b;
        z->cap = need;
    }
    zs->next_in = (Bytef *)(uintptr_t)text;
    zs->avail_in = (uInt)len;
    zs->next_out = z->scratch;
    zs->avail_out = (uInt)z->cap;
    int rc = deflate(zs, Z_SYNC_FLUSH);
    size_t used = z->cap - zs->avail_out;
    if (rc != Z_OK || zs->avail_in != 0 || zs->avail_out == 0 || used < 4) return 0;
    /* the sync flush ends with an empty stored block, 00 00 ff ff, which the sender removes
     * (RFC 7692 §7.2.1) */
    if (memcmp(z->scratch + used - 4, "\x00\x00\xff\xff", 4) != 0) return 0;
    used -= 4;
    unsigned char hdr[OW_MSG_HDR_MAX];
    size_t h = ow_msg_header(hdr, OW_MSG_TEXT_DEFLATED, used);
    unsigned char *f = malloc(h + used);
    if (!f) return 0;
    memcpy(f, hdr, h);
    memcpy(f + h, z->scratch, used);
    *out = f;
    return h + used;
}

bool ow_pmd_offer_ok(const char *offer)
{
    return offer && !strstr(offer, "server_max_window_bits") &&
           !strstr(offer, "server_no_context_takeover");
}

bool ow_pmd_active(struct lws *wsi)
{
    /* Setting an option of the extension fails when it is not active on the connection. The
     * option must be one lws knows (an unknown name walks off the end of lws 4.1.6's option
     * table), and the value is lws's default, so nothing changes; lws's own compressor is never
     * used by the feed anyway. */
    return lws_set_extension_option(wsi, "permessage-deflate", "compression_level", "1") == 0;
}
