#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ow_err_clear(ow_err *err)
{
    if (!err) return;
    err->code = OW_OK;
    err->msg[0] = '\0';
}

int ow_err_set(ow_err *err, int code, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void ow_err_prefix(ow_err *err, const char *fmt, ...)
{
    if (!err) return;
    char head[OW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    /* Build "head: tail" by hand; the result is cut at OW_ERR_MSG_MAX on purpose. */
    char tail[OW_ERR_MSG_MAX];
    memcpy(tail, err->msg, sizeof tail);
    size_t hl = strlen(head), tl = strlen(tail), cap = sizeof err->msg - 1;
    size_t o = 0;
    for (size_t i = 0; i < hl && o < cap; i++)
        err->msg[o++] = head[i];
    for (size_t i = 0; i < 2 && o < cap; i++)
        err->msg[o++] = ": "[i];
    for (size_t i = 0; i < tl && o < cap; i++)
        err->msg[o++] = tail[i];
    err->msg[o] = '\0';
}

const char *ow_err_name(int code)
{
    switch (code) {
#define OW_ERR_CASE(name, c, text)                                                                 \
    case c: return #name;
        OW_ERR_MAP(OW_ERR_CASE)
#undef OW_ERR_CASE
    }
    return "EUNKNOWN";
}
