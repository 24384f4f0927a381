#include "template.h"

#include <stdlib.h>
#include <string.h>

/* A compiled template: pieces alternate literal text and variable names. */
typedef struct piece {
    size_t off, len; /* into text */
    int var;         /* 1 = the piece is a variable name */
} piece;

struct ow_template {
    char *text;
    piece *pieces;
    size_t n;
};

void ow_template_free(ow_template *t)
{
    if (!t) return;
    free(t->text);
    free(t->pieces);
    free(t);
}

const char *ow_template_text(const ow_template *t)
{
    return t->text;
}

static int push(ow_template *t, size_t *cap, size_t off, size_t len, int var)
{
    if (!len) return 0;
    if (t->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        piece *np = realloc(t->pieces, nc * sizeof *np);
        if (!np) return -1;
        t->pieces = np;
        *cap = nc;
    }
    t->pieces[t->n++] = (piece){off, len, var};
    return 0;
}

static void list_vars(const char *const *vars, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; vars[i] && used + 1 < n; i++) {
        size_t l = strlen(vars[i]);
        if (used + l + 3 >= n) break;
        if (i) out[used++] = ',', out[used++] = ' ';
        memcpy(out + used, vars[i], l);
        used += l;
        out[used] = '\0';
    }
}

int ow_template_parse(const char *text, const char *const *vars, const char *path,
                      ow_template **out, ow_err *err)
{
    *out = NULL;
    size_t len = strlen(text);
    if (len > OW_TEMPLATE_MAX_BYTES)
        return ow_err_set(err, OW_EINVAL, "%s: template of %zu bytes, at most %d", path, len,
                          OW_TEMPLATE_MAX_BYTES);
    ow_template *t = calloc(1, sizeof *t);
    if (!t || !(t->text = strdup(text))) {
        free(t);
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    size_t cap = 0, lit = 0, i = 0;
    int rc = OW_OK;
    while (i < len && !rc) {
        if (text[i] != '{' || text[i + 1] != '{') {
            if (text[i] == '}' && text[i + 1] == '}')
                rc = ow_err_set(err, OW_EINVAL, "%s: \"}}\" at byte %zu without \"{{\" before it",
                                path, i);
            i++;
            continue;
        }
        const char *close = strstr(text + i + 2, "}}");
        if (!close) {
            rc = ow_err_set(err, OW_EINVAL, "%s: \"{{\" at byte %zu is never closed by \"}}\"",
                            path, i);
            break;
        }
        size_t vo = i + 2, vl = (size_t)(close - (text + vo));
        while (vl && text[vo] == ' ')
            vo++, vl--;
        while (vl && text[vo + vl - 1] == ' ')
            vl--;
        bool known = false;
        for (int k = 0; vars[k] && !known; k++)
            known = strlen(vars[k]) == vl && memcmp(vars[k], text + vo, vl) == 0;
        if (!known) {
            char allowed[400];
            list_vars(vars, allowed, sizeof allowed);
            rc = ow_err_set(err, OW_EINVAL, "%s: unknown placeholder {{%.*s}}; known: %s", path,
                            (int)(vl > OW_TEMPLATE_VAR_MAX ? OW_TEMPLATE_VAR_MAX : vl), text + vo,
                            allowed);
            break;
        }
        if (push(t, &cap, lit, i - lit, 0) || push(t, &cap, vo, vl, 1))
            rc = ow_err_set(err, OW_ENOMEM, "out of memory");
        i = (size_t)(close - text) + 2;
        lit = i;
    }
    if (!rc && push(t, &cap, lit, len - lit, 0)) rc = ow_err_set(err, OW_ENOMEM, "out of memory");
    if (rc) {
        ow_template_free(t);
        return rc;
    }
    *out = t;
    return OW_OK;
}

void ow_template_render(const ow_template *t, ow_template_lookup_fn *lookup, void *ctx, ow_buf *out)
{
    for (size_t i = 0; i < t->n; i++) {
        const piece *p = &t->pieces[i];
        if (!p->var) {
            ow_buf_put(out, t->text + p->off, p->len);
            continue;
        }
        char name[OW_TEMPLATE_VAR_MAX + 1];
        size_t l = p->len < OW_TEMPLATE_VAR_MAX ? p->len : OW_TEMPLATE_VAR_MAX;
        memcpy(name, t->text + p->off, l);
        name[l] = '\0';
        const char *v = lookup(ctx, name);
        if (v) ow_buf_put(out, v, strlen(v));
    }
}
