#include "xrecord.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonw.h"

static bool carried(ow_event_type t)
{
    switch (t) {
    case OW_EV_ORDER_CREATED:
    case OW_EV_ORDER_DISPATCHED:
    case OW_EV_ORDER_RESOLVED:
    case OW_EV_ORDER_REOPENED:
    case OW_EV_ORDER_CLOSED:
    case OW_EV_ORDER_CANCELLED:
    case OW_EV_COMPLAINT_CREATED: return true;
    default: return false;
    }
}

bool ow_xrec_wanted(const ow_event *e)
{
    /* an order created without a place or an address is never a pair's member */
    if (e->type == OW_EV_ORDER_CREATED) return e->has_geo || e->has_address;
    return carried(e->type);
}

static void put_double(ow_jsonw *w, bool has, double v)
{
    char num[40];
    /* 17 significant digits: the replica's distances are computed from the same doubles */
    if (has) snprintf(num, sizeof num, ",%.17g", v);
    ow_jsonw_raw(w, has ? num : ",null");
}

int ow_xrec_encode(const ow_event *e, int partition, ow_buf *out)
{
    bool complaint = e->type == OW_EV_COMPLAINT_CREATED;
    ow_jsonw w;
    ow_jsonw_init(&w);
    char head[96];
    snprintf(head, sizeof head, "[\"%s\",%d,\"%s\",%lld,", complaint ? "c" : "o", partition,
             ow_event_type_name(e->type), (long long)e->ts_ms);
    ow_jsonw_raw(&w, head);
    ow_jsonw_str(&w, complaint ? e->complaint_id : e->order_id);
    if (complaint) {
        ow_jsonw_raw(&w, ",");
        ow_jsonw_str(&w, e->category);
    } else if (e->type == OW_EV_ORDER_DISPATCHED) {
        ow_jsonw_raw(&w, ",");
        ow_jsonw_str(&w, e->tech_id);
    } else if (e->type == OW_EV_ORDER_CREATED) {
        ow_jsonw_raw(&w, ",");
        ow_jsonw_str(&w, e->category);
        ow_jsonw_raw(&w, ",");
        ow_jsonw_str(&w, e->region);
        put_double(&w, e->has_geo, e->lon);
        put_double(&w, e->has_geo, e->lat);
        char key[24] = ",null";
        if (e->has_address)
            snprintf(key, sizeof key, ",\"%016llx\"", (unsigned long long)e->address_key);
        ow_jsonw_raw(&w, key);
    }
    ow_jsonw_raw(&w, "]");
    bool oom = w.out.oom;
    if (!oom) ow_buf_put(out, w.out.p, w.out.n);
    ow_jsonw_fini(&w);
    return oom || out->oom ? OW_ENOMEM : OW_OK;
}

bool ow_xrec_is(const char *text, size_t len)
{
    return len > 0 && text[0] == '[';
}

static int bad(ow_err *err, int i, const char *what)
{
    return ow_err_set(err, OW_EINVAL, "cross-partition record: member %d: %s", i, what);
}

static int get_str(const cJSON *a, int i, char *out, size_t n, bool empty_ok, ow_err *err)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsString(v)) return bad(err, i, "expected a string");
    size_t len = strlen(v->valuestring);
    if (len >= n) return bad(err, i, "too long");
    if (!len && !empty_ok) return bad(err, i, "empty");
    for (size_t k = 0; k < len; k++) /* as the event codec: no control characters in ids, names */
        if ((unsigned char)v->valuestring[k] < 0x20 || v->valuestring[k] == 0x7f)
            return bad(err, i, "a control character");
    memcpy(out, v->valuestring, len + 1);
    return OW_OK;
}

static int get_coord(const cJSON *a, int i, double lim, bool *has, double *out, ow_err *err)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (cJSON_IsNull(v)) return OW_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > lim)
        return bad(err, i,
                   lim > 90 ? "expected a longitude or null" : "expected a latitude or null");
    *has = true;
    *out = v->valuedouble;
    return OW_OK;
}

