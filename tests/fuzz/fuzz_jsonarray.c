/*
 * fuzz_jsonarray — core/jsonarray.c on arbitrary bytes (HTTP bodies sent as a JSON array).
 *
 * Beyond "no crash, no leak, no UB": it ends (0 or OW_EINVAL, then keeps saying so); every
 * element is a non-empty slice of the input, in order, without blanks at either end, not
 * starting with ',' or ']'; a failure has a message; a body that does not start with '[' (after
 * blanks) yields no element.
 */
#include <string.h>

#include "fuzz_common.h"
#include "jsonarray.h"

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ow_jsonarray it;
    ow_jsonarray_init(&it, text, size);
    const char *e, *prev_end = text;
    size_t n;
    ow_err err;
    int rc;
    size_t count = 0;
    while ((rc = ow_jsonarray_next(&it, &e, &n, &err)) == 1) {
        count++;
        fuzz_require(count <= size, "no more elements than bytes");
        fuzz_require(e >= prev_end && e + n <= text + size, "elements are in order, inside");
        fuzz_require(n > 0, "elements are not empty");
        fuzz_require(!blank(e[0]) && !blank(e[n - 1]), "elements are trimmed");
        fuzz_require(e[0] != ',' && e[0] != ']', "an element does not start with , or ]");
        prev_end = e + n;
    }
    fuzz_require(rc == 0 || rc == OW_EINVAL, "it ends with 0 or EINVAL");
    if (rc) fuzz_require(strlen(err.msg) > 0, "a failure has a message");
    fuzz_require(ow_jsonarray_next(&it, &e, &n, NULL) == rc, "and keeps ending the same way");
    if (!ow_jsonarray_detect(text, size))
        fuzz_require(count == 0 && rc != 0, "not an array: no element");
    return 0;
}
