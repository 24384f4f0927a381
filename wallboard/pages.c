#include "pages.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "timefmt.h"

static const char *const panel_names[OW_PANEL__COUNT] = {
    [OW_PANEL_OPEN] = "open",
    [OW_PANEL_KPI] = "kpi",
    [OW_PANEL_MAP] = "map",
    [OW_PANEL_SLA] = "sla",
    [OW_PANEL_ESCALATIONS] = "escalations",
    [OW_PANEL_FLAGS] = "flags",
    [OW_PANEL_TECHS] = "techs",
    [OW_PANEL_SPARK] = "spark",
    [OW_PANEL_REGIONS] = "regions",
};

const char *ow_panel_name(ow_panel_kind k)
{
    return k < OW_PANEL__COUNT ? panel_names[k] : "?";
}

static int parse_panel(const cJSON *v, const char *source, const char *path, int cols, int rows,
                       ow_page_panel *out, ow_err *err)
{
    static const char *const keys[] = {"panel", "at", NULL};
    if (!cJSON_IsObject(v))
        return ow_err_set(err, OW_EINVAL,
                          "%s: %s: expected an object {\"panel\":..., \"at\":[...]}", source, path);
    int rc = ow_json_only_keys(v, keys, path, source, err);
    if (rc) return rc;
    const cJSON *name = ow_json_get(v, "panel"), *at = ow_json_get(v, "at");
    char quoted[64];
    if (!cJSON_IsString(name)) {
        ow_json_quote(name, quoted, sizeof quoted);
        return ow_err_set(
            err, OW_EINVAL,
            "%s: %s.panel: expected a panel name (open, kpi, map, sla, escalations, flags, "
            "techs, spark, regions), got %s",
            source, path, name ? quoted : "nothing");
    }
    int kind = -1;
    for (int k = 0; k < OW_PANEL__COUNT; k++)
        if (strcmp(name->valuestring, panel_names[k]) == 0) kind = k;
    if (kind < 0) {
        ow_json_quote(name, quoted, sizeof quoted);
        return ow_err_set(
            err, OW_EINVAL,
            "%s: %s.panel: expected one of open|kpi|map|sla|escalations|flags|techs|spark|"
            "regions, got %s",
            source, path, quoted);
    }
    int64_t n[4];
    int i = 0;
    if (!cJSON_IsArray(at) || cJSON_GetArraySize(at) != 4)
        return ow_err_set(err, OW_EINVAL,
                          "%s: %s.at: expected [col, row, cols, rows] in grid cells", source, path);
    for (const cJSON *e = at->child; e; e = e->next, i++)
        if (!ow_json_int(e, i < 2 ? 0 : 1, OW_PAGES_GRID_MAX, &n[i]))
            return ow_err_set(err, OW_EINVAL, "%s: %s.at[%d]: expected an integer %s", source, path,
                              i, i < 2 ? "from 0" : "from 1");
    if (n[0] + n[2] > cols || n[1] + n[3] > rows)
        return ow_err_set(err, OW_EINVAL,
                          "%s: %s.at: [%lld, %lld, %lld, %lld] reaches outside the %dx%d grid",
                          source, path, (long long)n[0], (long long)n[1], (long long)n[2],
                          (long long)n[3], cols, rows);
    *out = (ow_page_panel){(ow_panel_kind)kind, (int)n[0], (int)n[1], (int)n[2], (int)n[3]};
    return OW_OK;
}

static bool overlap(const ow_page_panel *a, const ow_page_panel *b)
{
    return a->col < b->col + b->cols && b->col < a->col + a->cols && a->row < b->row + b->rows &&
           b->row < a->row + a->rows;
}