static int decode(const cJSON *a, ow_xrec *x, ow_err *err)
{
    if (!cJSON_IsArray(a))
        return ow_err_set(err, OW_EINVAL, "cross-partition record: expected an array");
    int n = cJSON_GetArraySize(a);
    if (n < 5)
        return ow_err_set(err, OW_EINVAL, "cross-partition record: %d members, at least 5 expected",
                          n);
    char kind[4], type[32];
    int rc = get_str(a, 0, kind, sizeof kind, false, err);
    if (rc) return rc;
    if (strcmp(kind, "o") && strcmp(kind, "c"))
        return bad(err, 0, "kind is neither \"o\" nor \"c\"");
    x->kind = kind[0] == 'o' ? OW_XREC_ORDER : OW_XREC_COMPLAINT;
    int64_t v;
    if (!ow_json_int(cJSON_GetArrayItem(a, 1), 0, OW_XREC_PARTITIONS_MAX - 1, &v))
        return bad(err, 1, "expected a partition number (0 to 4095)");
    x->partition = (int)v;
    if ((rc = get_str(a, 2, type, sizeof type, false, err))) return rc;
    int t = ow_event_type_lookup(type);
    if (t < 0) return bad(err, 2, "unknown event type");
    x->type = (ow_event_type)t;
    /* the instants the event codec accepts: years 1970 to 9999 */
    if (!ow_json_int(cJSON_GetArrayItem(a, 3), 0, 253402300799999LL, &x->ts_ms))
        return bad(err, 3, "expected an instant (epoch ms)");
    if ((rc = get_str(a, 4, x->id, sizeof x->id, false, err))) return rc;
    int want;
    if (!carried(x->type) || (x->kind == OW_XREC_COMPLAINT) != (x->type == OW_EV_COMPLAINT_CREATED))
        return bad(err, 2, "not a type this kind of record carries");
    switch (x->type) {
    case OW_EV_ORDER_CREATED: want = 10; break;
    case OW_EV_ORDER_DISPATCHED:
    case OW_EV_COMPLAINT_CREATED: want = 6; break;
    default: want = 5; break;
    }
    if (n != want)
        return ow_err_set(err, OW_EINVAL, "cross-partition record: %s: %d members, %d expected",
                          type, n, want);
    if (x->type == OW_EV_ORDER_DISPATCHED)
        return get_str(a, 5, x->tech, sizeof x->tech, false, err);
    if (x->type == OW_EV_COMPLAINT_CREATED)
        return get_str(a, 5, x->category, sizeof x->category, true, err);
    if (x->type != OW_EV_ORDER_CREATED) return OW_OK;
    if ((rc = get_str(a, 5, x->category, sizeof x->category, true, err)) ||
        (rc = get_str(a, 6, x->region, sizeof x->region, true, err)) ||
        (rc = get_coord(a, 7, 180, &x->has_geo, &x->lon, err)))
        return rc;
    bool has_lat = false;
    if ((rc = get_coord(a, 8, 90, &has_lat, &x->lat, err))) return rc;
    if (has_lat != x->has_geo) return bad(err, 8, "longitude and latitude go together");
    const cJSON *k = cJSON_GetArrayItem(a, 9);
    if (!cJSON_IsNull(k)) {
        char hex[24], *end = NULL;
        if ((rc = get_str(a, 9, hex, sizeof hex, false, err))) return rc;
        if (strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
            return bad(err, 9, "expected 16 lower-case hex digits or null");
        x->address_key = strtoull(hex, &end, 16);
        x->has_address = true;
    }
    if (!x->has_geo && !x->has_address)
        return bad(err, 7, "an order.created record has a place or an address");
    return OW_OK;
}

int ow_xrec_decode(const char *text, size_t len, ow_xrec *out, ow_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > OW_XREC_MAX_BYTES)
        return ow_err_set(err, OW_ETOOBIG, "cross-partition record: %zu bytes, at most %d", len,
                          OW_XREC_MAX_BYTES);
    /* the shared feed tells a record from an event by its first byte: no white space before */
    if (!ow_xrec_is(text, len))
        return ow_err_set(err, OW_EINVAL, "cross-partition record: expected '[' first");
    cJSON *a = ow_json_parse(text, len, 2, err);
    if (!a) return OW_EINVAL;
    int rc = decode(a, out, err);
    cJSON_Delete(a);
    return rc;
}
