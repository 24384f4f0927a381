/*
 * snapshot — reading the wire format of the live picture. The engine writes it
 * (engine/picture.c, ow_picture_snapshot); feed and wallboard read it with ow_snapshot_parse.
 * docs/protocol.md documents it with examples. The fields decoded here are the ones every reader
 * needs; the engine publishes more (urgent clocks, alerts, technicians), which this parser ignores:
 *
 *   {"v":1,"type":"snapshot","seq":42,"now":"2026-11-22T01:15:02.120Z","now_ms":...,
 *    "mode":"live","open":{"emergency":3,"important":5,"general":10,"total":18},
 *    "orders_known":30,"events_applied":120,"last_event":"2026-...Z", ...}
 */
#ifndef OW_SNAPSHOT_H
#define OW_SNAPSHOT_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

/* LIVE: now is the wall clock. REPLAY: now is event time — the latest event ("replay") or the
 * N× replay clock ("replay_speed", with the `replay` member; docs/snapshot.md). */
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
    struct {
        bool on; /* an N× replay: show "REPLAY ×speed" and the progress */
        double speed;
        int64_t start_ms, end_ms; /* the replayed window, event time */
        double progress_pct;      /* 0-100 */
    } replay;
} ow_snapshot_view;

/* Decode a snapshot message (as published) into *out. OW_EINVAL with err on anything malformed. */
int ow_snapshot_parse(const char *text, size_t len, ow_snapshot_view *out, ow_err *err);

/* The same checks on an already parsed snapshot (borrowed), for readers that keep the tree
 * (the wallboard applies deltas to it and decodes every member it draws). */
int ow_snapshot_decode(const cJSON *root, ow_snapshot_view *out, ow_err *err);

#endif
