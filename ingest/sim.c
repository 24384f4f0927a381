/*
 * sim.c — the generator behind opswall-sim (see sim.h; the story is in docs/simulator.md).
 *
 * Why one file of ~2000 lines: the city tables, the line writer and the lifecycle state machine
 * share one private state (struct ow_sim) and are read together; splitting them would only export
 * that state (if it grows, the tables go first, to a sim_city.c). Reading order: tables → random
 * numbers → the queue of future steps → the line writer → orders and technicians → the driver
 * (ow_sim_next).
 *
 * Determinism: every random draw comes from one xoshiro256** stream seeded from cfg.seed, drawn in
 * a fixed order; the queue breaks ties by insertion sequence; floating point uses only + - * /,
 * sqrt, floor and frexp (the logarithm is our own series), which IEEE 754 makes exact everywhere.
 */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* ------------------------------------------------------------------------------------------ */
/* The sample city (assets/cities/sample/regions.geojson): regions, roads, depots.             */

typedef struct {
    double lon0, lat0, lon1, lat1;
} box;

enum { R_NORTH, R_EAST, R_CENTRAL, R_OLDTOWN, R_WEST, R_SOUTH, R_HARBOR, R__COUNT };
enum { D_NORTH, D_CENTRAL, D_SOUTH, D__COUNT };

/* Boxes lie inside each region's polygon (central's avoid the Old Town hole); points are drawn
 * at least BOX_MARGIN degrees inside a box, so every point is strictly inside its region. */
#define BOX_MARGIN 0.002
static const struct region_def {
    const char *id, *name_zh;
    double weight;  /* share of customers (population) */
    bool low_lying; /* floods first in a rainstorm */
    int depot;
    int nbox;
    box boxes[4];
    const char *roads[4];
} regions[R__COUNT] = {
    /* clang-format off */
    [R_NORTH]   = {"north",   "北苑区", 0.18, false, D_NORTH,   1, {{121.30, 31.31, 121.55, 31.40}},
                   {"北苑路", "和平路", "春晖路", "北环大道"}},
    [R_EAST]    = {"east",    "东岸区", 0.16, false, D_NORTH,   1, {{121.55, 31.22, 121.70, 31.40}},
                   {"东岸大道", "滨江路", "新港路", "朝阳路"}},
    [R_CENTRAL] = {"central", "中山区", 0.21, true,  D_CENTRAL, 4, {{121.42, 31.20, 121.46, 31.30},
                                                                    {121.51, 31.20, 121.55, 31.30},
                                                                    {121.46, 31.20, 121.51, 31.23},
                                                                    {121.46, 31.27, 121.51, 31.30}},
                   {"中山路", "人民路", "解放路", "建设路"}},
    [R_OLDTOWN] = {"oldtown", "老城厢", 0.10, true,  D_CENTRAL, 1, {{121.46, 31.23, 121.51, 31.27}},
                   {"老街", "文庙路", "方浜路", "城隍庙弄"}},
    [R_WEST]    = {"west",    "西郊区", 0.12, false, D_CENTRAL, 1, {{121.30, 31.20, 121.42, 31.30}},
                   {"西郊路", "枫林路", "金沙路", "虹桥路"}},
    [R_SOUTH]   = {"south",   "南湖区", 0.14, true,  D_SOUTH,   1, {{121.30, 31.10, 121.55, 31.20}},
                   {"南湖路", "莲花路", "翠湖路", "南环大道"}},
    [R_HARBOR]  = {"harbor",  "港湾区", 0.09, true,  D_SOUTH,   2, {{121.55, 31.10, 121.70, 31.22},
                                                                    {121.73, 31.14, 121.78, 31.19}},
                   {"港湾路", "海港大道", "渔港路", "鹭岛环岛路"}},
    /* clang-format on */
};
#define ISLAND_LON       121.72   /* east of this: Egret Island (harbor), a ferry ride away */
#define FORGOTTEN_REGION R_HARBOR /* the remote district dispatchers forget */

static const char *const depot_names[D__COUNT] = {"depot-north", "depot-central", "depot-south"};

static const char *const communities[] = {
    "锦绣花园", "阳光新城", "翠苑",   "东方苑",   "金桥小区", "幸福里", "绿洲家园", "春江花园",
    "和平新村", "梅园",     "兰亭苑", "滨江一号", "香樟苑",   "丽景苑", "紫薇花园", "长乐新村"};
#define NCOMMUNITIES ((int)(sizeof communities / sizeof communities[0]))

/* ------------------------------------------------------------------------------------------ */
/* Trades: skills, parts, fault categories.                                                   */

enum { SK_DRAIN, SK_PIPE, SK_METER, SK_APPLIANCE, SK_FURNITURE, SK__COUNT };
static const char *const skill_names[SK__COUNT] = {"drain", "pipe", "water_meter", "appliance",
                                                   "furniture"};
#define SK(x) (1u << (x))

enum {
    P_PVC50,
    P_PVC110,
    P_TRAP,
    P_VALVE,
    P_PPR25,
    P_SEAL,
    P_METER,
    P_ACPUMP,
    P_COMP,
    P_THERMO,
    P_BELT,
    P_PCB,
    P_HINGE,
    P_SLIDE,
    P__COUNT
};
static const char *const sku_names[P__COUNT] = {
    "PVC-50",      "PVC-110",    "TRAP-P50",      "VALVE-DN20",  "PIPE-PPR25",
    "SEAL-KIT",    "METER-DN15", "AC-DRAIN-PUMP", "FRIDGE-COMP", "FRIDGE-THERMO",
    "WASHER-BELT", "WASHER-PCB", "HINGE-35",      "SLIDE-450"};
#define STOCK_PAR 6 /* each depot restocks every sku to this at 07:00 */

enum {
    C_DRAIN,
    C_BACKFLOW,
    C_BURST,
    C_LEAK,
    C_NOWATER,
    C_QUALITY,
    C_METER,
    C_AC,
    C_FRIDGE,
    C_WASHER,
    C_FURNITURE,
    C__COUNT
};
static const struct category_def {
    const char *name;
    int skill;
    double weight;        /* share of orders on a normal day */
    double prio[3];       /* emergency, important, general */
    int work_lo, work_hi; /* minutes on site */
    double parts_p;       /* chance the visit pauses awaiting parts */
    int nsku, sku[2];
    const char *note; /* what callers often say (some orders carry it) */
} categories[C__COUNT] = {
    /* clang-format off: one row per category reads better than the formatter's column */
    /*              name                  skill         weight  E     I     G      work     parts
       skus */
    [C_DRAIN] = {"drain_blockage",
                 SK_DRAIN,
                 0.30,
                 {0.10, 0.35, 0.55},
                 20,
                 70,
                 0.04,
                 2,
                 {P_TRAP, P_PVC50},
                 "厨房下水道堵塞 油污"},
    [C_BACKFLOW] = {"sewer_backflow",
                    SK_DRAIN,
                    0.06,
                    {0.70, 0.25, 0.05},
                    40,
                    120,
                    0.06,
                    1,
                    {P_PVC110},
                    "反水导致楼下被淹"},
    [C_BURST] = {"pipe_burst",
                 SK_PIPE,
                 0.05,
                 {0.85, 0.15, 0.00},
                 60,
                 180,
                 0.25,
                 2,
                 {P_VALVE, P_PPR25},
                 "爆管 水流不止"},
    [C_LEAK] = {"pipe_leak",
                SK_PIPE,
                0.12,
                {0.15, 0.55, 0.30},
                30,
                90,
                0.15,
                2,
                {P_PPR25, P_SEAL},
                "墙内渗水"},
    [C_NOWATER] =
        {"no_water", SK_PIPE, 0.04, {0.60, 0.35, 0.05}, 30, 120, 0.10, 1, {P_VALVE}, "整栋停水"},
    [C_QUALITY] =
        {"water_quality", SK_METER, 0.04, {0.10, 0.70, 0.20}, 20, 60, 0.00, 0, {0}, "水发黄有异味"},
    [C_METER] =
        {"meter_fault", SK_METER, 0.07, {0.00, 0.20, 0.80}, 15, 45, 0.30, 1, {P_METER}, "水表不走"},
    [C_AC] = {"ac_leak",
              SK_APPLIANCE,
              0.10,
              {0.20, 0.50, 0.30},
              30,
              90,
              0.20,
              1,
              {P_ACPUMP},
              "空调漏水"},
    [C_FRIDGE] = {"fridge_not_cooling",
                  SK_APPLIANCE,
                  0.07,
                  {0.15, 0.55, 0.30},
                  40,
                  120,
                  0.35,
                  2,
                  {P_COMP, P_THERMO},
                  "冰箱不制冷"},
    [C_WASHER] = {"washer_fault",
                  SK_APPLIANCE,
                  0.08,
                  {0.00, 0.30, 0.70},
                  30,
                  90,
                  0.30,
                  2,
                  {P_BELT, P_PCB},
                  "洗衣机不脱水"},
    [C_FURNITURE] = {"furniture_repair",
                     SK_FURNITURE,
                     0.06,
                     {0.00, 0.20, 0.80},
                     40,
                     120,
                     0.25,
                     2,
                     {P_HINGE, P_SLIDE},
                     "柜门铰链脱落"},
    /* clang-format on */
};

/* Technician trades (skill sets) and shifts. */
static const struct {
    unsigned skills;
    double weight;
} trades[] = {
    {SK(SK_DRAIN) | SK(SK_PIPE), 0.38},          {SK(SK_DRAIN), 0.20},
    {SK(SK_PIPE) | SK(SK_METER), 0.15},          {SK(SK_APPLIANCE), 0.15},
    {SK(SK_APPLIANCE) | SK(SK_FURNITURE), 0.12},
};
static const struct {
    int start_min, len_min;
    double weight;
} shifts[] = {
    {7 * 60, 540, 0.15},  {8 * 60, 540, 0.38},  {11 * 60, 540, 0.20},
    {14 * 60, 540, 0.19}, {22 * 60, 540, 0.08},
};

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                       "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
static const char *const given_names[] = {"伟",   "芳",   "强",   "磊",   "军",   "洋",  "勇",
                                          "杰",   "涛",   "明",   "超",   "刚",   "平",  "辉",
                                          "建国", "志强", "海涛", "晓东", "文斌", "国庆"};

