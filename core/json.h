/*
 * json — strict access to cJSON.
 *
 * cJSON accepts duplicate keys, matches keys case-insensitively and reports errors through a global
 * pointer. opswall reads all outside JSON through this layer instead: it rejects what cJSON lets
 * through (bad UTF-8, NUL bytes, excessive nesting, duplicate keys, trailing garbage) with a
 * message that says where, and looks keys up case-sensitively.
 */
#ifndef OW_JSON_H
#define OW_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Deepest nesting accepted by ow_json_parse (events need 2; config needs 5). */
#define OW_JSON_MAX_DEPTH 16

/*
 * Parse exactly `len` bytes of `text` (need not be NUL-terminated) as one JSON value.
 * Returns a tree the caller frees with cJSON_Delete, or NULL with `err` set (code OW_EINVAL).
 * Rejected: empty input, NUL bytes, invalid UTF-8, depth > max_depth, duplicate object keys,
 * anything but whitespace after the value.
 */
cJSON *ow_json_parse(const char *text, size_t len, int max_depth, ow_err *err);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
 * On false, *bad_off (if not NULL) is the offset of the first bad byte. */
bool ow_json_utf8_valid(const char *s, size_t n, size_t *bad_off);

/* Case-sensitive member lookup; NULL when absent or obj is not an object. Borrowed pointer. */
cJSON *ow_json_get(const cJSON *obj, const char *key);

/* Name of a cJSON value's type for messages: "string", "number", "object", ... */
const char *ow_json_type_name(const cJSON *v);

/* True when v is a number with an exact integer value in [min, max]; stores it in *out. */
bool ow_json_int(const cJSON *v, int64_t min, int64_t max, int64_t *out);

/* Write v as JSON text for a message, truncated to fit out[n] with "..." (never NULL-terminated
 * incorrectly; n must be >= 8). */
void ow_json_quote(const cJSON *v, char *out, size_t n);

/* OW_OK when every member of obj is one of keys (NULL-terminated); else OW_EINVAL naming the
 * first stranger and the known keys: "source: path.key: unknown key (a typo?); known keys: ...".
 * path may be "" (top level). */
int ow_json_only_keys(const cJSON *obj, const char *const *keys, const char *path,
                      const char *source, ow_err *err);

#endif
