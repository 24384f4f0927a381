#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "timefmt.h"

/* Process-wide by nature (one stderr per process); set once at start-up. */
static const char *log_program = "opswall";
static ow_log_level log_min = OW_LOG_INFO;

void ow_log_init(const char *program, ow_log_level min_level)
{
    log_program = program;
    log_min = min_level;
    const char *env = getenv("OPSWALL_LOG");
    if (env && strcmp(env, "debug") == 0) log_min = OW_LOG_DEBUG;
}

void ow_log(ow_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < log_min) return;
    char when[OW_TIME_TEXT_MAX], line[2048];
    ow_time_format(ow_clock_wall_ms(), when);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s: %s\n", when, log_program, names[level], line);
}