static const char *const channels_by_weight[] = {"phone",  "phone",  "phone", "phone", "wechat",
                                                 "wechat", "wechat", "app",   "app",   "web"};
/* Segment thresholds (cumulative): standard 78 %, vip 7, elderly 8, enterprise 5, public 2. */
static const struct {
    ow_segment seg;
    double upto;
} segment_cdf[] = {{OW_SEG_STANDARD, 0.78},
                   {OW_SEG_VIP, 0.85},
                   {OW_SEG_ELDERLY, 0.93},
                   {OW_SEG_ENTERPRISE, 0.98},
                   {OW_SEG_PUBLIC, 1.0}};

/* Orders per hour over the day (local time), normalised to a mean of 1 at start-up. */
static const double weekday_profile[24] = {0.25, 0.15, 0.10, 0.10, 0.10, 0.20, 0.50, 0.90,
                                           1.40, 1.70, 1.70, 1.50, 1.30, 1.30, 1.40, 1.40,
                                           1.40, 1.50, 1.60, 1.50, 1.20, 0.90, 0.60, 0.40};
static const double weekend_profile[24] = {0.40, 0.25, 0.15, 0.10, 0.10, 0.15, 0.30, 0.60,
                                           1.00, 1.30, 1.50, 1.50, 1.40, 1.30, 1.30, 1.30,
                                           1.50, 1.90, 2.60, 3.00, 2.80, 2.20, 1.40, 0.80};
#define WEEKEND_VOLUME 1.25 /* weekends bring more orders overall, mostly in the evening */

/* SLA arrival targets (DESIGN §4 defaults) drive the customers' mood in callbacks. */
static const int64_t arrival_target_ms[3] = {2 * 3600000LL, 4 * 3600000LL, 48 * 3600000LL};

static const char *const cancel_reasons[] = {"customer fixed it themselves", "no longer needed",
                                             "customer booked another company"};
static const char *const complaint_reasons[] = {
    "waited too long", "problem not fixed", "technician attitude", "order information incomplete",
    "tools not prepared"};

/* Mistake rates at mistake_rate 1.0 (a rainstorm triples them). */
#define P_DUP_DISPATCH   0.02  /* order dispatched to a second technician who also accepts */
#define P_LATE_ACCEPT    0.04  /* acceptance 11-40 min after dispatch (accept SLA 10 min) */
#define P_FORGOTTEN      0.30  /* an order in the forgotten district waits 1-3 h undispatched */
#define P_DUP_ORDER      0.015 /* the same customer also calls on a second channel */
#define P_SKILL_MISMATCH 0.01  /* dispatched to the nearest idle technician without the skill */
#define P_GPS_SILENT     0.001 /* per location ping: the phone goes quiet for 15-45 min */

#define QCAP          6 /* orders queued on one technician */
#define STORM_AT_MS   (3600000LL)
#define STORM_SPAN_MS (4 * 3600000LL)
#define NCUSTOMERS    4000
#define LINE_RESERVE  4096 /* every line fits in this (largest is order.created, < 1 KiB) */

/* ------------------------------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded by splitmix64.                                          */

