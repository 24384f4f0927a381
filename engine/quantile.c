#include "quantile.h"

#include <math.h>
#include <string.h>

/* ln γ and its inverse, computed once per call from the constant (the compiler folds them) */
static double log_gamma(void)
{
    return log((1 + OW_QS_ALPHA) / (1 - OW_QS_ALPHA));
}

void ow_qs_init(ow_qsketch *q)
{
    memset(q, 0, sizeof *q);
}

int ow_qs_index(int64_t ms)
{
    if (ms < 1) return 0;
    /* bucket i holds (γ^(i-1), γ^i]: i = ceil(ln v / ln γ), plus 1 so that v = 1 ms is bucket 1 */
    double i = ceil(log((double)ms) / log_gamma()) + 1;
    return i >= OW_QS_BUCKETS - 1 ? OW_QS_BUCKETS - 1 : (int)i;
}

double ow_qs_value(int idx)
{
    if (idx <= 0) return 0;
    double g = (1 + OW_QS_ALPHA) / (1 - OW_QS_ALPHA);
    /* midpoint in relative terms of (γ^(k-1), γ^k], k = idx - 1 */
    return 2 * exp((idx - 1) * log_gamma()) / (g + 1);
}

void ow_qs_add(ow_qsketch *q, int idx, int delta)
{
    if (idx < 0 || idx >= OW_QS_BUCKETS) return;
    if (delta < 0 && q->count[idx] < (uint32_t)-delta) delta = -(int)q->count[idx];
    q->count[idx] = (uint32_t)((int64_t)q->count[idx] + delta);
    q->n += delta;
}

void ow_qs_merge(ow_qsketch *into, const ow_qsketch *from)
{
    if (!from->n) return;
    for (int i = 0; i < OW_QS_BUCKETS; i++)
        into->count[i] += from->count[i];
    into->n += from->n;
}

double ow_qs_quantile(const ow_qsketch *q, double quant)
{
    if (q->n <= 0) return -1;
    if (quant < 0) quant = 0;
    if (quant > 1) quant = 1;
    int64_t rank = (int64_t)ceil(quant * (double)q->n);
    if (rank < 1) rank = 1;
    int64_t seen = 0;
    for (int i = 0; i < OW_QS_BUCKETS; i++) {
        seen += q->count[i];
        if (seen >= rank) return ow_qs_value(i);
    }
    return ow_qs_value(OW_QS_BUCKETS - 1);
}
