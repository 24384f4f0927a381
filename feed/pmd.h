/*
 * pmd — permessage-deflate (RFC 7692) compressed once per message for every viewer.
 *
 * Why: the engine's deltas are JSON of 2.4 KB median, 5.2 KB mean on the normal simulator day,
 * and compress to about a sixth; a manager's phone on a mobile network, and the feed's uplink at
 * thousands of viewers, pay for every byte. lws can compress, but per connection (10,000 viewers
 * = 10,000 deflate runs of the same delta); here each message is deflated once or twice and the
 * same frames are written to every viewer that negotiated the extension: as a fresh raw deflate
 * stream that never refers to earlier messages (valid whatever the receiver's window holds:
 * ow_pmd_frame), and as the continuation of the message before it (ow_pmd_frame_after), for the
 * viewers whose window ends with that one — consecutive deltas repeat most of each other.
 *
 * The lws side (measured on lws 4.1.6, docs/protocol.md §3 "Compression"):
 *  - lws negotiates the extension (OW_PMD_EXTENSIONS on the vhost) but must never frame a data
 *    message itself on such a connection: its own compressor would not know the messages written
 *    around it, and a message it sends in pieces could be interleaved with ours. The feed writes
 *    only prebuilt frames (feed/live.c).
 *  - lws 4.1.6 ignores server_max_window_bits and resets the wrong side's stream for
 *    server_no_context_takeover; offers with either are declined (ow_pmd_offer_ok), so those
 *    clients get plain frames, and every client that gets compressed frames keeps its window
 *    across messages (context takeover, RFC 7692 §7.1.1), as ow_pmd_frame_after needs.
 *  - lws 4.1's client spins at 100 % CPU on an uncompressed data frame once the extension is
 *    negotiated, so every message goes compressed (ow_pmd_frame).
 *  - There is no getter for "negotiated": ow_pmd_active asks lws to set an option of the
 *    extension on the connection, which succeeds only when it is active.
 *
 * Lifecycle: ow_pmd_new → ow_pmd_frame (any number, one thread) → ow_pmd_free.
 */
#ifndef OW_FEED_PMD_H
#define OW_FEED_PMD_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

/* The vhost's extension list (static; lws keeps the pointer). */
extern const struct lws_extension OW_PMD_EXTENSIONS[];

/* Messages up to this many bytes are compressed with fixed Huffman codes (Z_FIXED), longer ones
 * with codes built for the message. A receiver must decode a message's own code tables before its
 * data, which for a delta of a few KB costs more than the bytes they save: measured with zlib
 * 1.2.13 on slices of the recorded deltas (bench/data/deltas-normal-day.jsonl), 1.1 KB inflates
 * in 1.1-1.2 µs with fixed codes against 3.0-4.8 µs with built ones, 5 KB in 3.0-3.9 against
 * 5.3-7.1 µs, for 14 % more bytes (337 against 296, 799 against 701). Viewers are phones and
 * laptops taking 4 deltas a second; snapshots (tens of KB, once per connection) keep the better
 * ratio. */
#define OW_PMD_FIXED_MAX 16384

typedef struct ow_pmd ow_pmd;

/* A compressor at zlib level 1..9. NULL on out of memory. */
ow_pmd *ow_pmd_new(int level);
void ow_pmd_free(ow_pmd *z);

/* The message text (len bytes) as one compressed websocket frame (FIN, RSV1, text; unmasked, as
 * a server sends it) in a new buffer (*out, caller frees with free()); returns its length. Every
 * message is compressed, even when that makes it a few bytes longer (short or random text): a
 * plain data frame is legal on a compressed connection, but lws 4.1's client loops forever on one
 * (client-parser-ws.c does not count PMDR_NOTHING_WE_SHOULD_DO as consumed). 0 (and *out NULL)
 * only when zlib fails (out of memory). */
size_t ow_pmd_frame(ow_pmd *z, const unsigned char *text, size_t len, unsigned char **out);

/* The same, compressed as the continuation of a stream whose receiver last inflated prev
 * (prev_len bytes of text): the frame may refer to prev's bytes, so it is only for a receiver
 * whose window ends with exactly that text (context takeover, RFC 7692 §7.1.1). Consecutive
 * deltas share most of their keys and values: on the recorded real deltas 760 bytes a delta
 * fresh, 436 after the one before (median 735 against 119). prev NULL = ow_pmd_frame. */
size_t ow_pmd_frame_after(ow_pmd *z, const unsigned char *prev, size_t prev_len,
                          const unsigned char *text, size_t len, unsigned char **out);

/* Whether a client's offer (its Sec-WebSocket-Extensions header) may be accepted: false for
 * parameters lws 4.1.6 mishandles (server_max_window_bits, server_no_context_takeover). For
 * LWS_CALLBACK_CONFIRM_EXTENSION_OKAY. */
bool ow_pmd_offer_ok(const char *offer);

/* Whether permessage-deflate is active on an established websocket. */
bool ow_pmd_active(struct lws *wsi);

#endif
