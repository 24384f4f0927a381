/*
 * codec_bench — the event codec alone: ow_event_parse over every line of an NDJSON file, in
 * memory, one core. Prints one JSON line:
 *   {"bench":"codec.parse","lines":N,"rejected":R,"seconds":S,"per_s":N/S,"ns_per_line":...}
 *
 *   codec_bench FILE [ROUNDS]   (FILE e.g. from opswall-sim --seed 1 --count 200000 --out FILE;
 *                                ROUNDS, default 3, passes over the file; the fastest is kept)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "files.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: codec_bench FILE [ROUNDS]\n");
        return 2;
    }
    int rounds = argc == 3 ? atoi(argv[2]) : 3;
    if (rounds < 1) rounds = 1;
    char *text;
    size_t len;
    ow_err err;
    if (ow_file_read(argv[1], (size_t)1 << 31, &text, &len, &err)) {
        fprintf(stderr, "codec_bench: %s\n", err.msg);
        return 1;
    }
    ow_event *ev = malloc(sizeof *ev);
    if (!ev) {
        free(text);
        return 1;
    }
    long lines = 0, rejected = 0;
    int64_t best_us = -1;
    for (int r = 0; r < rounds; r++) {
        lines = rejected = 0;
        int64_t t0 = ow_clock_mono_us();
        for (const char *p = text, *end = text + len; p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (n) {
                lines++;
                if (ow_event_parse(p, n, ev, &err) != OW_OK) rejected++;
            }
            p += n + 1;
        }
        int64_t us = ow_clock_mono_us() - t0;
        if (best_us < 0 || us < best_us) best_us = us;
    }
    double s = (double)(best_us > 0 ? best_us : 1) / 1e6;
    printf("{\"bench\":\"codec.parse\",\"lines\":%ld,\"rejected\":%ld,\"seconds\":%.4f,"
           "\"per_s\":%.0f,\"ns_per_line\":%.0f}\n",
           lines, rejected, s, (double)lines / s, s * 1e9 / (double)(lines ? lines : 1));
    free(ev);
    free(text);
    return rejected ? 1 : 0;
}
