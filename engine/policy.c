#include "policy.h"

#include <string.h>

void ow_policy_from_config(ow_policy *p, const ow_config *cfg)
{
    memset(p, 0, sizeof *p);
    memcpy(p->target_ms, cfg->sla.target_ms, sizeof p->target_ms);
    memcpy(p->complaint_ms, cfg->sla.complaint_ms, sizeof p->complaint_ms);
    memcpy(p->pause_stops, cfg->sla.pause_stops, sizeof p->pause_stops);
    memcpy(p->overrides, cfg->sla.overrides, sizeof p->overrides);
    p->noverrides = cfg->sla.noverrides;
    p->calendar_stages = cfg->sla.calendar_stages;
    p->ncalendars = cfg->sla.ncalendars;
    for (int i = 0; i < p->ncalendars; i++) {
        memcpy(p->calendars[i].region, cfg->sla.calendars[i].region, sizeof p->calendars[i].region);
        p->calendars[i].cal = cfg->sla.calendars[i].cal;
    }
    p->analytics = cfg->analytics;
    p->city_name = cfg->city.name;
    p->flags = cfg->flags;
    p->closed_retention_ms = cfg->engine.closed_retention_ms;
}

static bool matches(const ow_sla_override *o, ow_segment seg, const char *category,
                    const char *region)
{
    return (o->segment < 0 || o->segment == (int)seg) &&
           (!o->category[0] || strcmp(o->category, category) == 0) &&
           (!o->region[0] || strcmp(o->region, region) == 0);
}

ow_priority ow_policy_priority(const ow_policy *p, ow_priority given, ow_segment seg,
                               const char *category, const char *region)
{
    int prio = (int)given;
    for (int i = 0; i < p->noverrides; i++) {
        const ow_sla_override *o = &p->overrides[i];
        if (!matches(o, seg, category, region)) continue;
        if (o->set_priority >= 0) return (ow_priority)o->set_priority;
        if (o->raise) {
            prio -= o->raise; /* emergency is 0: raising moves towards it */
            return (ow_priority)(prio < 0 ? 0 : prio);
        }
    }
    return (ow_priority)prio;
}

int64_t ow_policy_target(const ow_policy *p, ow_priority prio, ow_segment seg, const char *category,
                         const char *region, ow_stage stage)
{
    int64_t t = p->target_ms[prio][stage];
    bool have_set = false, have_scale = false, have_stages = false;
    for (int i = 0; i < p->noverrides; i++) {
        const ow_sla_override *o = &p->overrides[i];
        if (!matches(o, seg, category, region)) continue;
        if (!have_stages && o->only_stages) {
            /* the first matching list decides which clocks this class of order has at all */
            if (!(o->stages & (1u << stage))) return 0;
            have_stages = true;
        }
        if (!have_set && o->target_ms[stage]) {
            t = o->target_ms[stage];
            have_set = true;
        }
        if (!have_scale && o->scale_pct != 100) {
            t = t * o->scale_pct / 100;
            have_scale = true;
        }
    }
    return t;
}

const ow_calendar *ow_policy_calendar(const ow_policy *p, ow_stage stage, const char *region)
{
    if (!(p->calendar_stages & (1u << stage))) return NULL;
    const ow_calendar *fallback = NULL;
    for (int i = 0; i < p->ncalendars; i++) {
        if (strcmp(p->calendars[i].region, region) == 0) return &p->calendars[i].cal;
        if (strcmp(p->calendars[i].region, "default") == 0) fallback = &p->calendars[i].cal;
    }
    return fallback;
}
