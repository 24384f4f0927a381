/*
 * fuzz_lineframe — core/lineframe.c on arbitrary bytes cut into arbitrary pieces (the first two
 * bytes choose the piece size and the line cap), as TCP reads and HTTP bodies arrive.
 *
 * Beyond "no crash, no leak, no UB": every line's kept bytes are the input's bytes at the line's
 * start, kept ≤ cap and kept == total unless cut at cap; each line ends at "\n" or "\r\n" (or the
 * end of input), line numbers count up by one, and the lines cover the whole input.
 */
#include <string.h>

#include "fuzz_common.h"
#include "lineframe.h"

static size_t off;
static int64_t expect_no;

static void check_line(const uint8_t *in, size_t n, size_t cap, const ow_line *l, bool last)
{
    fuzz_require(l->lineno == ++expect_no, "line numbers count up by one");
    fuzz_require(l->len <= cap && l->len <= l->total, "kept <= cap and <= total");
    fuzz_require(l->len == l->total || l->len == cap, "only a line over cap is cut");
    fuzz_require(off + l->total <= n, "a line lies inside the input");
    fuzz_require(memcmp(l->text, in + off, l->len) == 0, "kept bytes are the input's");
    fuzz_require(memchr(in + off, '\n', l->total) == NULL, "no newline inside a line");
    size_t end = off + l->total;
    if (end < n && in[end] == '\r') {
        fuzz_require(end + 1 == n ? last : in[end + 1] == '\n', "a stripped CR ends the line");
        end++;
    }
    if (end < n) {
        fuzz_require(in[end] == '\n', "a line ends at a newline");
        end++;
    } else {
        fuzz_require(last, "only the last line may lack a newline");
    }
    off = end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t piece = (size_t)data[0] % 64 + 1, cap = (size_t)data[1] % 32 + 1;
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    ow_lineframe f;
    if (ow_lineframe_init(&f, cap)) return 0;
    off = 0;
    expect_no = 0;
    ow_line l;
    for (size_t p = 0; p < n; p += piece) {
        ow_lineframe_feed(&f, (const char *)in + p, n - p < piece ? n - p : piece);
        while (ow_lineframe_next(&f, &l))
            check_line(in, n, cap, &l, false);
        fuzz_require(ow_lineframe_pending(&f) <= cap, "a partial line holds at most cap bytes");
    }
    if (ow_lineframe_finish(&f, &l)) check_line(in, n, cap, &l, true);
    fuzz_require(off == n, "the lines cover the whole input");
    ow_lineframe_fini(&f);
    return 0;
}
