/*
 * template — message templates: text with {{name}} placeholders, nothing else.
 *
 * Deliberately tiny (no loops, no conditions, no escapes): the lists and the choices — which
 * alerts, late or due, acknowledged or not — are made in code (render.c), and each piece of wording
 * is its own template, per language, in config/notify.json. A placeholder must name a variable the
 * template's role allows; that is checked when the configuration loads, so rendering never meets
 * an unknown name. A literal "{{" is not expressible (chat formats do not need it).
 *
 * Pure. Lifecycle: ow_template_parse → ow_template_render* → ow_template_free.
 */
#ifndef OW_TEMPLATE_H
#define OW_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define OW_TEMPLATE_MAX_BYTES 4096 /* longest template text */
#define OW_TEMPLATE_VAR_MAX   32   /* longest variable name */

typedef struct ow_template ow_template;

/* Compile `text`; every {{name}} must be one of `vars` (NULL-terminated). Errors name `path`
 * and, for an unknown name, the allowed ones. *out is owned by the caller. */
int ow_template_parse(const char *text, const char *const *vars, const char *path,
                      ow_template **out, ow_err *err);
void ow_template_free(ow_template *t);

/* Value of a variable for one rendering; return NULL for "" . */
typedef const char *ow_template_lookup_fn(void *ctx, const char *name);

/* Append the rendered text to out (ow_buf: check out->oom once at the end). */
void ow_template_render(const ow_template *t, ow_template_lookup_fn *lookup, void *ctx,
                        ow_buf *out);

/* The source text (borrowed). */
const char *ow_template_text(const ow_template *t);

#endif
