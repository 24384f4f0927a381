/*
 * msg — one encoded message, built once and shared by reference (STYLE.md practice 9).
 *
 * A message holds JSON text with LWS_PRE bytes of headroom in front, so lws_write can send it in
 * place to every client without a copy. The same message sits in the live ring, in the latest-
 * snapshot slot and in HTTP responses that are still being written; each holder owns one reference.
 * The text never changes after ow_msg_new. The headroom is scratch space lws_write overwrites with
 * the frame header on every send; that is safe because the feed is single-threaded and every client
 * gets the same header for the same message.
 *
 * Lifecycle: ow_msg_new (refs = 1) → ow_msg_ref per extra holder → ow_msg_unref per holder; the
 * last unref frees it.
 */
#ifndef OW_FEED_MSG_H
#define OW_FEED_MSG_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OW_MSG_SNAPSHOT, /* a full picture: replaces everything a client holds */
    OW_MSG_OTHER,    /* any other typed message with a seq, e.g. a delta (core/delta.h) */
} ow_msg_kind;

typedef struct ow_msg {
    unsigned refs;
    ow_msg_kind kind;
    int64_t seq;          /* the message's "seq" */
    int64_t base;         /* a delta's "base" (the seq it applies to), -1 when absent */
    int64_t now_ms;       /* a snapshot's "now_ms" (engine time); 0 for other kinds */
    int64_t recv_wall_ms; /* when the feed received it (wall clock) */
    int64_t recv_mono_ms; /* when the feed received it (monotonic clock) */
    size_t len;           /* bytes of text, without the NUL */
    unsigned char buf[];  /* LWS_PRE headroom, then the text, then a NUL */
} ow_msg;

/* Copy len bytes of text into a new message with refs = 1 and kind OW_MSG_OTHER (the caller fills
 * kind, seq and the times). NULL on out of memory. */
ow_msg *ow_msg_new(const char *text, size_t len);

/* Add a reference; returns m. */
ow_msg *ow_msg_ref(ow_msg *m);

/* Drop a reference; frees the message when it was the last. NULL is a no-op. */
void ow_msg_unref(ow_msg *m);

/* Write the message as one websocket frame (FIN, text, unmasked as a server sends it: the bytes
 * lws_write would send) to out, which has room for len + 10 bytes; returns the frame's length. */
size_t ow_msg_frame(const ow_msg *m, unsigned char *out);

/* The text (NUL-terminated; writable only as lws_write's buffer). Borrowed from m. */
static inline unsigned char *ow_msg_data(ow_msg *m)
{
    return m->buf + LWS_PRE;
}

#endif
