/*
 * log — one line per message on stderr: "2026-11-22T01:15:02.120Z engine warn: text".
 * Programs call ow_log_init once with their name. Never log secrets (passwords, tokens).
 */
#ifndef OW_LOG_H
#define OW_LOG_H

typedef enum { OW_LOG_DEBUG, OW_LOG_INFO, OW_LOG_WARN, OW_LOG_ERROR } ow_log_level;

void ow_log_init(const char *program, ow_log_level min_level);
void ow_log(ow_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ow_info(...)  ow_log(OW_LOG_INFO, __VA_ARGS__)
#define ow_warn(...)  ow_log(OW_LOG_WARN, __VA_ARGS__)
#define ow_error(...) ow_log(OW_LOG_ERROR, __VA_ARGS__)
#define ow_debug(...) ow_log(OW_LOG_DEBUG, __VA_ARGS__)

#endif
