/*
 * ckio — the checkpoint's byte format, shared by checkpoint.c and the modules that save their own
 * part of the model (flags.c): little-endian scalars, length-prefixed strings, and a reader whose
 * every read is bounds-checked and whose first failure sticks (the bytes come from Redis, so they
 * are outside input).
 */
#ifndef OW_CKIO_H
#define OW_CKIO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* x86-64 and aarch64 are little-endian; the format is defined as little-endian. */
#define OW_CK_PUT(b, v) ow_buf_put(b, &(v), sizeof(v))

static inline void ow_ck_u8(ow_buf *b, uint8_t v)
{
    OW_CK_PUT(b, v);
}
static inline void ow_ck_u16(ow_buf *b, uint16_t v)
{
    OW_CK_PUT(b, v);
}
static inline void ow_ck_u32(ow_buf *b, uint32_t v)
{
    OW_CK_PUT(b, v);
}
static inline void ow_ck_i32(ow_buf *b, int32_t v)
{
    OW_CK_PUT(b, v);
}
static inline void ow_ck_i64(ow_buf *b, int64_t v)
{
    OW_CK_PUT(b, v);
}
static inline void ow_ck_f64(ow_buf *b, double v)
{
    OW_CK_PUT(b, v);
}
static inline void ow_ck_str(ow_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    ow_ck_u32(b, n);
    ow_buf_put(b, s, n);
}

/* The reader is core/buf.h's bounds-checked ow_rbuf (the KPI windows load through it too). */
typedef ow_rbuf ow_ckr;

static inline bool ow_ckr_get(ow_ckr *r, void *dst, size_t n)
{
    return ow_rbuf_get(r, dst, n);
}

#define OW_CKR_GET(r, v) ow_ckr_get(r, &(v), sizeof(v))

/* A string into out[cap]: no NUL inside, shorter than cap. */
static inline bool ow_ckr_str(ow_ckr *r, char *out, size_t cap)
{
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return false;
    if (n >= cap || r->n - r->off < n) {
        r->bad = "string too long or truncated";
        return false;
    }
    if (memchr(r->p + r->off, '\0', n)) {
        r->bad = "NUL inside a string";
        return false;
    }
    memcpy(out, r->p + r->off, n);
    out[n] = '\0';
    r->off += n;
    return true;
}

/* Fail with a reason (returns false, for `ok = ok && ...` chains). */
static inline bool ow_ckr_fail(ow_ckr *r, const char *why)
{
    return ow_rbuf_fail(r, why);
}

#endif
