/*
 * test_pmd — feed/pmd.c and the frames of feed/msg.c: a compressed frame is FIN + RSV1 + text with
 * the right length encoding and inflates (RFC 7692: raw deflate, 00 00 ff ff appended) to the
 * message, also on one inflater kept across messages as a browser keeps it; short and
 * incompressible messages are compressed too (lws 4.1 clients loop on a plain data frame once the
 * extension is negotiated); the offer screen declines the parameters lws 4.1.6
 * mishandles; a frame compressed after the message before inflates on the kept inflater; the plain
 * frame a message carries is header + text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "msg.h"
#include "pmd.h"

/* Payload length and offset from a server frame header. */
static size_t frame_payload(const unsigned char *f, size_t *off)
{
    size_t len = f[1] & 0x7F;
    *off = 2;
    if (len == 126) {
        len = (size_t)f[2] << 8 | f[3];
        *off = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | f[2 + i];
        *off = 10;
    }
    return len;
}

/* A receiver's inflater: raw deflate (RFC 7692 §7.2.2), kept across messages as a browser keeps
 * it. */
static void inflater_open(z_stream *zs)
{
    memset(zs, 0, sizeof *zs);
    assert_int_equal(inflateInit2(zs, -15), Z_OK);
}

/* Inflate one message's payload on inflater zs (kept across messages). */
static char *inflate_msg(z_stream *zs, const unsigned char *p, size_t len, size_t cap)
{
    unsigned char *in = malloc(len + 4);
    memcpy(in, p, len);
    memcpy(in + len, "\x00\x00\xff\xff", 4);
    char *out = calloc(1, cap + 1);
    zs->next_in = in;
    zs->avail_in = (uInt)(len + 4);
    zs->next_out = (Bytef *)out;
    zs->avail_out = (uInt)cap;
    int rc = inflate(zs, Z_SYNC_FLUSH);
    assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
    assert_int_equal(zs->avail_in, 0);
    free(in);
    return out;
}

/* A JSON text like an engine delta, n bytes or a little more. */
static char *json_of(size_t n, unsigned seed)
{
    char *s = malloc(n + 200);
    size_t at =
        (size_t)sprintf(s, "{\"v\":1,\"type\":\"delta\",\"seq\":%u,\"set\":{\"urgent\":[", seed);
    for (unsigned i = 0; at < n; i++)
        at += (size_t)sprintf(s + at, "%s{\"id\":\"o%05u\",\"region\":\"north\",\"left_s\":%u}",
                              i ? "," : "", seed * 31 + i, (seed * 7919 + i * 104729) % 3600);
    at += (size_t)sprintf(s + at, "]},\"del\":[]}");
    return s;
}

static void test_frames_inflate(void **st)
{
    (void)st;
    ow_pmd *z = ow_pmd_new(6);
    assert_non_null(z);
    z_stream zs;
    inflater_open(&zs);
    /* sizes around the 7-bit, 16-bit and 64-bit length encodings of the compressed payload */
    size_t sizes[] = {200, 1000, 5000, 60000, 300000, 2000000};
    for (unsigned k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        char *text = json_of(sizes[k], k + 1);
        size_t len = strlen(text);
        unsigned char *f = NULL;
        size_t flen = ow_pmd_frame(z, (const unsigned char *)text, len, &f);
        assert_non_null(f);
        assert_true(flen > 0 && flen < len);
        assert_int_equal(f[0], OW_MSG_TEXT_DEFLATED);
        assert_int_equal(f[1] & 0x80, 0); /* a server does not mask */
        size_t off, plen = frame_payload(f, &off);
        assert_int_equal(off + plen, flen);
        /* the first block's type (RFC 1951 §3.2.3, bits 1-2): fixed codes (01) for a delta-sized
         * message, codes of its own (10) for a longer one */
        assert_int_equal(f[off] & 6, len <= OW_PMD_FIXED_MAX ? 2 : 4);
        char *back = inflate_msg(&zs, f + off, plen, len);
        assert_string_equal(back, text);
        free(back);
        free(f);
        free(text);
    }
    inflateEnd(&zs);
    ow_pmd_free(z);
    ow_pmd_free(NULL);
}

/* Short and incompressible texts go compressed as well, a few bytes longer than plain, and
 * inflate back on the same inflater as the messages before them. */
