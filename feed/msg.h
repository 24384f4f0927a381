/*
 * msg — one encoded message, built once and shared by reference (STYLE.md practice 9).
 *
 * A message holds JSON text with LWS_PRE bytes of headroom in front, where ow_msg_new writes the
 * websocket frame header once, so the plain frame is header + text in place: every client gets the
 * same bytes without a copy. The compressed frame (feed/pmd.h) is made on first use and kept with
 * the message. The same message sits in the live ring, in the latest-snapshot slot and in HTTP
 * responses that are still being written; each holder owns one reference. Nothing changes after
 * ow_msg_new but the compressed frame's first build, which only the feed's loop thread does (the
 * send threads read frames built before they start).
 *
 * Lifecycle: ow_msg_new (refs = 1) → ow_msg_ref per extra holder → ow_msg_unref per holder; the
 * last unref frees it.
 */
#ifndef OW_FEED_MSG_H
#define OW_FEED_MSG_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmd.h"

typedef enum {
    OW_MSG_SNAPSHOT, /* a full picture: replaces everything a client holds */
    OW_MSG_OTHER,    /* any other typed message with a seq, e.g. a delta (core/delta.h) */
} ow_msg_kind;

typedef struct ow_msg {
    unsigned refs;
    ow_msg_kind kind;
    int64_t seq;            /* the message's "seq" */
    int64_t base;           /* a delta's "base" (the seq it applies to), -1 when absent */
    int64_t now_ms;         /* a snapshot's "now_ms" (engine time); 0 for other kinds */
    int64_t recv_wall_ms;   /* when the feed received it (wall clock) */
    int64_t recv_mono_ms;   /* when the feed received it (monotonic clock) */
    size_t len;             /* bytes of text, without the NUL */
    unsigned char hdr;      /* bytes of frame header at the end of the headroom */
    bool z_tried;           /* the compressed frame was tried (z_frame NULL: zlib failed) */
    unsigned char *z_frame; /* compressed frame (owned), NULL = send the plain one */
    size_t z_len;
    unsigned char buf[]; /* LWS_PRE headroom (its last `hdr` bytes: the frame header), then the
                            text, then a NUL */
} ow_msg;

/* A server's websocket frame header (unmasked, RFC 6455 §5.2) for a payload of len bytes, first
 * byte `first` (OW_MSG_TEXT, or OW_MSG_TEXT_DEFLATED for a permessage-deflate frame); returns its
 * length, at most OW_MSG_HDR_MAX. */
#define OW_MSG_TEXT          0x81 /* FIN + text */
#define OW_MSG_TEXT_DEFLATED 0xC1 /* FIN + RSV1 (compressed, RFC 7692 §6) + text */
#define OW_MSG_HDR_MAX       10
size_t ow_msg_header(unsigned char *out, unsigned char first, uint64_t len);

/* Copy len bytes of text into a new message with refs = 1 and kind OW_MSG_OTHER (the caller fills
 * kind, seq and the times). NULL on out of memory. */
ow_msg *ow_msg_new(const char *text, size_t len);

/* Add a reference; returns m. */
ow_msg *ow_msg_ref(ow_msg *m);

/* Drop a reference; frees the message when it was the last. NULL is a no-op. */
void ow_msg_unref(ow_msg *m);

/* The message as one websocket frame (FIN, text, unmasked as a server sends it), borrowed from m:
 * the plain frame when z is NULL; else the frame compressed by z (RFC 7692) when that is smaller,
 * made on first use and kept, or the plain one. *len is its length. For the feed's loop thread
 * only (see above). */
const unsigned char *ow_msg_wire(ow_msg *m, ow_pmd *z, size_t *len);

/* The text (NUL-terminated). Borrowed from m. */
static inline unsigned char *ow_msg_data(ow_msg *m)
{
    return m->buf + LWS_PRE;
}

#endif
