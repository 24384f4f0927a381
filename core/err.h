/*
 * err — one error list for all of opswall, and one way to carry a message for people.
 *
 * Functions that can fail return 0 (OW_OK) or a negative OW_E* code for control flow, and fill an
 * ow_err the caller owns with a message that names the input, the field and the fix, e.g.
 *   line 12: order.created: field "priority": expected one of emergency|important|general, got
 * "urgentt" Passing a NULL ow_err is allowed: the code is still returned, the message is dropped.
 */
#ifndef OW_ERR_H
#define OW_ERR_H

#include <stddef.h>

/* X-macro: the single table of error codes (libuv's UV_ERRNO_MAP idea). */
#define OW_ERR_MAP(X)                                                                              \
    X(OK, 0, "ok")                                                                                 \
    X(EINVAL, -1, "invalid input")                                                                 \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EIO, -3, "input/output error")                                                               \
    X(ERANGE, -4, "value out of range")                                                            \
    X(ENOTFOUND, -5, "not found")                                                                  \
    X(EREDIS, -6, "redis error")                                                                   \
    X(ETIMEOUT, -7, "timed out")                                                                   \
    X(ETOOBIG, -8, "too big")                                                                      \
    X(EDUP, -9, "duplicate")                                                                       \
    X(EAUTH, -10, "not authorised")                                                                \
    X(EAGAIN, -11, "try again")

enum {
#define OW_ERR_ENUM(name, code, text) OW_##name = code,
    OW_ERR_MAP(OW_ERR_ENUM)
#undef OW_ERR_ENUM
};

#define OW_ERR_MSG_MAX 512

typedef struct ow_err {
    int code;                 /* OW_OK or a negative OW_E* code */
    char msg[OW_ERR_MSG_MAX]; /* human message, NUL-terminated; "" when code == OW_OK */
} ow_err;

/* Reset to OW_OK with an empty message. */
void ow_err_clear(ow_err *err);

/* Set code and printf-style message; returns code so callers can `return ow_err_set(...)`. */
int ow_err_set(ow_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "prefix: " (adds the outer context, e.g. a file name). */
void ow_err_prefix(ow_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Short name of a code ("EINVAL"); never NULL. */
const char *ow_err_name(int code);

#endif