static void test_short_and_random(void **st)
{
    (void)st;
    ow_pmd *z = ow_pmd_new(1);
    z_stream zs;
    inflater_open(&zs);
    unsigned char noise[4096];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 16);
    struct {
        const unsigned char *text;
        size_t len;
    } cases[] = {
        {(const unsigned char
              *)"{\"v\":1,\"type\":\"delta\",\"seq\":3,\"set\":{\"now_ms\":1},\"del\":[]}",
         0},
        {(const unsigned char *)"x", 1},
        {noise, sizeof noise},
    };
    cases[0].len = strlen((const char *)cases[0].text);
    for (unsigned k = 0; k < sizeof cases / sizeof *cases; k++) {
        unsigned char *f = NULL;
        size_t flen = ow_pmd_frame(z, cases[k].text, cases[k].len, &f);
        assert_non_null(f);
        assert_int_equal(f[0], OW_MSG_TEXT_DEFLATED);
        size_t off, plen = frame_payload(f, &off);
        assert_int_equal(off + plen, flen);
        assert_true(plen <= cases[k].len + 16); /* stored blocks: a few bytes of overhead */
        char *back = inflate_msg(&zs, f + off, plen, cases[k].len);
        assert_memory_equal(back, cases[k].text, cases[k].len);
        free(back);
        free(f);
    }
    inflateEnd(&zs);
    ow_pmd_free(z);
}

static void test_offer_screen(void **st)
{
    (void)st;
    assert_true(ow_pmd_offer_ok("permessage-deflate; client_max_window_bits"));
    assert_true(ow_pmd_offer_ok("permessage-deflate"));
    assert_true(ow_pmd_offer_ok("permessage-deflate; client_no_context_takeover"));
    assert_false(ow_pmd_offer_ok("permessage-deflate; server_max_window_bits=10"));
    assert_false(ow_pmd_offer_ok("permessage-deflate; server_no_context_takeover"));
    assert_false(ow_pmd_offer_ok(NULL));
}

/* A stream of deltas, each compressed after the one before (context takeover), inflates on one
 * inflater kept across messages, as a browser keeps it — also when a message in between went
 * fresh (a client sent the snapshot, then the next delta) — and is smaller than the fresh frames
 * when the deltas resemble each other. A 40 KB message after another refers only to the last
 * 32 KB of it. */
static void test_frame_after(void **st)
{
    (void)st;
    ow_pmd *z = ow_pmd_new(6);
    assert_non_null(z);
    z_stream zs;
    inflater_open(&zs);
    char *prev = NULL;
    size_t fresh_total = 0, after_total = 0;
    for (unsigned k = 0; k < 12; k++) {
        char *text = json_of(k == 6 ? 40000 : 1500, 100 + k / 2); /* pairs alike, then a change */
        size_t len = strlen(text);
        unsigned char *f = NULL, *g = NULL;
        size_t flen = ow_pmd_frame(z, (const unsigned char *)text, len, &f);
        size_t glen = ow_pmd_frame_after(z, (const unsigned char *)prev, prev ? strlen(prev) : 0,
                                         (const unsigned char *)text, len, &g);
        assert_non_null(f);
        assert_non_null(g);
        if (!prev) assert_memory_equal(f, g, flen); /* nothing before: the fresh frame */
        fresh_total += flen;
        after_total += glen;
        size_t off, plen;
        /* every fourth message goes fresh: the stream goes on from it */
        const unsigned char *use = k % 4 == 3 ? f : g;
        plen = frame_payload(use, &off);
        assert_int_equal(use[0], OW_MSG_TEXT_DEFLATED);
        assert_int_equal(off + plen, k % 4 == 3 ? flen : glen);
        char *back = inflate_msg(&zs, use + off, plen, len);
        assert_string_equal(back, text);
        free(back);
        free(f);
        free(g);
        free(prev);
        prev = text;
    }
    assert_true(after_total * 10 < fresh_total * 8); /* at least a fifth smaller */
    free(prev);
    inflateEnd(&zs);
    ow_pmd_free(z);
}

/* The message's frames: plain = header + text in place; with a compressor, the compressed one
 * (made once: the same buffer on the next call), at every size. */
static void test_msg_wire(void **st)
{
    (void)st;
    ow_pmd *z = ow_pmd_new(6);
    size_t lens[] = {10, 125, 126, 65535, 65536, 70000};
    for (unsigned k = 0; k < sizeof lens / sizeof *lens; k++) {
        char *text = malloc(lens[k] + 1);
        for (size_t i = 0; i < lens[k]; i++)
            text[i] = "abcdefgh"[i % 8];
        ow_msg *m = ow_msg_new(text, lens[k]);
        assert_non_null(m);
        size_t len, off;
        const unsigned char *w = ow_msg_wire(m, NULL, &len);
        assert_int_equal(w[0], OW_MSG_TEXT);
        assert_int_equal(frame_payload(w, &off), lens[k]);
        assert_int_equal(off + lens[k], len);
        assert_memory_equal(w + off, text, lens[k]);
        size_t zlen;
        const unsigned char *zw = ow_msg_wire(m, z, &zlen);
        assert_int_equal(zw[0], OW_MSG_TEXT_DEFLATED);
        if (lens[k] > 100) assert_true(zlen < len);
        size_t again;
        assert_ptr_equal(ow_msg_wire(m, z, &again), zw); /* made once */
        ow_msg_unref(m);
        free(text);
    }
    ow_pmd_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_inflate), cmocka_unit_test(test_short_and_random),
        cmocka_unit_test(test_offer_screen),   cmocka_unit_test(test_frame_after),
        cmocka_unit_test(test_msg_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
