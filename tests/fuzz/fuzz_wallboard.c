/*
 * fuzz_wallboard — the wallboard's two parsers of outside input on arbitrary bytes: the snapshot
 * decoder (wallboard/scene.h) and the layout file (wallboard/pages.h).
 *
 * Invariants: a decoded scene never holds more entries than its caps, its counts are non-negative
 * and every string is NUL-terminated inside its buffer (checked by strlen bounds); a refused
 * member has its has_* flag false. An accepted layout has 1..OW_PAGES_MAX pages, each panel a known
 * kind inside the grid, and no two panels of a page overlap. Refusals carry a message.
 */
#include <string.h>

#include "fuzz_common.h"
#include "pages.h"
#include "scene.h"

static void check_scene(const ow_scene *s)
{
    fuzz_require(s->nregions >= 0 && s->nregions <= OW_SCENE_REGIONS_MAX, "regions cap");
    fuzz_require(s->ntechs_pos >= 0 && s->ntechs_pos <= OW_SCENE_TECHS_MAX, "techs cap");
    fuzz_require(s->ncells >= 0 && s->ncells <= OW_SCENE_CELLS_MAX, "cells cap");
    fuzz_require(s->nflags >= 0 && s->nflags <= OW_SCENE_FLAGS_MAX, "flags cap");
    fuzz_require(s->nescalations >= 0 && s->nescalations <= OW_SCENE_ESC_MAX, "escalations cap");
    fuzz_require(s->nurgent >= 0 && s->nurgent <= OW_SCENE_URGENT_MAX, "urgent cap");
    for (int i = 0; i < s->ncells; i++)
        fuzz_require(s->cells[i].col >= 0 && s->cells[i].col < s->heat_cols &&
                         s->cells[i].row >= 0 && s->cells[i].row < s->heat_rows,
                     "cell inside the grid");
    for (int i = 0; i < s->ntechs_pos; i++)
        fuzz_require(s->techs_pos[i].status < OW_TECH__COUNT, "tech status");
    for (int i = 0; i < s->nflags; i++)
        fuzz_require(strlen(s->flags[i].summary) < OW_SCENE_SUMMARY_BUF && s->flags[i].level >= 0 &&
                         s->flags[i].level <= 3,
                     "flag fields");
    for (int i = 0; i < s->nregions; i++)
        fuzz_require(strlen(s->regions[i].name_zh) < OW_SCENE_NAME_BUF && s->regions[i].id[0],
                     "region fields");
    for (int k = 0; k < OW_SPARK__COUNT; k++)
        fuzz_require(s->spark_n[k] >= 0 && s->spark_n[k] <= OW_SCENE_SPARK_MAX, "spark cap");
    if (s->has_replay) fuzz_require(s->replay_progress_pct <= 100, "replay progress at most 100");
    fuzz_require(strlen(s->bad) < sizeof s->bad, "bad list terminated");
}

static void check_pages(const ow_pages *p)
{
    fuzz_require(p->npages >= 1 && p->npages <= OW_PAGES_MAX, "page count");
    for (int i = 0; i < p->npages; i++) {
        const ow_page *pg = &p->pages[i];
        fuzz_require(pg->npanels >= 1 && pg->npanels <= OW_PAGE_PANELS_MAX, "panel count");
        for (int j = 0; j < pg->npanels; j++) {
            const ow_page_panel *a = &pg->panels[j];
            fuzz_require(a->kind < OW_PANEL__COUNT, "panel kind");
            fuzz_require(a->col >= 0 && a->row >= 0 && a->cols >= 1 && a->rows >= 1 &&
                             a->col + a->cols <= p->cols && a->row + a->rows <= p->rows,
                         "panel inside the grid");
            for (int k = 0; k < j; k++) {
                const ow_page_panel *b = &pg->panels[k];
                fuzz_require(!(a->col < b->col + b->cols && b->col < a->col + a->cols &&
                               a->row < b->row + b->rows && b->row < a->row + a->rows),
                             "panels apart");
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_err err;
    ow_err_clear(&err);
    ow_scene *s = ow_scene_parse((const char *)data, size, &err);
    if (s)
        check_scene(s);
    else
        fuzz_require(err.msg[0] != '\0', "a refused snapshot has a message");
    ow_scene_free(s);
    ow_pages p;
    ow_err_clear(&err);
    if (ow_pages_parse((const char *)data, size, "fuzz", &p, &err) == OW_OK)
        check_pages(&p);
    else
        fuzz_require(err.msg[0] != '\0', "a refused layout has a message");
    return 0;
}
