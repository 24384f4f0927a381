#include "coarsen.h"

#include <string.h>

void ow_coarsen_init(ow_coarsen *c)
{
    c->centers = NULL;
}

void ow_coarsen_fini(ow_coarsen *c)
{
    cJSON_Delete(c->centers);
    c->centers = NULL;
}

static bool is_lonlat(const cJSON *v)
{
    return cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsNumber(v->child) &&
           cJSON_IsNumber(v->child->next);
}

bool ow_coarsen_learn(ow_coarsen *c, const cJSON *regions)
{
    if (!cJSON_IsArray(regions)) return true;
    cJSON *centers = cJSON_CreateObject();
    if (!centers) return false;
    const cJSON *r;
    cJSON_ArrayForEach(r, regions)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(r, "center");
        if (!cJSON_IsString(id) || !is_lonlat(ctr) ||
            cJSON_GetObjectItemCaseSensitive(centers, id->valuestring))
            continue;
        cJSON *copy = cJSON_Duplicate(ctr, true);
        if (!copy || !cJSON_AddItemToObject(centers, id->valuestring, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(centers);
            return false;
        }
    }
    cJSON_Delete(c->centers);
    c->centers = centers;
    return true;
}

/* Replace row[1], row[2] with the centre's numbers, or null. */
static bool coarsen_row(const ow_coarsen *c, cJSON *row)
{
    const cJSON *region = cJSON_GetArrayItem(row, 4);
    const cJSON *ctr = cJSON_IsString(region) && c->centers
                           ? cJSON_GetObjectItemCaseSensitive(c->centers, region->valuestring)
                           : NULL;
    for (int i = 1; i <= 2; i++) {
        cJSON *v = ctr ? cJSON_CreateNumber(cJSON_GetArrayItem(ctr, i - 1)->valuedouble)
                       : cJSON_CreateNull();
        if (!v || !cJSON_ReplaceItemInArray(row, i, v)) {
            cJSON_Delete(v);
            return false;
        }
    }
    return true;
}

bool ow_coarsen_techs(const ow_coarsen *c, cJSON *techs_pos)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(techs_pos, "list");
    bool shaped = cJSON_IsObject(techs_pos) && cJSON_IsArray(list);
    if (shaped) {
        cJSON *row = list->child;
        while (row) {
            cJSON *next = row->next;
            if (cJSON_IsArray(row) && cJSON_GetArraySize(row) >= 3) {
                if (!coarsen_row(c, row)) return false;
            } else {
                cJSON_Delete(cJSON_DetachItemViaPointer(list, row)); /* unknown shape: dropped */
            }
            row = next;
        }
        /* anything but at and list could carry positions in a later format: keep only those */
        cJSON *m = techs_pos->child;
        while (m) {
            cJSON *next = m->next;
            if (!m->string || (strcmp(m->string, "at") != 0 && strcmp(m->string, "list") != 0))
                cJSON_Delete(cJSON_DetachItemViaPointer(techs_pos, m));
            m = next;
        }
        return true;
    }
    /* not the documented shape: make it an empty {"list":[]} in place */
    cJSON_Delete(techs_pos->child);
    techs_pos->child = NULL;
    if (techs_pos->valuestring && !(techs_pos->type & cJSON_IsReference))
        cJSON_free(techs_pos->valuestring);
    techs_pos->valuestring = NULL;
    techs_pos->type = cJSON_Object;
    return cJSON_AddArrayToObject(techs_pos, "list") != NULL;
}

static bool position_name(const char *s)
{
    static const char *const names[] = {"lon", "lat", "lonlat", "pos", "position"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) return true;
    return false;
}

static bool strip(const ow_coarsen *c, cJSON *node, int depth)
{
    if (depth > 64) return true; /* parsers limit depth; nothing deeper exists */
    for (cJSON *m = node ? node->child : NULL, *next; m; m = next) {
        next = m->next;
        if (m->string && strcmp(m->string, "techs_pos") == 0) {
            if (!ow_coarsen_techs(c, m)) return false;
        } else if (m->string && position_name(m->string)) {
            /* in place, so the member keeps its name and its place */
            cJSON_Delete(m->child);
            m->child = NULL;
            if (m->valuestring && !(m->type & cJSON_IsReference)) cJSON_free(m->valuestring);
            m->valuestring = NULL;
            m->type = cJSON_NULL | (m->type & cJSON_StringIsConst);
        } else if (cJSON_IsObject(m) || cJSON_IsArray(m)) {
            if (!strip(c, m, depth + 1)) return false;
        }
    }
    return true;
}

bool ow_coarsen_strip(const ow_coarsen *c, cJSON *doc)
{
    return strip(c, doc, 0);
}
