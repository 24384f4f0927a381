#include "jsonarray.h"

#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_blank(ow_jsonarray *it)
{
    while (it->off < it->len && blank(it->text[it->off]))
        it->off++;
}

bool ow_jsonarray_detect(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && blank(text[i]))
        i++;
    return i < len && text[i] == '[';
}

void ow_jsonarray_init(ow_jsonarray *it, const char *text, size_t len)
{
    memset(it, 0, sizeof *it);
    it->text = text;
    it->len = len;
}

static int fail(ow_jsonarray *it, ow_err *err, const char *what)
{
    it->done = it->failed = true;
    it->off = it->len;
    return ow_err_set(err, OW_EINVAL, "body: not a JSON array of events: %s (element %lld)", what,
                      (long long)it->index + 1);
}

/* Scan one element from it->off; on success it->off is at the ',' or ']' that ends it. */
static int scan_element(ow_jsonarray *it, ow_err *err)
{
    int depth = 0;
    bool in_str = false;
    for (; it->off < it->len; it->off++) {
        char c = it->text[it->off];
        if (in_str) {
            if (c == '\\')
                it->off++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"': in_str = true; break;
        case '{':
        case '[':
            if (++depth > OW_JSONARRAY_MAX_DEPTH) return fail(it, err, "nested too deep");
            break;
        case '}':
        case ']':
            if (depth == 0) {
                if (c == '}') return fail(it, err, "unbalanced '}'");
                return OW_OK;
            }
            depth--;
            break;
        case ',':
            if (depth == 0) return OW_OK;
            break;
        default: break;
        }
    }
    return fail(it, err, in_str ? "unterminated string" : "missing ']' at the end");
}

/* After the closing ']': only blanks may follow. */
static int close_array(ow_jsonarray *it, ow_err *err)
{
    skip_blank(it);
    if (it->off < it->len) return fail(it, err, "text after the closing ']'");
    it->done = true;
    return 0;
}

int ow_jsonarray_next(ow_jsonarray *it, const char **elem, size_t *n, ow_err *err)
{
    if (it->done) return it->failed ? fail(it, err, "malformed (see the first error)") : 0;
    if (it->closing) return close_array(it, err);
    if (!it->started) {
        skip_blank(it);
        if (it->off >= it->len || it->text[it->off] != '[')
            return fail(it, err, "it must start with '['");
        it->off++;
        it->started = true;
        skip_blank(it);
        if (it->off < it->len && it->text[it->off] == ']') {
            it->off++;
            return close_array(it, err);
        }
    }
    skip_blank(it);
    size_t start = it->off;
    if (start >= it->len) return fail(it, err, "missing ']' at the end");
    if (it->text[start] == ',' || it->text[start] == ']') return fail(it, err, "empty element");
    int rc = scan_element(it, err);
    if (rc) return rc;
    size_t end = it->off;
    while (end > start && blank(it->text[end - 1]))
        end--;
    *elem = it->text + start;
    *n = end - start;
    it->index++;
    if (it->text[it->off++] == ']') it->closing = true;
    return 1;
}
