/*
 * jsonw — a small JSON writer for hot paths (alerts in a storm): appends to a growable buffer
 * without printf or a cJSON tree. Strings are escaped per RFC 8259; the caller writes the
 * structure ({, keys, commas) through the helpers below.
 *
 *   ow_jsonw w; ow_jsonw_init(&w);
 *   ow_jsonw_raw(&w, "{"); ow_jsonw_key(&w, "id"); ow_jsonw_str(&w, id); ... ow_jsonw_raw(&w, "}");
 *   char *text = ow_jsonw_take(&w);   // caller frees; NULL if any append ran out of memory
 */
#ifndef OW_JSONW_H
#define OW_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct ow_jsonw {
    ow_buf out;
    bool need_comma; /* a member was written at this level: the next key needs a comma */
} ow_jsonw;

void ow_jsonw_init(ow_jsonw *w);
void ow_jsonw_raw(ow_jsonw *w, const char *text);
/* Writes ,"key": as needed (call ow_jsonw_open/close around objects). */
void ow_jsonw_key(ow_jsonw *w, const char *key);
/* The same for a string-literal key that needs no escaping: quoted and measured at compile time
 * (an alert storm writes a dozen keys per alert, hundreds of thousands of alerts). */
#define OW_JSONW_KEY(w, lit) ow_jsonw_key_quoted((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)
void ow_jsonw_key_quoted(ow_jsonw *w, const char *quoted, size_t n);
void ow_jsonw_str(ow_jsonw *w, const char *s);
/* The bytes ow_jsonw_str writes for the n bytes at s, quotes not counted (size budgets measured
 * as stored: a quote or backslash takes 2, a control character up to 6). */
size_t ow_jsonw_str_len(const char *s, size_t n);
void ow_jsonw_int(ow_jsonw *w, int64_t v);
/* v rounded to `decimals` places (0..6), trailing zeros dropped ("81.2", "3"); null when v is not
 * finite, so "not enough data" reads as null, never as a number. */
void ow_jsonw_num(ow_jsonw *w, double v, int decimals);
void ow_jsonw_open(ow_jsonw *w);  /* "{" */
void ow_jsonw_close(ow_jsonw *w); /* "}" */
/* Empty the text but keep the buffer, for writing many texts one after another. */
void ow_jsonw_reset(ow_jsonw *w);
/* Release the buffer. */
void ow_jsonw_fini(ow_jsonw *w);
/* The text (NUL-terminated), owned by the caller; NULL on out of memory. Resets w. */
char *ow_jsonw_take(ow_jsonw *w);

#endif