typedef struct {
    uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_u64(rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return result;
}

static double rng_unit(rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}
static bool rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}
static int rng_below(rng *r, int n)
{
    return (int)(((rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}
static double rng_range(rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}
/* Uniform duration between lo and hi minutes, in ms. */
static int64_t rng_min(rng *r, double lo, double hi)
{
    return (int64_t)floor(rng_range(r, lo, hi) * 60000.0);
}

/* Natural logarithm from + - * / only (frexp is exact), so results agree on every platform. */
static double det_log(double x)
{
    int e;
    double m = frexp(x, &e); /* x = m * 2^e, m in [0.5, 1) */
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2 * sum + e * 0.69314718055994530942;
}

static double rng_exp(rng *r, double mean)
{
    return -mean * det_log(1.0 - rng_unit(r));
}

/* ------------------------------------------------------------------------------------------ */
/* State.                                                                                     */

enum item_kind {
    K_LINE,        /* a rendered event whose ts has come: deliver it (may go late or twice) */
    K_LATE,        /* a line delivered late or again: write as is */
    K_ARRIVAL,     /* next candidate order arrival (thinning) */
    K_STORM,       /* one rainstorm call: ref = customer, token = category */
    K_DUP_ORDER,   /* a second-channel call: ref = customer, token = cat | prio << 8 */
    K_ORDER,       /* an order's next lifecycle step: ref = slot, token = order token */
    K_CANCEL,      /* the customer cancels if the tech has not arrived: ref = slot, token = uid */
    K_DUP_CANCEL,  /* dispatcher cancels a duplicate order: ref = slot, token = uid */
    K_GIVEUP,      /* the customer gives up waiting for a dispatch: ref = slot, token = uid */
    K_WAITCHECK,   /* the customer complains about the wait: ref = slot, token = uid */
    K_SHIFT_START, /* ref = tech */
    K_SHIFT_END,   /* ref = tech, token = shift token */
    K_BREAK,       /* ref = tech, token = shift token */
    K_BREAK_END,   /* ref = tech, token = shift token */
    K_PING,        /* location ping: ref = tech, token = ping token */
    K_RESTOCK,     /* the depots' morning restock */
};

typedef struct item {
    int64_t t;
    uint64_t seq;
    uint32_t ref, token;
    int kind;
} item;

typedef struct held_line { /* a line waiting in the queue (K_LINE / K_LATE) */
    char *text;
    size_t len;
    ow_event_type type;
    int64_t ts;
    int next_free;
} held_line;

typedef struct out_rec {
    size_t off, len;
    ow_event_type type;
    int64_t ts, deliver;
} out_rec;

typedef struct customer {
    double lat, lon;
    uint16_t num, bldg, room;
    uint8_t region, road, community, segment;
} customer;

enum order_state {
    OS_WAITING,    /* created or reopened, not dispatched */
    OS_DISPATCHED, /* dispatched, acceptance pending */
    OS_QUEUED,     /* accepted, waiting for its technician */
    OS_ENROUTE,
    OS_ONSITE,
    OS_PAUSED,
    OS_RESOLVED,
    OS_CALLED,
    OS_CLOSED,
};
enum order_step {
    ST_DISPATCH,
    ST_ACCEPT,
    ST_DEPART,
    ST_ARRIVE,
    ST_PAUSE,
    ST_PAUSE_CU,
    ST_RESUME_CU,
    ST_RESOLVE,
    ST_PARTS_READY,
    ST_CALLBACK,
    ST_CLOSE,
    ST_REOPEN
};

typedef struct order {
    uint32_t uid;   /* 0 = free slot */
    uint32_t token; /* the one valid K_ORDER item */
    uint32_t num;
    int next_free;
    int cust, cat, prio, channel;
    int state, step;
    int tech; /* technician holding it, -1 */
    int sku;  /* awaited / used part, -1 */
    int visits;
    bool revisit; /* parts came: the technician goes back, resumes and resolves */
    bool paused_parts, dup, neglected, in_pending, waited_for_tech;
    int64_t created, accepted, arrived, hold_until;
    int pprev, pnext; /* pending list */
} order;

typedef struct tech {
    char id[12];
    int name_a, name_b;
    int region;
    unsigned skills;
    int shift_start_min, shift_len_min;
    ow_tech_status status;
    bool on_shift, ending, break_done;
    int break_tries;
    double lat, lon, flat, flon, tlat, tlon;
    int64_t move_t0, move_t1;
    int job; /* order slot being worked (reserved, en route, on site), -1 */
    int queue[QCAP];
    int nq;
    uint32_t ping_token, shift_token;
    int64_t gps_silent_until;
} tech;

#define CHUNK 1024

struct ow_sim {
    ow_sim_config cfg;
    rng r;
    char tag[40];
    size_t taglen;
    int64_t now, end_ms, off_ms;
    uint64_t seq, ev_seq;
    uint32_t token_ctr, uid_ctr, order_ctr, complaint_ctr;
    bool oom, done;

    item *heap;
    size_t nheap, capheap;

    held_line *held;
    int nheld, capheld, held_free;

    char *obuf;
    size_t olen, ocap;
    out_rec *outq;
    size_t nout, capout, outhead;

    customer *cust;
    tech *techs;
    int ntechs;

    order **chunks;
    int nchunks, order_free;
    int pend_head, pend_tail, npending;

    int stock[D__COUNT][P__COUNT];

    double oph, lambda_max, profile[24];
    int64_t storm_at, storm_until;
    double cat_cdf[C__COUNT], storm_cat_cdf[C__COUNT];
    double region_cdf[R__COUNT];

    int64_t day_cached;
    char daytext[16];

    ow_sim_stats st;
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers.                                                                             */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int local_minute(const ow_sim *s, int64_t t)
{
    int64_t local = t + s->off_ms;
    return (int)((local - floor_div(local, 86400000) * 86400000) / 60000);
}

static double dist_km(double lat1, double lon1, double lat2, double lon2)
{
    const double kx = 111.32 * 0.8549, ky = 110.57; /* cos(31.25°) for the city's latitude */
    double dx = (lon2 - lon1) * kx, dy = (lat2 - lat1) * ky;
    return sqrt(dx * dx + dy * dy);
}

static void *grow(ow_sim *s, void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * elem);
    if (!q) {
        s->oom = true;
        return NULL;
    }
    *cap = n;
    return q;
}

/* ------------------------------------------------------------------------------------------ */
/* The queue of future steps: a binary min-heap on (t, seq).                                  */

static bool item_less(const item *a, const item *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void push(ow_sim *s, int64_t t, int kind, uint32_t ref, uint32_t token)
{
    if (s->nheap == s->capheap) {
        item *h = grow(s, s->heap, &s->capheap, s->nheap + 1, sizeof *h);
        if (!h) return;
        s->heap = h;
    }
    item it = {t < s->now ? s->now : t, s->seq++, ref, token, kind};
    size_t i = s->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_less(&it, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = it;
    if ((int64_t)s->nheap > s->st.queue_len_peak) s->st.queue_len_peak = (int64_t)s->nheap;
}

static item pop(ow_sim *s)
{
    item top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && item_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!item_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------------------------------ */
/* The line writer. A line is written at the end of obuf; line_end() decides where it goes:   */
/* out now, into the queue until its ts comes (K_LINE), or into the queue to arrive late.     */

static void put(ow_sim *s, const char *p, size_t n)
{
    memcpy(s->obuf + s->olen, p, n);
    s->olen += n;
}
#define PUTLIT(s, lit) put((s), (lit), sizeof(lit) - 1)
static void puts_(ow_sim *s, const char *p)
{
    put(s, p, strlen(p));
}

static void put_u64(ow_sim *s, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        s->obuf[s->olen++] = tmp[--n];
}

static void pad_to(char *p, unsigned v, int width);
static void put_pad(ow_sim *s, unsigned v, int width)
{
    pad_to(s->obuf + s->olen, v, width);
    s->olen += (size_t)width;
}

/* Degrees with 6 decimals (about 0.1 m). */
static void put_deg(ow_sim *s, double x)
{
    int64_t v = (int64_t)floor(x * 1e6 + 0.5);
    if (v < 0) s->obuf[s->olen++] = '-', v = -v;
    put_u64(s, (uint64_t)(v / 1000000));
    s->obuf[s->olen++] = '.';
    put_pad(s, (unsigned)(v % 1000000), 6);
}

static void pad_to(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* RFC 3339 in the city's zone, e.g. 2026-11-22T09:15:02.120+08:00; the date part is cached. */
static void put_time(ow_sim *s, int64_t ms)
{
    int64_t local = ms + s->off_ms, day = floor_div(local, 86400000);
    if (day != s->day_cached) {
        int64_t z = day + 719468; /* civil_from_days (Hinnant) */
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = (unsigned)(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
        const unsigned m = mp < 10 ? mp + 3 : mp - 9;
        unsigned y = (unsigned)((int64_t)yoe + era * 400 + (m <= 2));
        char *t = s->daytext;
        pad_to(t, y, 4), t[4] = '-', pad_to(t + 5, m, 2), t[7] = '-', pad_to(t + 8, d, 2);
        t[10] = 'T';
        s->day_cached = day;
    }
    char *p = s->obuf + s->olen;
    unsigned rem = (unsigned)(local - day * 86400000);
    memcpy(p, s->daytext, 11);
    pad_to(p + 11, rem / 3600000, 2), p[13] = ':', pad_to(p + 14, rem / 60000 % 60, 2);
    p[16] = ':', pad_to(p + 17, rem / 1000 % 60, 2), p[19] = '.', pad_to(p + 20, rem % 1000, 3);
    int off = s->cfg.utc_offset_min;
    p[23] = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    pad_to(p + 24, (unsigned)(off / 60), 2), p[26] = ':', pad_to(p + 27, (unsigned)(off % 60), 2);
    s->olen += 29;
}

static void put_id(ow_sim *s, const char *prefix, uint64_t n)
{
    puts_(s, prefix);
    put(s, s->tag, s->taglen);
    put(s, "-", 1);
    put_u64(s, n);
}

/* ,"key":"value" */
static void f_str(ow_sim *s, const char *key, const char *val)
{
    PUTLIT(s, ",\"");
    puts_(s, key);
    PUTLIT(s, "\":\"");
    puts_(s, val);
    PUTLIT(s, "\"");
}
static void f_key(ow_sim *s, const char *key)
{
    PUTLIT(s, ",\"");
    puts_(s, key);
    PUTLIT(s, "\":");
}
static void f_int(ow_sim *s, const char *key, int64_t v)
{
    f_key(s, key);
    if (v < 0) put(s, "-", 1), v = -v;
    put_u64(s, (uint64_t)v);
}
static void f_bool(ow_sim *s, const char *key, bool v)
{
    f_key(s, key);
    if (v)
        PUTLIT(s, "true");
    else
        PUTLIT(s, "false");
}
static void f_order(ow_sim *s, const order *o)
{
    PUTLIT(s, ",\"order_id\":\"");
    put_id(s, "ord-", o->num);
    PUTLIT(s, "\"");
}

typedef struct {
    size_t start;
    ow_event_type type;
    int64_t ts;
} line_ctx;

static line_ctx line_begin(ow_sim *s, ow_event_type type, int64_t ts)
{
    if (s->ocap - s->olen < LINE_RESERVE) {
        char *b = grow(s, s->obuf, &s->ocap, s->olen + LINE_RESERVE, 1);
        if (b)
            s->obuf = b;
        else
            s->olen = 0; /* out of memory: scribble at the start; ow_sim_next reports it */
    }
    line_ctx c = {s->olen, type, ts};
    PUTLIT(s, "{\"v\":1,\"id\":\"");
    put_id(s, "ev-", ++s->ev_seq);
    PUTLIT(s, "\",\"ts\":\"");
    put_time(s, ts);
    PUTLIT(s, "\",\"type\":\"");
    puts_(s, ow_event_type_name(type));
    PUTLIT(s, "\"");
    return c;
}

static int hold_text(ow_sim *s, const char *text, size_t len, ow_event_type type, int64_t ts)
{
    if (s->held_free < 0) {
        size_t cap = (size_t)s->capheld;
        held_line *h = grow(s, s->held, &cap, (size_t)s->nheld + 1, sizeof *h);
        if (!h) return -1;
        s->held = h, s->capheld = (int)cap;
        s->held[s->nheld].next_free = -1;
        s->held_free = s->nheld++;
    }
    int i = s->held_free;
    char *copy = malloc(len);
    if (!copy) {
        s->oom = true;
        return -1;
    }
    memcpy(copy, text, len);
    s->held_free = s->held[i].next_free;
    s->held[i] = (held_line){copy, len, type, ts, -1};
    return i;
}

static bool late_eligible(ow_event_type t)
{
    switch (t) {
    case OW_EV_ORDER_ACCEPTED:
    case OW_EV_ORDER_DEPARTED:
    case OW_EV_ORDER_ARRIVED:
    case OW_EV_ORDER_PAUSED:
    case OW_EV_ORDER_RESUMED:
    case OW_EV_ORDER_RESOLVED:
    case OW_EV_TECH_STATUS:
    case OW_EV_TECH_LOCATION: return true;
    default: return false;
    }
}

/* The line [start, olen) is due now: keep it in the out queue, or send it late; maybe again. */
static void deliver(ow_sim *s, size_t start, ow_event_type type, int64_t ts)
{
    size_t len = s->olen - start;
    if (late_eligible(type) && rng_chance(&s->r, s->cfg.late_fraction)) {
        double d = 5000 + rng_exp(&s->r, 180000);
        int64_t delay = d > 1800000 ? 1800000 : (int64_t)d;
        int h = hold_text(s, s->obuf + start, len, type, ts);
        if (h >= 0) push(s, s->now + delay, K_LATE, (uint32_t)h, 1);
        s->olen = start;
        return;
    }
    if (rng_chance(&s->r, s->cfg.dup_fraction)) {
        int h = hold_text(s, s->obuf + start, len, type, ts);
        if (h >= 0) push(s, s->now + 1000 + rng_min(&s->r, 0, 2), K_LATE, (uint32_t)h, 2);
    }
    if (s->nout == s->capout) {
        out_rec *q = grow(s, s->outq, &s->capout, s->nout + 1, sizeof *q);
        if (!q) return;
        s->outq = q;
    }
    s->outq[s->nout++] = (out_rec){start, len, type, ts, s->now};
}

static void line_end(ow_sim *s, line_ctx c)
{
    PUTLIT(s, "}");
    if (s->oom) {
        s->olen = 0;
        return;
    }
    if (c.ts > s->now) { /* a future event decided now: it waits in the queue for its time */
        int h = hold_text(s, s->obuf + c.start, s->olen - c.start, c.type, c.ts);
        if (h >= 0) push(s, c.ts, K_LINE, (uint32_t)h, 0);
        s->olen = c.start;
        return;
    }
    deliver(s, c.start, c.type, c.ts);
}

/* ------------------------------------------------------------------------------------------ */
/* Orders: slots in stable chunks, the pending list.                                          */

static order *O(ow_sim *s, int slot)
{
    return &s->chunks[slot / CHUNK][slot % CHUNK];
}

static int order_alloc(ow_sim *s)
{
    if (s->order_free < 0) {
        order **c = realloc(s->chunks, (size_t)(s->nchunks + 1) * sizeof *c);
        if (!c) return s->oom = true, -1;
        s->chunks = c;
        order *chunk = calloc(CHUNK, sizeof *chunk);
        if (!chunk) return s->oom = true, -1;
        s->chunks[s->nchunks] = chunk;
        int base = s->nchunks++ * CHUNK;
        for (int i = CHUNK - 1; i >= 0; i--) {
            chunk[i].next_free = s->order_free;
            s->order_free = base + i;
        }
    }
    int slot = s->order_free;
    order *o = O(s, slot);
    s->order_free = o->next_free;
    memset(o, 0, sizeof *o);
    o->uid = ++s->uid_ctr ? s->uid_ctr : ++s->uid_ctr;
    o->tech = o->sku = o->pprev = o->pnext = -1;
    o->num = ++s->order_ctr;
    if (++s->st.orders_live > s->st.orders_live_peak) s->st.orders_live_peak = s->st.orders_live;
    s->st.orders_created++;
    return slot;
}

static void pending_remove(ow_sim *s, int slot);

static void order_free(ow_sim *s, int slot)
{
    order *o = O(s, slot);
    if (o->in_pending) pending_remove(s, slot);
    o->uid = 0;
    o->token = 0;
    o->next_free = s->order_free;
    s->order_free = slot;
    s->st.orders_live--;
}

static void pending_add(ow_sim *s, int slot)
{
    order *o = O(s, slot);
    if (o->in_pending) return;
    o->in_pending = true;
    o->pnext = -1;
    o->pprev = s->pend_tail;
    if (s->pend_tail >= 0)
        O(s, s->pend_tail)->pnext = slot;
    else
        s->pend_head = slot;
    s->pend_tail = slot;
    s->npending++;
}

static void pending_remove(ow_sim *s, int slot)
{
    order *o = O(s, slot);
    if (!o->in_pending) return;
    if (o->pprev >= 0)
        O(s, o->pprev)->pnext = o->pnext;
    else
        s->pend_head = o->pnext;
    if (o->pnext >= 0)
        O(s, o->pnext)->pprev = o->pprev;
    else
        s->pend_tail = o->pprev;
    o->in_pending = false;
    o->pprev = o->pnext = -1;
    s->npending--;
}

/* Schedule the order's next step (replacing any step it had). */
static void order_step(ow_sim *s, int slot, int step, int64_t at)
{
    order *o = O(s, slot);
    o->step = step;
    o->token = ++s->token_ctr ? s->token_ctr : ++s->token_ctr;
    push(s, at, K_ORDER, (uint32_t)slot, o->token);
}

/* ------------------------------------------------------------------------------------------ */
/* Technicians.                                                                               */

static void tech_name(ow_sim *s, const tech *t)
{
    PUTLIT(s, ",\"name\":\"");
    puts_(s, surnames[t->name_a]);
    puts_(s, given_names[t->name_b]);
    PUTLIT(s, "\"");
}

static void emit_status(ow_sim *s, tech *t, ow_tech_status st)
{
    t->status = st;
    line_ctx c = line_begin(s, OW_EV_TECH_STATUS, s->now);
    f_str(s, "tech_id", t->id);
    f_str(s, "status", ow_tech_status_name(st));
    f_str(s, "region", regions[t->region].id);
    PUTLIT(s, ",\"skills\":[");
    bool first = true;
    for (int k = 0; k < SK__COUNT; k++) {
        if (!(t->skills & SK(k))) continue;
        if (!first) PUTLIT(s, ",");
        PUTLIT(s, "\"");
        puts_(s, skill_names[k]);
        PUTLIT(s, "\"");
        first = false;
    }
    PUTLIT(s, "]");
    tech_name(s, t);
    line_end(s, c);
}

static void set_status(ow_sim *s, tech *t, ow_tech_status st)
{
    if (t->status != st) emit_status(s, t, st);
}

static void tech_where(const ow_sim *s, tech *t)
{
    if (t->status != OW_TECH_ENROUTE || s->now >= t->move_t1) {
        if (t->status == OW_TECH_ENROUTE) t->lat = t->tlat, t->lon = t->tlon;
        return;
    }
    double f = (double)(s->now - t->move_t0) / (double)(t->move_t1 - t->move_t0);
    t->lat = t->flat + (t->tlat - t->flat) * f;
    t->lon = t->flon + (t->tlon - t->flon) * f;
}

static void emit_location(ow_sim *s, tech *t)
{
    tech_where(s, t);
    line_ctx c = line_begin(s, OW_EV_TECH_LOCATION, s->now);
    f_str(s, "tech_id", t->id);
    f_key(s, "lat"), put_deg(s, t->lat);
    f_key(s, "lon"), put_deg(s, t->lon);
    line_end(s, c);
}

/* Restart the ping chain: every minute en route, 5 min on site, 10 min otherwise. */
static void ping_schedule(ow_sim *s, tech *t, int ti)
{
    t->ping_token++;
    int64_t every = t->status == OW_TECH_ENROUTE  ? 60000
                    : t->status == OW_TECH_ONSITE ? 300000
                                                  : 600000;
    push(s, s->now + every, K_PING, (uint32_t)ti, t->ping_token);
}

static bool tech_available(const tech *t)
{
    return t->on_shift && !t->ending && t->status == OW_TECH_IDLE && t->job < 0 && t->nq == 0;
}

static void dispatch_to(ow_sim *s, int slot, int ti, bool queued);
static void go_offline(ow_sim *s, int ti);
static void order_depart(ow_sim *s, int slot);

/* Best waiting order for a technician who comes free: skill required; highest priority first,
 * then a trade of distance against waiting time (a kilometre weighs as much as 3 minutes). */
static int pending_pick(ow_sim *s, const tech *t)
{
    int best = -1;
    double best_key = 0;
    for (int i = s->pend_head; i >= 0; i = O(s, i)->pnext) {
        const order *o = O(s, i);
        if (o->hold_until > s->now) continue;
        if (!(t->skills & SK(categories[o->cat].skill))) continue;
        const customer *c = &s->cust[o->cust];
        double key = o->prio * 1e9 + dist_km(t->lat, t->lon, c->lat, c->lon) * 3 -
                     (double)(s->now - o->created) / 60000.0;
        if (best < 0 || key < best_key) best = i, best_key = key;
    }
    return best;
}

/* The technician has nothing in hand: take the next queued order, a waiting one, or rest. */
static void tech_next(ow_sim *s, int ti)
{
    tech *t = &s->techs[ti];
    if (t->job >= 0 || !t->on_shift) return;
    if (t->ending) {
        go_offline(s, ti);
        return;
    }
    if (t->status == OW_TECH_BREAK) return;
    if (t->status != OW_TECH_IDLE) {
        tech_where(s, t);
        set_status(s, t, OW_TECH_IDLE);
        ping_schedule(s, t, ti);
    }
    while (t->nq > 0) {
        int slot = t->queue[0];
        memmove(t->queue, t->queue + 1, (size_t)--t->nq * sizeof t->queue[0]);
        order *o = O(s, slot);
        if (!o->uid || o->tech != ti) continue;
        t->job = slot;
        if (o->state == OS_QUEUED || o->state == OS_PAUSED)
            order_step(s, slot, ST_DEPART, s->now + rng_min(&s->r, 1, 4));
        return; /* OS_DISPATCHED: departs once accepted */
    }
    int slot = pending_pick(s, t);
    if (slot >= 0) dispatch_to(s, slot, ti, false);
}

/* The job in hand is over (resolved, paused for parts, cancelled). */
static void tech_release(ow_sim *s, int ti)
{
    s->techs[ti].job = -1;
    tech_next(s, ti);
}

static void tech_unqueue(tech *t, int slot)
{
    for (int i = 0; i < t->nq; i++)
        if (t->queue[i] == slot) {
            memmove(t->queue + i, t->queue + i + 1, (size_t)(t->nq - i - 1) * sizeof t->queue[0]);
            t->nq--;
            return;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* Orders: creation, dispatch and the lifecycle steps.                                        */

static void put_address(ow_sim *s, const customer *c)
{
    const struct region_def *rd = &regions[c->region];
    bool island = c->lon > ISLAND_LON;
    puts_(s, rd->name_zh);
    puts_(s, rd->roads[island ? 3 : c->road]);
    put_u64(s, c->num);
    PUTLIT(s, "号");
    puts_(s, communities[c->community]);
    put_u64(s, c->bldg);
    PUTLIT(s, "栋");
    put_u64(s, c->room);
    PUTLIT(s, "室");
}

/* How long the dispatch desk takes to act on an order of this priority. */
static int64_t desk_delay(ow_sim *s, int prio)
{
    static const double lo[3] = {0.5, 2, 5}, hi[3] = {3, 10, 40};
    int64_t d = rng_min(&s->r, lo[prio], hi[prio]);
    return rng_chance(&s->r, 0.05) ? 3 * d : d; /* a busy desk */
}

static double mistake(const ow_sim *s, double p)
{
    double m = s->cfg.mistake_rate * (s->cfg.scenario == OW_SIM_RAINSTORM ? 3 : 1);
    return p * m;
}

static int order_create(ow_sim *s, int ci, int cat, int prio, bool dup)
{
    int slot = order_alloc(s);
    if (slot < 0) return -1;
    order *o = O(s, slot);
    const customer *c = &s->cust[ci];
    o->cust = ci, o->cat = cat, o->prio = prio, o->dup = dup;
    o->channel = rng_below(&s->r, (int)(sizeof channels_by_weight / sizeof *channels_by_weight));
    o->created = s->now;
    o->state = OS_WAITING;

    line_ctx lc = line_begin(s, OW_EV_ORDER_CREATED, s->now);
    f_order(s, o);
    f_str(s, "priority", ow_priority_name((ow_priority)prio));
    f_str(s, "category", categories[cat].name);
    f_str(s, "region", regions[c->region].id);
    f_key(s, "lat"), put_deg(s, c->lat);
    f_key(s, "lon"), put_deg(s, c->lon);
    PUTLIT(s, ",\"address\":\"");
    put_address(s, c);
    PUTLIT(s, "\"");
    f_str(s, "channel", channels_by_weight[o->channel]);
    PUTLIT(s, ",\"customer_id\":\"cust-");
    put_pad(s, (unsigned)ci, 5);
    PUTLIT(s, "\"");
    f_str(s, "segment", ow_segment_name((ow_segment)c->segment));
    f_str(s, "skill", skill_names[categories[cat].skill]);
    if (c->segment == OW_SEG_ELDERLY)
        f_str(s, "note", "独居老人 需优先处理");
    else if (rng_chance(&s->r, 0.3))
        f_str(s, "note", categories[cat].note);
    line_end(s, lc);

    int64_t delay = desk_delay(s, prio);
    if (c->region == FORGOTTEN_REGION && rng_chance(&s->r, mistake(s, P_FORGOTTEN))) {
        o->neglected = true;
        o->hold_until = s->now + rng_min(&s->r, 60, 180);
        delay = o->hold_until - s->now;
    }
    order_step(s, slot, ST_DISPATCH, s->now + delay);

    static const double patience_lo[3] = {90, 240, 480}, patience_hi[3] = {180, 480, 1440};
    push(s, s->now + rng_min(&s->r, patience_lo[prio], patience_hi[prio]), K_GIVEUP, (uint32_t)slot,
         o->uid);
    if (rng_chance(&s->r, 0.03))
        push(s, s->now + rng_min(&s->r, 5, 90), K_CANCEL, (uint32_t)slot, o->uid);
    if (prio != OW_PRIO_GENERAL)
        push(s,
             s->now +
                 (prio == OW_PRIO_EMERGENCY ? rng_min(&s->r, 60, 75) : rng_min(&s->r, 240, 260)),
             K_WAITCHECK, (uint32_t)slot, o->uid);
    if (!dup && rng_chance(&s->r, mistake(s, P_DUP_ORDER)))
        push(s, s->now + rng_min(&s->r, 2, 15), K_DUP_ORDER, (uint32_t)ci,
             (uint32_t)(cat | prio << 8));
    return slot;
}

static void emit_order_tech(ow_sim *s, ow_event_type type, const order *o, const tech *t,
                            int64_t ts)
{
    line_ctx c = line_begin(s, type, ts);
    f_order(s, o);
    f_str(s, "tech_id", t->id);
    line_end(s, c);
}

static void dispatch_to(ow_sim *s, int slot, int ti, bool queued)
{
    order *o = O(s, slot);
    tech *t = &s->techs[ti];
    pending_remove(s, slot);
    o->tech = ti;
    o->state = OS_DISPATCHED;
    if (queued)
        t->queue[t->nq++] = slot;
    else
        t->job = slot;
    emit_order_tech(s, OW_EV_ORDER_DISPATCHED, o, t, s->now);
    bool late = rng_chance(&s->r, mistake(s, P_LATE_ACCEPT));
    order_step(s, slot, ST_ACCEPT,
               s->now + (late ? rng_min(&s->r, 11, 40) : rng_min(&s->r, 0.3, 6)));
    if (o->dup) /* the dispatcher notices the double booking and cancels this copy */
        push(s, s->now + rng_min(&s->r, 5, 30), K_DUP_CANCEL, (uint32_t)slot, o->uid);

    /* Mistake: the same order also goes to a second idle technician, who accepts it too. */
    if (rng_chance(&s->r, mistake(s, P_DUP_DISPATCH))) {
        int second = -1;
        double bestd = 1e18;
        unsigned need = SK(categories[o->cat].skill);
        for (int i = 0; i < s->ntechs; i++) {
            const tech *u = &s->techs[i];
            if (i == ti || !tech_available(u) || !(u->skills & need)) continue;
            double d = dist_km(u->lat, u->lon, t->lat, t->lon);
            if (d < bestd) bestd = d, second = i;
        }
        if (second >= 0) {
            int64_t at = s->now + rng_min(&s->r, 0.2, 3);
            emit_order_tech(s, OW_EV_ORDER_DISPATCHED, o, &s->techs[second], at);
            emit_order_tech(s, OW_EV_ORDER_ACCEPTED, o, &s->techs[second],
                            at + rng_min(&s->r, 0.5, 4));
        }
    }
}

/* Nearest idle technician with the skill; emergencies may queue on a busy one. */
static bool dispatch_try(ow_sim *s, int slot)
{
    order *o = O(s, slot);
    const customer *c = &s->cust[o->cust];
    unsigned need = SK(categories[o->cat].skill);
    bool mismatch = rng_chance(&s->r, mistake(s, P_SKILL_MISMATCH));
    int best = -1, busy = -1;
    double bestd = 1e18, busyd = 1e18;
    int qcap = s->cfg.scenario == OW_SIM_RAINSTORM ? 4 : 2;
    for (int i = 0; i < s->ntechs; i++) {
        tech *t = &s->techs[i];
        if (!t->on_shift || t->ending) continue;
        bool skilled = (t->skills & need) != 0;
        double d = dist_km(t->lat, t->lon, c->lat, c->lon);
        if (tech_available(t) && (skilled || mismatch) && d < bestd) bestd = d, best = i;
        if (skilled && t->status != OW_TECH_BREAK && t->nq < qcap) {
            double score = d + 8.0 * t->nq + (t->job >= 0 ? 4.0 : 0);
            if (score < busyd) busyd = score, busy = i;
        }
    }
    if (best >= 0) {
        dispatch_to(s, slot, best, false);
        return true;
    }
    if (o->prio == OW_PRIO_EMERGENCY && busy >= 0) {
        tech *t = &s->techs[busy];
        bool free_now = tech_available(t);
        dispatch_to(s, slot, busy, !free_now);
        return true;
    }
    return false;
}

static void order_cancel(ow_sim *s, int slot, const char *reason)
{
    order *o = O(s, slot);
    line_ctx c = line_begin(s, OW_EV_ORDER_CANCELLED, s->now);
    f_order(s, o);
    f_str(s, "reason", reason);
    line_end(s, c);
    int ti = o->tech;
    o->token = 0;
    if (ti >= 0) {
        tech *t = &s->techs[ti];
        tech_unqueue(t, slot);
        if (t->job == slot) tech_release(s, ti);
    }
    order_free(s, slot);
}

static void complaint_create(ow_sim *s, const order *o, bool urgent, int64_t respond_after)
{
    uint32_t n = ++s->complaint_ctr;
    line_ctx c = line_begin(s, OW_EV_COMPLAINT_CREATED, s->now);
    PUTLIT(s, ",\"complaint_id\":\"");
    put_id(s, "cmp-", n);
    PUTLIT(s, "\"");
    f_str(s, "severity", urgent ? "urgent" : "normal");
    f_str(s, "category", categories[o->cat].name);
    f_order(s, o);
    f_str(s, "region", regions[s->cust[o->cust].region].id);
    line_end(s, c);
    c = line_begin(s, OW_EV_COMPLAINT_RESPONDED, s->now + respond_after);
    PUTLIT(s, ",\"complaint_id\":\"");
    put_id(s, "cmp-", n);
    PUTLIT(s, "\"");
    line_end(s, c);
}

/* Callback score: waiting past the arrival target, a second visit and chance lower it. */
static int callback_score(ow_sim *s, const order *o)
{
    int score = 5;
    int64_t wait = (o->arrived ? o->arrived : s->now) - o->created;
    if (wait > arrival_target_ms[o->prio])
        score -= 2;
    else if (wait > arrival_target_ms[o->prio] / 2 && rng_chance(&s->r, 0.5))
        score -= 1;
    if (o->paused_parts && rng_chance(&s->r, 0.5)) score -= 1;
    if (o->visits > 1) score -= 1;
    if (rng_chance(&s->r, 0.15)) score -= 1;
    if (rng_chance(&s->r, 0.04)) score -= 2;
    return score < 1 ? 1 : score;
}

/* Push a callback out of the night: calls are made 08:00-21:00. */
static int64_t daytime(const ow_sim *s, int64_t t, rng *r)
{
    int m = local_minute(s, t);
    if (m >= 8 * 60 && m < 21 * 60) return t;
    int64_t to8 = (int64_t)((m < 8 * 60 ? 8 * 60 - m : 24 * 60 - m + 8 * 60)) * 60000;
    return t + to8 + rng_min(r, 0, 120);
}

static void order_run(ow_sim *s, int slot)
{
    order *o = O(s, slot);
    tech *t = o->tech >= 0 ? &s->techs[o->tech] : NULL;
    const struct category_def *cd = &categories[o->cat];
    switch (o->step) {
    case ST_DISPATCH:
        if (o->state != OS_WAITING) return;
        if (o->hold_until > s->now || !dispatch_try(s, slot)) pending_add(s, slot);
        return;
    case ST_ACCEPT:
        emit_order_tech(s, OW_EV_ORDER_ACCEPTED, o, t, s->now);
        o->accepted = s->now;
        o->state = o->revisit ? OS_PAUSED : OS_QUEUED;
        if (t->job == slot) order_step(s, slot, ST_DEPART, s->now + rng_min(&s->r, 1, 5));
        return;
    case ST_DEPART: order_depart(s, slot); return;
    case ST_ARRIVE: {
        t->lat = t->tlat, t->lon = t->tlon;
        if (!o->revisit) {
            emit_order_tech(s, OW_EV_ORDER_ARRIVED, o, t, s->now);
            if (!o->arrived) o->arrived = s->now;
        }
        set_status(s, t, OW_TECH_ONSITE);
        emit_location(s, t);
        ping_schedule(s, t, o->tech);
        o->state = OS_ONSITE;
        int64_t work = rng_min(&s->r, cd->work_lo, cd->work_hi);
        if (o->revisit) {
            line_ctx c = line_begin(s, OW_EV_ORDER_RESUMED, s->now);
            f_order(s, o);
            line_end(s, c);
            order_step(s, slot, ST_RESOLVE, s->now + work / 2);
        } else if (cd->nsku && !o->paused_parts && rng_chance(&s->r, cd->parts_p)) {
            order_step(s, slot, ST_PAUSE, s->now + rng_min(&s->r, 10, 30));
        } else if (rng_chance(&s->r, 0.02)) {
            order_step(s, slot, ST_PAUSE_CU, s->now + rng_min(&s->r, 1, 5));
        } else {
            order_step(s, slot, ST_RESOLVE, s->now + work);
        }
        return;
    }
    case ST_PAUSE_CU: { /* nobody home: the technician waits, then the customer is back */
        line_ctx c = line_begin(s, OW_EV_ORDER_PAUSED, s->now);
        f_order(s, o);
        f_str(s, "reason", "customer_unavailable");
        line_end(s, c);
        order_step(s, slot, ST_RESUME_CU, s->now + rng_min(&s->r, 10, 40));
        return;
    }
    case ST_RESUME_CU: {
        line_ctx c = line_begin(s, OW_EV_ORDER_RESUMED, s->now);
        f_order(s, o);
        line_end(s, c);
        order_step(s, slot, ST_RESOLVE, s->now + rng_min(&s->r, cd->work_lo, cd->work_hi));
        return;
    }
    case ST_PAUSE: {
        int sku = cd->sku[rng_below(&s->r, cd->nsku)];
        int depot = regions[s->cust[o->cust].region].depot;
        int64_t wait;
        o->sku = sku;
        o->paused_parts = true;
        line_ctx c = line_begin(s, OW_EV_ORDER_PAUSED, s->now);
        f_order(s, o);
        f_str(s, "reason", "awaiting_parts");
        f_str(s, "sku", sku_names[sku]);
        line_end(s, c);
        if (s->stock[depot][sku] > 0) { /* a transfer from the depot */
            wait = rng_min(&s->r, 60, 180);
            s->stock[depot][sku]--;
            c = line_begin(s, OW_EV_PARTS_STOCK, s->now);
            f_str(s, "depot", depot_names[depot]);
            f_str(s, "sku", sku_names[sku]);
            f_int(s, "qty", s->stock[depot][sku]);
            line_end(s, c);
        } else { /* out of stock: wait for the morning restock and a slot */
            wait = rng_min(&s->r, 360, 1560);
        }
        o->state = OS_PAUSED;
        o->revisit = true;
        order_step(s, slot, ST_PARTS_READY, s->now + wait);
        tech_release(s, o->tech);
        return;
    }
    case ST_PARTS_READY:
        if (t && t->on_shift && !t->ending && t->nq < QCAP) {
            memmove(t->queue + 1, t->queue, (size_t)t->nq * sizeof t->queue[0]);
            t->queue[0] = slot, t->nq++;
            if (t->job < 0) tech_next(s, o->tech);
        } else { /* the technician is off: any colleague with the skill goes */
            o->tech = -1;
            o->state = OS_WAITING;
            if (!dispatch_try(s, slot)) pending_add(s, slot);
        }
        return;
    case ST_RESOLVE: {
        bool fvf = !o->paused_parts && o->visits == 1 && !rng_chance(&s->r, 0.06);
        line_ctx c = line_begin(s, OW_EV_ORDER_RESOLVED, s->now);
        f_order(s, o);
        f_str(s, "tech_id", t->id);
        f_bool(s, "first_visit_fix", fvf);
        if (o->sku >= 0) {
            PUTLIT(s, ",\"parts\":[\"");
            puts_(s, sku_names[o->sku]);
            PUTLIT(s, "\"]");
        }
        line_end(s, c);
        o->state = OS_RESOLVED;
        o->revisit = false;
        if (rng_chance(&s->r, 0.92)) {
            int64_t after =
                rng_chance(&s->r, 0.7) ? rng_min(&s->r, 20, 120) : rng_min(&s->r, 120, 1200);
            order_step(s, slot, ST_CALLBACK, daytime(s, s->now + after, &s->r));
        } else { /* unreachable: closed without a callback after a day */
            order_step(s, slot, ST_CLOSE, s->now + rng_min(&s->r, 1440, 1560));
        }
        tech_release(s, o->tech);
        return;
    }
    case ST_CALLBACK: {
        int score = callback_score(s, o);
        bool complaint =
            score <= 2 ? rng_chance(&s->r, 0.6) : score == 3 && rng_chance(&s->r, 0.05);
        int nps = score * 2 - rng_below(&s->r, 3);
        line_ctx c = line_begin(s, OW_EV_ORDER_CALLBACK, s->now);
        f_order(s, o);
        f_int(s, "score", score);
        if (rng_chance(&s->r, 0.8)) f_int(s, "nps", nps < 0 ? 0 : nps > 10 ? 10 : nps);
        f_bool(s, "complaint", complaint);
        if (score <= 3) {
            int64_t wait = (o->arrived ? o->arrived : s->now) - o->created;
            const char *why = wait > arrival_target_ms[o->prio] ? complaint_reasons[0]
                              : o->visits > 1 || o->paused_parts
                                  ? complaint_reasons[1]
                                  : complaint_reasons[2 + rng_below(&s->r, 3)];
            f_str(s, "reason", why);
        }
        line_end(s, c);
        o->state = OS_CALLED;
        if (complaint)
            complaint_create(s, o, score == 1,
                             score == 1 ? rng_min(&s->r, 3, 25) : rng_min(&s->r, 10, 90));
        if (score <= 2 && rng_chance(&s->r, 0.4))
            order_step(s, slot, ST_REOPEN, s->now + rng_min(&s->r, 15, 90));
        else
            order_step(s, slot, ST_CLOSE, s->now + rng_min(&s->r, 5, 60));
        return;
    }
    case ST_CLOSE: {
        line_ctx c = line_begin(s, OW_EV_ORDER_CLOSED, s->now);
        f_order(s, o);
        line_end(s, c);
        o->state = OS_CLOSED;
        if (o->visits == 1 && rng_chance(&s->r, 0.01)) /* the problem comes back within two days */
            order_step(s, slot, ST_REOPEN, s->now + rng_min(&s->r, 120, 2880));
        else
            order_free(s, slot);
        return;
    }
    case ST_REOPEN: {
        line_ctx c = line_begin(s, OW_EV_ORDER_REOPENED, s->now);
        f_order(s, o);
        f_str(s, "reason", o->state == OS_CLOSED ? "problem came back" : "customer not satisfied");
        line_end(s, c);
        o->state = OS_WAITING;
        o->tech = -1;
        o->sku = -1;
        o->revisit = o->paused_parts = false;
        order_step(s, slot, ST_DISPATCH, s->now + desk_delay(s, o->prio));
        push(s, s->now + rng_min(&s->r, 720, 1440), K_GIVEUP, (uint32_t)slot, o->uid);
        return;
    }
    }
}

/* The technician sets off to the order in hand (first visit or the return with parts). */
static void order_depart(ow_sim *s, int slot)
{
    order *o = O(s, slot);
    tech *t = &s->techs[o->tech];
    const customer *c = &s->cust[o->cust];
    tech_where(s, t);
    double km = dist_km(t->lat, t->lon, c->lat, c->lon) * 1.25; /* roads are not straight */
    bool storm = s->now >= s->storm_at && s->now < s->storm_until;
    double kmh = storm ? 18 : 30;
    int64_t eta = (int64_t)floor(km / kmh * 3600000.0) + rng_min(&s->r, 2, 6);
    if ((c->lon > ISLAND_LON) != (t->lon > ISLAND_LON)) eta += 20 * 60000; /* the ferry */
    int64_t actual = (int64_t)floor((double)eta * rng_range(&s->r, 0.8, 1.4));
    if (!o->revisit) {
        line_ctx lc = line_begin(s, OW_EV_ORDER_DEPARTED, s->now);
        f_order(s, o);
        f_str(s, "tech_id", t->id);
        f_int(s, "eta_s", (eta / 60000 + 1) * 60);
        line_end(s, lc);
    }
    o->visits += o->revisit ? 0 : 1;
    o->state = OS_ENROUTE;
    t->flat = t->lat, t->flon = t->lon, t->tlat = c->lat, t->tlon = c->lon;
    t->move_t0 = s->now, t->move_t1 = s->now + actual;
    set_status(s, t, OW_TECH_ENROUTE);
    ping_schedule(s, t, o->tech);
    order_step(s, slot, ST_ARRIVE, s->now + actual);
}

/* ------------------------------------------------------------------------------------------ */
/* Technician shifts.                                                                         */

static void go_offline(ow_sim *s, int ti)
{
    tech *t = &s->techs[ti];
    t->on_shift = t->ending = false;
    t->shift_token++;
    t->ping_token++;
    while (t->nq > 0) { /* queued work goes back to the desk */
        int slot = t->queue[--t->nq];
        order *o = O(s, slot);
        if (!o->uid || o->tech != ti) continue;
        o->tech = -1;
        o->state = OS_WAITING; /* back to the desk (a revisit: a colleague goes back) */
        order_step(s, slot, ST_DISPATCH, s->now + desk_delay(s, o->prio)); /* voids acceptance */
    }
    set_status(s, t, OW_TECH_OFFLINE);
}

/* The next instant after `from` when the local clock reads minute_of_day:00. */
static int64_t next_local(const ow_sim *s, int64_t from, int minute_of_day)
{
    int64_t local = from + s->off_ms;
    int64_t base = floor_div(local, 60000) * 60000 - s->off_ms; /* from, down to the minute */
    int64_t delta = (int64_t)(minute_of_day - local_minute(s, from)) * 60000;
    if (delta <= 0) delta += 86400000;
    return base + delta;
}

static void shift_begin(ow_sim *s, int ti, int64_t end)
{
    tech *t = &s->techs[ti];
    t->on_shift = true;
    t->ending = false;
    t->break_done = false;
    t->break_tries = 0;
    t->shift_token++;
    emit_status(s, t, OW_TECH_IDLE);
    emit_location(s, t);
    ping_schedule(s, t, ti);
    push(s, end, K_SHIFT_END, (uint32_t)ti, t->shift_token);
    int64_t len = end - s->now;
    if (len > 5 * 3600000LL)
        push(s, s->now + len / 2 + rng_min(&s->r, -45, 45), K_BREAK, (uint32_t)ti, t->shift_token);
    tech_next(s, ti);
}

static void tech_event(ow_sim *s, const item *it)
{
    int ti = (int)it->ref;
    tech *t = &s->techs[ti];
    switch (it->kind) {
    case K_SHIFT_START: { /* token 1: already on shift when the run starts */
        int into = it->token ? (local_minute(s, s->now) - t->shift_start_min + 1440) % 1440 : 0;
        push(s, next_local(s, s->now + 3600000, t->shift_start_min) + rng_min(&s->r, -10, 10),
             K_SHIFT_START, (uint32_t)ti, 0);
        double absent = s->cfg.scenario == OW_SIM_SHORTAGE ? 0.15 : 0.03;
        if (t->on_shift || rng_chance(&s->r, absent)) return;
        int64_t len = (int64_t)(t->shift_len_min - into) * 60000 + rng_min(&s->r, -10, 20);
        shift_begin(s, ti, s->now + len);
        return;
    }
    case K_SHIFT_END:
        if (it->token != t->shift_token || !t->on_shift) return;
        t->ending = true;
        if (t->job < 0) go_offline(s, ti);
        return;
    case K_BREAK:
        if (it->token != t->shift_token || !t->on_shift || t->ending || t->break_done) return;
        if (t->job < 0 && t->status == OW_TECH_IDLE) {
            t->break_done = true;
            set_status(s, t, OW_TECH_BREAK);
            push(s, s->now + rng_min(&s->r, 30, 50), K_BREAK_END, (uint32_t)ti, t->shift_token);
        } else if (++t->break_tries < 4) {
            push(s, s->now + rng_min(&s->r, 15, 30), K_BREAK, (uint32_t)ti, t->shift_token);
        }
        return;
    case K_BREAK_END:
        if (it->token != t->shift_token || t->status != OW_TECH_BREAK) return;
        set_status(s, t, OW_TECH_IDLE);
        tech_next(s, ti);
        return;
    case K_PING:
        if (it->token != t->ping_token || !t->on_shift) return;
        if (s->now >= t->gps_silent_until) {
            if (rng_chance(&s->r, mistake(s, P_GPS_SILENT)))
                t->gps_silent_until = s->now + rng_min(&s->r, 15, 45);
            else
                emit_location(s, t);
        }
        ping_schedule(s, t, ti);
        return;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Order arrivals and other queue items.                                                      */

static int pick_cdf(rng *r, const double *cdf, int n)
{
    double u = rng_unit(r) * cdf[n - 1];
    for (int i = 0; i < n; i++)
        if (u < cdf[i]) return i;
    return n - 1;
}

static int pick_prio(rng *r, int cat)
{
    const double *p = categories[cat].prio;
    double u = rng_unit(r) * (p[0] + p[1] + p[2]);
    return u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2;
}

static bool storming(const ow_sim *s)
{
    return s->now >= s->storm_at && s->now < s->storm_until;
}

static double rate_now(const ow_sim *s)
{
    double r = s->oph * s->profile[local_minute(s, s->now) / 60];
    return storming(s) ? r * 2.5 : r;
}

static void arrival(ow_sim *s)
{
    if (rng_unit(&s->r) * s->lambda_max < rate_now(s)) {
        int ci = rng_below(&s->r, NCUSTOMERS);
        int cat = pick_cdf(&s->r, storming(s) ? s->storm_cat_cdf : s->cat_cdf, C__COUNT);
        order_create(s, ci, cat, pick_prio(&s->r, cat), false);
    }
    push(s, s->now + 1 + (int64_t)floor(rng_exp(&s->r, 3600000.0 / s->lambda_max)), K_ARRIVAL, 0,
         0);
}

/* Rainstorm onset: 32-45 emergency calls from distinct communities within minutes. */
static void storm_begin(ow_sim *s)
{
    int n = 32 + rng_below(&s->r, 14), made = 0;
    bool used[R__COUNT][NCOMMUNITIES];
    memset(used, 0, sizeof used);
    for (int tries = 0; made < n && tries < 100000; tries++) {
        int ci = rng_below(&s->r, NCUSTOMERS);
        const customer *c = &s->cust[ci];
        if (used[c->region][c->community]) continue;
        if (!regions[c->region].low_lying && rng_chance(&s->r, 0.6)) continue;
        used[c->region][c->community] = true;
        int cat = rng_chance(&s->r, 0.6) ? C_DRAIN : C_BACKFLOW;
        push(s, s->now + rng_min(&s->r, 0, 8), K_STORM, (uint32_t)ci, (uint32_t)cat);
        made++;
    }
}

static void restock(ow_sim *s)
{
    for (int d = 0; d < D__COUNT; d++)
        for (int p = 0; p < P__COUNT; p++) {
            if (s->stock[d][p] >= STOCK_PAR) continue;
            s->stock[d][p] = STOCK_PAR;
            line_ctx c = line_begin(s, OW_EV_PARTS_STOCK, s->now);
            f_str(s, "depot", depot_names[d]);
            f_str(s, "sku", sku_names[p]);
            f_int(s, "qty", STOCK_PAR);
            line_end(s, c);
        }
    push(s, s->now + 86400000, K_RESTOCK, 0, 0);
}

static void held_release(ow_sim *s, int h)
{
    free(s->held[h].text);
    s->held[h].text = NULL;
    s->held[h].next_free = s->held_free;
    s->held_free = h;
}

static void run_item(ow_sim *s, const item *it)
{
    switch (it->kind) {
    case K_LINE:
    case K_LATE: {
        held_line *h = &s->held[it->ref];
        if (s->ocap - s->olen < h->len + 1) {
            char *b = grow(s, s->obuf, &s->ocap, s->olen + h->len + LINE_RESERVE, 1);
            if (!b) return;
            s->obuf = b;
        }
        size_t start = s->olen;
        put(s, h->text, h->len);
        ow_event_type type = h->type;
        int64_t ts = h->ts;
        held_release(s, (int)it->ref);
        if (it->kind == K_LINE) {
            deliver(s, start, type, ts);
        } else {
            if (s->nout == s->capout) {
                out_rec *q = grow(s, s->outq, &s->capout, s->nout + 1, sizeof *q);
                if (!q) return;
                s->outq = q;
            }
            s->outq[s->nout++] = (out_rec){start, s->olen - start, type, ts, s->now};
            if (it->token == 1)
                s->st.late_lines++;
            else
                s->st.dup_lines++;
        }
        return;
    }
    case K_ARRIVAL: arrival(s); return;
    case K_STORM: order_create(s, (int)it->ref, (int)it->token, OW_PRIO_EMERGENCY, false); return;
    case K_DUP_ORDER:
        order_create(s, (int)it->ref, (int)(it->token & 0xff), (int)(it->token >> 8), true);
        return;
    case K_RESTOCK: restock(s); return;
    case K_SHIFT_START:
    case K_SHIFT_END:
    case K_BREAK:
    case K_BREAK_END:
    case K_PING: tech_event(s, it); return;
    default: break;
    }
    /* Items about one order: void if the slot was freed or reused. */
    int slot = (int)it->ref;
    order *o = O(s, slot);
    if (!o->uid) return;
    switch (it->kind) {
    case K_ORDER:
        if (it->token == o->token) order_run(s, slot);
        return;
    case K_CANCEL:
        if (it->token == o->uid && o->state <= OS_ENROUTE)
            order_cancel(s, slot, cancel_reasons[rng_below(&s->r, 3)]);
        return;
    case K_DUP_CANCEL:
        if (it->token == o->uid && o->state <= OS_ONSITE && o->state != OS_WAITING)
            order_cancel(s, slot, "duplicate order");
        return;
    case K_GIVEUP:
        if (it->token == o->uid && o->state == OS_WAITING && !o->revisit)
            order_cancel(s, slot, "customer gave up waiting");
        return;
    case K_WAITCHECK:
        if (it->token == o->uid && o->state <= OS_ENROUTE && !o->arrived && rng_chance(&s->r, 0.5))
            complaint_create(s, o, o->prio == OW_PRIO_EMERGENCY, rng_min(&s->r, 5, 60));
        return;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Set-up and the driver.                                                                     */

void ow_sim_config_init(ow_sim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    /* 2026-11-22T08:00:00+08:00 */
    cfg->start_ms = (ow_days_from_civil(2026, 11, 22) * 86400 + 0 * 3600) * 1000;
    cfg->duration_ms = 24 * 3600000LL;
    cfg->utc_offset_min = 480;
    cfg->scenario = OW_SIM_NORMAL;
    cfg->late_fraction = 0.02;
    cfg->dup_fraction = 0.002;
    cfg->mistake_rate = 1.0;
}

static const char *const scenario_names[] = {
#define OW_SIM_SC_NAME(e, name) name,
    OW_SIM_SCENARIOS(OW_SIM_SC_NAME)
#undef OW_SIM_SC_NAME
};

const char *ow_sim_scenario_name(ow_sim_scenario sc)
{
    return sc >= 0 && sc < OW_SIM__COUNT ? scenario_names[sc] : "?";
}

int ow_sim_scenario_lookup(const char *name)
{
    for (int i = 0; i < OW_SIM__COUNT; i++)
        if (strcmp(scenario_names[i], name) == 0) return i;
    return -1;
}

/* FNV-1a over a value's 8 bytes, lowest first: the same hash on any byte order. */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 1099511628211ULL;
    return h;
}

static uint64_t fnv_real(uint64_t h, double x)
{
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    return fnv_u64(h, v);
}

static void make_customers(ow_sim *s)
{
    for (int i = 0; i < NCUSTOMERS; i++) {
        customer *c = &s->cust[i];
        int r = pick_cdf(&s->r, s->region_cdf, R__COUNT);
        const struct region_def *rd = &regions[r];
        double area[4], total = 0;
        for (int b = 0; b < rd->nbox; b++) {
            area[b] =
                (rd->boxes[b].lon1 - rd->boxes[b].lon0) * (rd->boxes[b].lat1 - rd->boxes[b].lat0);
            total += area[b];
        }
        double u = rng_unit(&s->r) * total;
        int b = 0;
        while (b < rd->nbox - 1 && u >= area[b])
            u -= area[b++];
        const box *bx = &rd->boxes[b];
        c->region = (uint8_t)r;
        c->lon = rng_range(&s->r, bx->lon0 + BOX_MARGIN, bx->lon1 - BOX_MARGIN);
        c->lat = rng_range(&s->r, bx->lat0 + BOX_MARGIN, bx->lat1 - BOX_MARGIN);
        c->road = (uint8_t)rng_below(&s->r, 3);
        c->num = (uint16_t)(1 + rng_below(&s->r, 399));
        c->community = (uint8_t)rng_below(&s->r, NCOMMUNITIES);
        c->bldg = (uint16_t)(1 + rng_below(&s->r, 30));
        c->room = (uint16_t)((1 + rng_below(&s->r, 18)) * 100 + 1 + rng_below(&s->r, 6));
        double v = rng_unit(&s->r);
        int k = 0;
        while (v >= segment_cdf[k].upto && k < 4)
            k++;
        c->segment = (uint8_t)segment_cdf[k].seg;
    }
}

static void make_techs(ow_sim *s)
{
    double tcdf[8], scdf[8], acc = 0;
    int ntrades = (int)(sizeof trades / sizeof *trades),
        nshifts = (int)(sizeof shifts / sizeof *shifts);
    for (int i = 0; i < ntrades; i++)
        tcdf[i] = acc += trades[i].weight;
    acc = 0;
    for (int i = 0; i < nshifts; i++)
        scdf[i] = acc += shifts[i].weight;
    int start_min = local_minute(s, s->now);
    for (int i = 0; i < s->ntechs; i++) {
        tech *t = &s->techs[i];
        memset(t, 0, sizeof *t);
        int n = 0, v = i + 1;
        char digits[12];
        do
            digits[n++] = (char)('0' + v % 10);
        while ((v /= 10));
        t->id[0] = 'T';
        int k = 1;
        for (int pad = n; pad < 3; pad++)
            t->id[k++] = '0';
        while (n)
            t->id[k++] = digits[--n];
        t->name_a = i % (int)(sizeof surnames / sizeof *surnames);
        t->name_b = (i * 7 + i / 20) % (int)(sizeof given_names / sizeof *given_names);
        t->skills = trades[pick_cdf(&s->r, tcdf, ntrades)].skills;
        t->region = pick_cdf(&s->r, s->region_cdf, R__COUNT);
        const struct region_def *rd = &regions[t->region];
        const box *bx = &rd->boxes[0];
        t->lon = rng_range(&s->r, bx->lon0 + BOX_MARGIN, bx->lon1 - BOX_MARGIN);
        t->lat = rng_range(&s->r, bx->lat0 + BOX_MARGIN, bx->lat1 - BOX_MARGIN);
        int sh = pick_cdf(&s->r, scdf, nshifts);
        t->shift_start_min = shifts[sh].start_min;
        t->shift_len_min = shifts[sh].len_min;
        t->status = OW_TECH_OFFLINE;
        t->job = -1;
        t->gps_silent_until = 0;
        /* Already on shift at the start? Then come on now (staggered by a few seconds). */
        int into = (start_min - t->shift_start_min + 1440) % 1440;
        if (into < t->shift_len_min - 30)
            push(s, s->now + i * 1000, K_SHIFT_START, (uint32_t)i, 1);
        else
            push(s, next_local(s, s->now, t->shift_start_min) + rng_min(&s->r, -10, 10),
                 K_SHIFT_START, (uint32_t)i, 0);
    }
}

ow_sim *ow_sim_new(const ow_sim_config *cfg, ow_err *err)
{
    if (cfg->scenario < 0 || cfg->scenario >= OW_SIM__COUNT) {
        ow_err_set(err, OW_EINVAL, "scenario: expected one of normal|rainstorm|shortage|weekend");
        return NULL;
    }
    if (cfg->duration_ms < 0) {
        ow_err_set(err, OW_EINVAL, "duration: must not be negative");
        return NULL;
    }
    if (!(cfg->late_fraction >= 0 && cfg->late_fraction <= 0.5)) {
        ow_err_set(err, OW_EINVAL, "late-fraction: expected a number from 0 to 0.5");
        return NULL;
    }
    if (!(cfg->dup_fraction >= 0 && cfg->dup_fraction <= 0.5)) {
        ow_err_set(err, OW_EINVAL, "dup-fraction: expected a number from 0 to 0.5");
        return NULL;
    }
    if (!(cfg->mistake_rate >= 0 && cfg->mistake_rate <= 10)) {
        ow_err_set(err, OW_EINVAL, "mistake-rate: expected a number from 0 to 10");
        return NULL;
    }
    if (!(cfg->orders_per_hour <= 100000) || cfg->techs > 100000) {
        ow_err_set(err, OW_EINVAL, "orders-per-hour and techs: at most 100000");
        return NULL;
    }
    if (cfg->utc_offset_min < -23 * 60 - 59 || cfg->utc_offset_min > 23 * 60 + 59) {
        ow_err_set(err, OW_EINVAL, "zone offset out of range");
        return NULL;
    }
    ow_sim *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->cfg = *cfg;
    s->now = cfg->start_ms;
    s->end_ms = cfg->duration_ms ? cfg->start_ms + cfg->duration_ms : INT64_MAX;
    s->off_ms = (int64_t)cfg->utc_offset_min * 60000;
    s->day_cached = INT64_MIN;
    s->held_free = -1;
    s->order_free = -1;
    s->pend_head = s->pend_tail = -1;
    s->storm_at = s->storm_until = INT64_MAX;
    uint64_t x = cfg->seed;
    for (int i = 0; i < 4; i++)
        s->r.s[i] = splitmix(&x);

    /* Run tag: the seed plus a hash of every setting that shapes the stream (not the duration: a
     * shorter run is a prefix of a longer one), so different runs never share ids. */
    uint64_t h = 1469598103934665603ULL;
    h = fnv_u64(h, cfg->seed);
    h = fnv_u64(h, (uint64_t)cfg->start_ms);
    h = fnv_u64(h, (uint64_t)cfg->scenario);
    h = fnv_real(h, cfg->orders_per_hour);
    h = fnv_u64(h, (uint64_t)cfg->techs);
    h = fnv_real(h, cfg->late_fraction);
    h = fnv_real(h, cfg->dup_fraction);
    h = fnv_real(h, cfg->mistake_rate);
    {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;
        s->tag[n++] = 's';
        char digits[24];
        int k = 0;
        uint64_t v = cfg->seed;
        do
            digits[k++] = (char)('0' + v % 10);
        while ((v /= 10));
        while (k)
            s->tag[n++] = digits[--k];
        s->tag[n++] = '-';
        for (int i = 0; i < 4; i++)
            s->tag[n++] = hex[(h >> (60 - 4 * i)) & 15];
        s->tag[n] = '\0';
        s->taglen = n;
    }

    bool weekend = cfg->scenario == OW_SIM_WEEKEND;
    const double *prof = weekend ? weekend_profile : weekday_profile;
    double sum = 0, peak = 0;
    for (int i = 0; i < 24; i++)
        sum += prof[i];
    for (int i = 0; i < 24; i++) {
        s->profile[i] = prof[i] * 24 / sum * (weekend ? WEEKEND_VOLUME : 1);
        if (s->profile[i] > peak) peak = s->profile[i];
    }
    s->oph = cfg->orders_per_hour > 0 ? cfg->orders_per_hour : 7;
    s->ntechs = cfg->techs > 0 ? cfg->techs : cfg->scenario == OW_SIM_SHORTAGE ? 18 : 40;
    s->lambda_max = s->oph * peak * (cfg->scenario == OW_SIM_RAINSTORM ? 2.5 : 1);
    double acc = 0, sacc = 0;
    for (int c = 0; c < C__COUNT; c++) {
        s->cat_cdf[c] = acc += categories[c].weight;
        bool wet = categories[c].skill == SK_DRAIN || c == C_BURST;
        s->storm_cat_cdf[c] = sacc += categories[c].weight * (wet ? 4 : 1);
    }
    acc = 0;
    for (int r = 0; r < R__COUNT; r++)
        s->region_cdf[r] = acc += regions[r].weight;

    s->cust = calloc(NCUSTOMERS, sizeof *s->cust);
    s->techs = calloc((size_t)s->ntechs, sizeof *s->techs);
    s->ocap = 64 * LINE_RESERVE;
    s->obuf = malloc(s->ocap);
    if (!s->cust || !s->techs || !s->obuf) goto oom;
    make_customers(s);

    /* At the start: the depots' stock report, technicians on shift come on. */
    for (int d = 0; d < D__COUNT; d++)
        for (int p = 0; p < P__COUNT; p++)
            s->stock[d][p] = 1 + rng_below(&s->r, STOCK_PAR);
    for (int d = 0; d < D__COUNT; d++)
        for (int p = 0; p < P__COUNT; p++) {
            line_ctx c = line_begin(s, OW_EV_PARTS_STOCK, s->now);
            f_str(s, "depot", depot_names[d]);
            f_str(s, "sku", sku_names[p]);
            f_int(s, "qty", s->stock[d][p]);
            line_end(s, c);
        }
    make_techs(s);
    push(s, next_local(s, s->now, 7 * 60), K_RESTOCK, 0, 0);
    push(s, s->now + 1 + (int64_t)floor(rng_exp(&s->r, 3600000.0 / s->lambda_max)), K_ARRIVAL, 0,
         0);
    if (cfg->scenario == OW_SIM_RAINSTORM) {
        s->storm_at = s->now + STORM_AT_MS;
        s->storm_until = s->storm_at + STORM_SPAN_MS;
        push(s, s->storm_at, K_STORM, UINT32_MAX, 0);
    }
    if (s->oom) goto oom;
    return s;
oom:
    ow_sim_free(s);
    ow_err_set(err, OW_ENOMEM, "out of memory");
    return NULL;
}

void ow_sim_free(ow_sim *s)
{
    if (!s) return;
    for (int i = 0; i < s->nheld; i++)
        free(s->held[i].text);
    free(s->held);
    for (int i = 0; i < s->nchunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    free(s->heap);
    free(s->obuf);
    free(s->outq);
    free(s->cust);
    free(s->techs);
    free(s);
}

/* Run queue items until some line is ready. Returns false when the span is over. */
static bool advance(ow_sim *s)
{
    while (s->nout == s->outhead) {
        s->nout = s->outhead = 0;
        s->olen = 0;
        if (s->nheap == 0 || s->oom) return false;
        if (s->heap[0].t > s->end_ms) {
            /* Over: late and repeated lines already decided are still delivered; the rest of
             * the future is dropped. */
            if (!s->done) {
                s->done = true;
                size_t keep = 0;
                for (size_t i = 0; i < s->nheap; i++) {
                    if (s->heap[i].kind == K_LATE)
                        s->heap[keep++] = s->heap[i];
                    else if (s->heap[i].kind == K_LINE)
                        held_release(s, (int)s->heap[i].ref);
                }
                s->nheap = keep;
                for (size_t i = keep / 2 + 1; i-- > 0;) { /* re-heapify */
                    size_t j = i;
                    item v = s->heap[j];
                    for (;;) {
                        size_t c = 2 * j + 1;
                        if (c >= keep) break;
                        if (c + 1 < keep && item_less(&s->heap[c + 1], &s->heap[c])) c++;
                        if (!item_less(&s->heap[c], &v)) break;
                        s->heap[j] = s->heap[c];
                        j = c;
                    }
                    s->heap[j] = v;
                }
                continue;
            }
        }
        item it = pop(s);
        if (it.t > s->now) s->now = it.t;
        if (it.kind == K_STORM && it.ref == UINT32_MAX)
            storm_begin(s);
        else
            run_item(s, &it);
    }
    return true;
}

int ow_sim_next(ow_sim *s, ow_sim_line *line)
{
    if (!advance(s) || s->oom) return s->oom ? OW_ENOMEM : 0;
    const out_rec *r = &s->outq[s->outhead++];
    *line = (ow_sim_line){s->obuf + r->off, r->len, r->type, r->ts, r->deliver};
    s->st.lines++;
    s->st.by_type[r->type]++;
    return 1;
}

void ow_sim_stats_get(const ow_sim *s, ow_sim_stats *out)
{
    *out = s->st;
    out->queue_len = (int64_t)s->nheap;
    out->pending_len = s->npending;
    out->sim_now_ms = s->now;
}
