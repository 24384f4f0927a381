/*
 * pmd — permessage-deflate (RFC 7692) compressed once per message for every viewer.
 *
 * Why: the engine's deltas are JSON of 2.4 KB median, 5.2 KB mean on the normal simulator day,
 * and compress to about a sixth; a manager's phone on a mobile network, and the feed's uplink at
 * thousands of viewers, pay for every byte. lws can compress, but per connection (10,000 viewers
 * = 10,000 deflate runs of the same delta); here each message is deflated once, as a fresh raw
 * deflate stream that never refers to earlier messages (so it is valid whatever the receiver's
 * context holds), and the same frame is written to every viewer that negotiated the extension.
 *
 * The lws side (measured on lws 4.1.6, docs/protocol.md §3 "Compression"):
 *  - lws negotiates the extension (OW_PMD_EXTENSIONS on the vhost) but must never frame a data
 *    message itself on such a connection: its own compressor would not know the messages written
 *    around it, and a message it sends in pieces could be interleaved with ours. The feed writes
 *    only prebuilt frames (feed/live.c).
 *  - lws 4.1.6 ignores server_max_window_bits and resets the wrong side's stream for
 *    server_no_context_takeover; offers with either are declined (ow_pmd_offer_ok), so those
 *    clients get plain frames. The feed says server_no_context_takeover itself, unasked
 *    (ow_pmd_declare_fresh), on the line lws writes.
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

/* Whether a client's offer (its Sec-WebSocket-Extensions header) may be accepted: false for
 * parameters lws 4.1.6 mishandles (server_max_window_bits, server_no_context_takeover). For
 * LWS_CALLBACK_CONFIRM_EXTENSION_OKAY. */
bool ow_pmd_offer_ok(const char *offer);

/* Tell the client, in the upgrade response, what is true of every frame ow_pmd_frame makes: the
 * server does not use context takeover (RFC 7692 §7.1.1.1 lets a server say so unasked). The
 * client may then reset its inflater after each message instead of keeping a 32 KB window per
 * connection (lws's client frees it, browsers may): on the feed's own machine at 10,000 bench
 * viewers that window, first touched 1.1 KB a delta, was 320 MB of page faults in the first
 * 7 s and a cold 32 KB per viewer after. lws 4.1.6 writes the extension line itself and only
 * echoes offered parameters (and mishandles this one when offered: ow_pmd_offer_ok), so this
 * appends it to the line lws wrote just before *p: for LWS_CALLBACK_ADD_HEADERS during the
 * upgrade (args->p, args->max_len as *room; both advanced). True when the line says it now;
 * false, with nothing changed, when the line before *p is not lws's permessage-deflate line
 * (compression not negotiated) or there is no room. */
#define OW_PMD_LINE_MAX 256 /* lws's extension line: the header name and a 192-byte budget */
bool ow_pmd_declare_fresh(char **p, int *room);

/* Whether permessage-deflate is active on an established websocket. */
bool ow_pmd_active(struct lws *wsi);

#endif
