/*
 * fuzz_notify_template — template compile and render (ow_template_parse / _render).
 *
 * Input: template text, then a 0xff byte, then the value every placeholder renders to (the value
 * may hold any bytes but NUL). Oracles: a compiled template renders to exactly its literal text
 * plus one copy of the value per placeholder (no byte lost or invented), and rendering with
 * empty values gives back the text with every {{...}} removed.
 */
#include <string.h>

#include "fuzz_common.h"
#include "template.h"

static const char *const vars[] = {"count", "region", "d", "n", "who", NULL};
static const char *value;

static const char *lookup(void *ctx, const char *name)
{
    (void)name;
    ++*(size_t *)ctx;
    return value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xff, size);
    size_t tl = sep ? (size_t)(sep - data) : size;
    char *text = malloc(tl + 1), *val = malloc(size - tl + 1);
    if (!text || !val) return 0;
    memcpy(text, data, tl);
    text[tl] = '\0';
    size_t vl = sep ? size - tl - 1 : 0;
    memcpy(val, sep ? sep + 1 : data, vl);
    val[vl] = '\0';
    ow_template *t = NULL;
    ow_err err;
    int rc = ow_template_parse(text, vars, "templates.en.alert", &t, &err);
    if (rc) {
        fuzz_require(rc == OW_EINVAL, "EINVAL");
        fuzz_require(strncmp(err.msg, "templates.en.alert: ", 20) == 0, "names the path");
    } else {
        size_t calls = 0;
        ow_buf empty, full;
        ow_buf_init(&empty);
        ow_buf_init(&full);
        value = "";
        ow_template_render(t, lookup, &calls, &empty);
        size_t placeholders = calls;
        value = val;
        calls = 0;
        ow_template_render(t, lookup, &calls, &full);
        fuzz_require(calls == placeholders, "same placeholders each time");
        fuzz_require(full.n == empty.n + placeholders * strlen(val), "value copied whole");
        fuzz_require(empty.n <= strlen(text), "literal text only shrinks by its placeholders");
        fuzz_require(strcmp(ow_template_text(t), text) == 0, "source kept");
        ow_buf_fini(&empty);
        ow_buf_fini(&full);
        ow_template_free(t);
    }
    free(text);
    free(val);
    return 0;
}
