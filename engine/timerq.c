#include "timerq.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void ow_timerq_init(ow_timerq *q)
{
    memset(q, 0, sizeof *q);
}

void ow_timerq_fini(ow_timerq *q)
{
    for (size_t i = 0; i < q->n; i++)
        *q->heap[i].pos = -1;
    free(q->heap);
    ow_timerq_init(q);
}

static bool before(const ow_timer *a, const ow_timer *b)
{
    return a->at < b->at || (a->at == b->at && a->tie < b->tie);
}

static void place(ow_timerq *q, size_t i, ow_timer t)
{
    q->heap[i] = t;
    *t.pos = (int32_t)i;
}

static void sift_up(ow_timerq *q, size_t i)
{
    ow_timer t = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&t, &q->heap[parent])) break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, t);
}

static void sift_down(ow_timerq *q, size_t i)
{
    ow_timer t = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const ow_timer *best = &t;
        if (l < q->n && before(&q->heap[l], best)) m = l, best = &q->heap[l];
        if (r < q->n && before(&q->heap[r], best)) m = r;
        if (m == i) break;
        place(q, i, q->heap[m]);
        i = m;
    }
    place(q, i, t);
}

int ow_timerq_set(ow_timerq *q, int64_t at, uint64_t tie, void *owner, int32_t *pos)
{
    if (*pos >= 0) {
        size_t i = (size_t)*pos;
        int64_t old = q->heap[i].at;
        uint64_t old_tie = q->heap[i].tie;
        q->heap[i].at = at;
        q->heap[i].tie = tie;
        q->heap[i].owner = owner;
        if (at < old || (at == old && tie < old_tie))
            sift_up(q, i);
        else
            sift_down(q, i);
        return OW_OK;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        ow_timer *h = realloc(q->heap, cap * sizeof *h);
        if (!h) return OW_ENOMEM;
        q->heap = h;
        q->cap = cap;
    }
    q->heap[q->n] = (ow_timer){at, tie, owner, pos};
    *pos = (int32_t)q->n;
    q->n++;
    sift_up(q, q->n - 1);
    return OW_OK;
}

void ow_timerq_remove(ow_timerq *q, int32_t *pos)
{
    if (*pos < 0) return;
    size_t i = (size_t)*pos;
    *pos = -1;
    q->n--;
    if (i == q->n) return;
    ow_timer last = q->heap[q->n];
    place(q, i, last);
    if (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2]))
        sift_up(q, i);
    else
        sift_down(q, i);
}

const ow_timer *ow_timerq_peek(const ow_timerq *q)
{
    return q->n ? &q->heap[0] : NULL;
}
