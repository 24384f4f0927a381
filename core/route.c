#include "route.h"

#include <stdio.h>
#include <string.h>

static void to_partition(ow_route *r, int p)
{
    r->kind = OW_ROUTE_PARTITION;
    r->partition = p;
}

static void to_lookup(ow_route *r, const char *kind, const char *id, int fallback)
{
    r->kind = OW_ROUTE_LOOKUP;
    r->lookup_kind = kind;
    r->lookup_id = id;
    r->fallback = fallback;
}

static int hashed(const ow_partition_table *t, const char *id)
{
    return (int)(ow_partition_hash(id, strlen(id)) % (uint32_t)t->n);
}

void ow_route_event(const ow_partition_table *t, const ow_event *e, ow_route *out)
{
    memset(out, 0, sizeof *out);
    out->fallback = -1;
    switch (e->type) {
    case OW_EV_TECH_STATUS:
    case OW_EV_TECH_LOCATION:
    case OW_EV_PARTS_STOCK: out->kind = OW_ROUTE_SHARED; return;
    case OW_EV_ORDER_CREATED:
        to_partition(out, ow_partition_of(t, e->region));
        out->record_kind = "order";
        out->record_id = e->order_id;
        break;
    case OW_EV_COMPLAINT_CREATED:
        if (e->region[0])
            to_partition(out, ow_partition_of(t, e->region));
        else if (e->order_id[0])
            to_lookup(out, "order", e->order_id, hashed(t, e->complaint_id));
        else
            to_partition(out, hashed(t, e->complaint_id));
        out->record_kind = "complaint";
        out->record_id = e->complaint_id;
        break;
    case OW_EV_COMPLAINT_RESPONDED: to_lookup(out, "complaint", e->complaint_id, -1); break;
    default: /* every other order.* event names only its order */
        to_lookup(out, "order", e->order_id, -1);
        break;
    }
    /* one partition: nothing to look up or record, nothing can be parked */
    if (t->n == 1) {
        if (out->kind == OW_ROUTE_LOOKUP) to_partition(out, 0);
        out->record_kind = out->record_id = NULL;
    }
}

int ow_route_directory_key(char *out, size_t n, const char *kind, const char *id)
{
    int w = snprintf(out, n, "ops:dir:{%s:%s}", kind, id);
    if (w < 0 || (size_t)w >= n) {
        if (n) out[0] = '\0';
        return OW_ETOOBIG;
    }
    return w;
}
