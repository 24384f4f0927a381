/*
 * snapshot — the wire format of the live picture, shared by engine (writes), feed and wallboard
 * (read). docs/protocol.md documents it with examples.
 *
 *   {"v":1,"type":"snapshot","seq":42,"now":"2026-11-22T01:15:02.120Z","now_ms":...,
 *    "mode":"live","open":{"emergency":3,"important":5,"general":10,"total":18},
 *    "orders_known":30,"events_applied":120,"last_event":"2026-...Z"}
 */
#ifndef OW_SNAPSHOT_H
#define OW_SNAPSHOT_H

#include <stdint.h>

#include "err.h"
#include "event.h"
#include "model.h"

typedef enum { OW_MODE_LIVE, OW_MODE_REPLAY } ow_mode;

/* The fields readers need, decoded. */
typedef struct ow_snapshot_view {
    int64_t seq;
    int64_t now_ms;
    ow_mode mode;
    int64_t open[OW_PRIO__COUNT];
    int64_t open_total;
    int64_t orders_known;
    int64_t events_applied;
} ow_snapshot_view;

/* Encode the model's picture. Returns a malloc'd NUL-terminated JSON string (caller frees with
 * free()), or NULL on out of memory. */
char *ow_snapshot_format(const ow_model *m, int64_t seq, int64_t now_ms, ow_mode mode);

/* Decode a snapshot message (as published) into *out. OW_EINVAL with err on anything malformed. */
int ow_snapshot_parse(const char *text, size_t len, ow_snapshot_view *out, ow_err *err);

#endif