static int parse_page(const cJSON *v, const char *source, int idx, const ow_pages *all,
                      ow_page *out, ow_err *err)
{
    static const char *const keys[] = {"name", "dwell", "panels", NULL};
    char path[64];
    snprintf(path, sizeof path, "pages[%d]", idx);
    if (!cJSON_IsObject(v))
        return ow_err_set(err, OW_EINVAL, "%s: %s: expected an object with name, dwell and panels",
                          source, path);
    int rc = ow_json_only_keys(v, keys, path, source, err);
    if (rc) return rc;
    const cJSON *name = ow_json_get(v, "name"), *dwell = ow_json_get(v, "dwell");
    const cJSON *panels = ow_json_get(v, "panels");
    if (!cJSON_IsString(name) || !name->valuestring[0] ||
        strlen(name->valuestring) >= OW_PAGE_NAME_BUF)
        return ow_err_set(err, OW_EINVAL, "%s: %s.name: expected a name of 1 to %d bytes", source,
                          path, OW_PAGE_NAME_BUF - 1);
    snprintf(out->name, sizeof out->name, "%s", name->valuestring);
    out->dwell_ms = 30000;
    if (dwell) {
        if (!cJSON_IsString(dwell) || ow_duration_parse(dwell->valuestring, &out->dwell_ms, NULL) ||
            out->dwell_ms < OW_PAGES_DWELL_MIN || out->dwell_ms > OW_PAGES_DWELL_MAX)
            return ow_err_set(
                err, OW_EINVAL,
                "%s: %s.dwell: expected a duration like \"30s\" or \"2m\", from 2s to 1h", source,
                path);
    }
    if (!cJSON_IsArray(panels) || cJSON_GetArraySize(panels) < 1 ||
        cJSON_GetArraySize(panels) > OW_PAGE_PANELS_MAX)
        return ow_err_set(err, OW_EINVAL, "%s: %s.panels: expected an array of 1 to %d panels",
                          source, path, OW_PAGE_PANELS_MAX);
    int i = 0;
    for (const cJSON *e = panels->child; e; e = e->next, i++) {
        char ppath[96];
        snprintf(ppath, sizeof ppath, "%s.panels[%d]", path, i);
        if ((rc = parse_panel(e, source, ppath, all->cols, all->rows, &out->panels[i], err)))
            return rc;
        for (int j = 0; j < i; j++)
            if (overlap(&out->panels[i], &out->panels[j]))
                return ow_err_set(err, OW_EINVAL, "%s: %s.at: overlaps %s.panels[%d] (%s)", source,
                                  ppath, path, j, panel_names[out->panels[j].kind]);
    }
    out->npanels = i;
    for (int j = 0; j < idx; j++)
        if (strcmp(all->pages[j].name, out->name) == 0)
            return ow_err_set(err, OW_EINVAL, "%s: %s.name: \"%s\" is also the name of pages[%d]",
                              source, path, out->name, j);
    return OW_OK;
}

int ow_pages_parse(const char *text, size_t len, const char *source, ow_pages *out, ow_err *err)
{
    memset(out, 0, sizeof *out);
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 8, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "%s: %s", source, jerr.msg);
    static const char *const keys[] = {"grid", "pages", NULL};
    static const char *const grid_keys[] = {"cols", "rows", NULL};
    int rc = OW_OK;
    const cJSON *grid = ow_json_get(root, "grid"), *pages = ow_json_get(root, "pages");
    int64_t cols, rows;
    if (!cJSON_IsObject(root)) {
        rc = ow_err_set(err, OW_EINVAL, "%s: expected an object with grid and pages", source);
        goto out;
    }
    if ((rc = ow_json_only_keys(root, keys, "", source, err))) goto out;
    if (!cJSON_IsObject(grid)) {
        rc = ow_err_set(err, OW_EINVAL, "%s: grid: expected {\"cols\": N, \"rows\": N}", source);
        goto out;
    }
    if ((rc = ow_json_only_keys(grid, grid_keys, "grid", source, err))) goto out;
    if (!ow_json_int(ow_json_get(grid, "cols"), 1, OW_PAGES_GRID_MAX, &cols) ||
        !ow_json_int(ow_json_get(grid, "rows"), 1, OW_PAGES_GRID_MAX, &rows)) {
        rc = ow_err_set(err, OW_EINVAL, "%s: grid: cols and rows must be integers from 1 to %d",
                        source, OW_PAGES_GRID_MAX);
        goto out;
    }
    out->cols = (int)cols;
    out->rows = (int)rows;
    if (!cJSON_IsArray(pages) || cJSON_GetArraySize(pages) < 1 ||
        cJSON_GetArraySize(pages) > OW_PAGES_MAX) {
        rc = ow_err_set(err, OW_EINVAL, "%s: pages: expected an array of 1 to %d pages", source,
                        OW_PAGES_MAX);
        goto out;
    }
    int i = 0;
    for (const cJSON *e = pages->child; e; e = e->next, i++) {
        if ((rc = parse_page(e, source, i, out, &out->pages[i], err))) goto out;
        out->npages = i + 1;
    }
out:
    cJSON_Delete(root);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int ow_pages_at(const ow_pages *p, int64_t elapsed_ms, int64_t *next_change_ms)
{
    if (p->npages <= 1) {
        if (next_change_ms) *next_change_ms = INT64_MAX;
        return 0;
    }
    int64_t cycle = 0;
    for (int i = 0; i < p->npages; i++)
        cycle += p->pages[i].dwell_ms;
    int64_t t = elapsed_ms < 0 ? 0 : elapsed_ms % cycle, start = elapsed_ms - t;
    for (int i = 0; i < p->npages; i++) {
        if (t < p->pages[i].dwell_ms) {
            if (next_change_ms) *next_change_ms = start + p->pages[i].dwell_ms;
            return i;
        }
        t -= p->pages[i].dwell_ms;
        start += p->pages[i].dwell_ms;
    }
    return 0;
}
