#include "font.h"

#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define FONT_PATH_MAX    512
#define TEXT_CACHE_MAX   4096 /* entries (a hash table); a full board shows a few hundred lines */
#define TEXT_IDLE_FRAMES 120  /* drop a line not drawn for this many frames (~2 min at 1 fps) */
#define TEXT_BUDGET_PX                                                                             \
    (8 * 1024 * 1024)         /* texture pixels kept at most (32 MiB; a 4K board shows ~3 M) */
#define SIZE_CACHE_MAX   48   /* open (face, weight, size) handles */
#define SIZE_IDLE_FRAMES 600  /* close a size not used for this many frames */
#define RUNS_MAX         32   /* script runs per line; the rest joins the last run */
#define WIDTH_CACHE      2048 /* measured widths kept (direct-mapped on the hash) */
#define WIDTH_TEXT_MAX   96   /* longer lines are measured every time */

typedef enum { FACE_LATIN, FACE_CJK, FACE__COUNT } face_id;

typedef struct face_file {
    char path[FONT_PATH_MAX];
    long index;
    bool present;
    bool synth_bold; /* no bold file: embolden the regular face */
} face_file;

typedef struct sized_font {
    TTF_Font *font; /* NULL = free slot */
    face_id face;
    ow_font_weight weight;
    int px;
    uint64_t used; /* frame of last use */
} sized_font;

typedef struct text_entry {
    char *utf8; /* NULL = free slot; (char *)&tombstone = removed */
    uint64_t hash;
    ow_text_style st;
    ow_text text;
    uint64_t used;
} text_entry;

/* A measured width: fitting a line to its column measures it (and its cut candidates) on every
 * redraw, and HarfBuzz shaping is a good part of a redrawn panel's cost. */
typedef struct width_entry {
    uint64_t hash; /* 0 = empty */
    int px, w;
    ow_font_weight weight;
    char utf8[WIDTH_TEXT_MAX];
} width_entry;

struct ow_font {
    SDL_Renderer *renderer;
    width_entry widths[WIDTH_CACHE];
    face_file files[FACE__COUNT][OW_FONT__WEIGHTS];
    sized_font sizes[SIZE_CACHE_MAX];
    text_entry texts[TEXT_CACHE_MAX]; /* open addressing on hash, linear probing */
    int ntexts;                       /* live entries */
    int64_t pixels;                   /* texture pixels held */
    uint64_t frame;
};

static char tombstone;
#define REMOVED (&tombstone)

/* SDL_ttf shares one FreeType library between all fonts. FreeType allows faces to be used on
 * several threads (each face by one thread at a time) when opening and closing faces is serialised
 * (FreeType's FT_Library notes, since 2.5.6): the board's painter thread (painter.h) has its own
 * ow_font, so only these calls need the lock. */
static pthread_mutex_t faces_lock = PTHREAD_MUTEX_INITIALIZER;

static TTF_Font *open_face(const char *path, int px, long index)
{
    pthread_mutex_lock(&faces_lock);
    TTF_Font *font = TTF_OpenFontIndex(path, px, index);
    pthread_mutex_unlock(&faces_lock);
    return font;
}

static void close_face(TTF_Font *font)
{
    pthread_mutex_lock(&faces_lock);
    TTF_CloseFont(font);
    pthread_mutex_unlock(&faces_lock);
}

static int ttf_init(void)
{
    pthread_mutex_lock(&faces_lock);
    int rc = TTF_Init();
    pthread_mutex_unlock(&faces_lock);
    return rc;
}

static void ttf_quit(void)
{
    pthread_mutex_lock(&faces_lock);
    TTF_Quit();
    pthread_mutex_unlock(&faces_lock);
}

/* ---- finding the faces ---------------------------------------------------------------------- */

/* fontconfig's best match for `pattern`, if it covers U+4E2D (中): a real CJK face, not a Latin
 * fallback. Uses a private FcConfig so nothing stays loaded afterwards. */
static bool find_cjk(const char *pattern, face_file *out)
{
    bool ok = false;
    FcConfig *cfg = FcInitLoadConfigAndFonts();
    FcPattern *pat = cfg ? FcNameParse((const FcChar8 *)pattern) : NULL;
    FcPattern *match = NULL;
    if (!pat) goto out;
    FcConfigSubstitute(cfg, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    match = FcFontMatch(cfg, pat, &res);
    FcChar8 *file = NULL;
    FcCharSet *cs = NULL;
    int index = 0;
    if (!match || FcPatternGetString(match, FC_FILE, 0, &file) != FcResultMatch) goto out;
    if (FcPatternGetInteger(match, FC_INDEX, 0, &index) != FcResultMatch) index = 0;
    if (FcPatternGetCharSet(match, FC_CHARSET, 0, &cs) != FcResultMatch ||
        !FcCharSetHasChar(cs, 0x4E2D))
        goto out;
    snprintf(out->path, sizeof out->path, "%s", (const char *)file);
    out->index = index;
    out->present = true;
    ok = true;
out:
    if (match) FcPatternDestroy(match);
    if (pat) FcPatternDestroy(pat);
    if (cfg) FcConfigDestroy(cfg);
    return ok;
}

/* ".../DejaVuSans.ttf" → ".../DejaVuSans-Bold.ttf" */
static void bold_sibling(const char *regular, char *out, size_t n)
{
    const char *dot = strrchr(regular, '.');
    const char *slash = strrchr(regular, '/');
    if (!dot || (slash && dot < slash)) dot = regular + strlen(regular);
    snprintf(out, n, "%.*s-Bold%s", (int)(dot - regular), regular, dot);
}

/* ---- sizes ---------------------------------------------------------------------------------- */

static TTF_Font *sized(ow_font *f, face_id face, ow_font_weight weight, int px)
{
    sized_font *slot = NULL;
    for (int i = 0; i < SIZE_CACHE_MAX; i++) {
        sized_font *s = &f->sizes[i];
        if (s->font && s->face == face && s->weight == weight && s->px == px) {
            s->used = f->frame;
            return s->font;
        }
        /* a free slot, else the least recently used one */
        if (!slot || (slot->font && (!s->font || s->used < slot->used))) slot = s;
    }
    const face_file *ff = &f->files[face][weight];
    if (!ff->present) return NULL;
    if (slot->font) close_face(slot->font);
    slot->font = open_face(ff->path, px, ff->index);
    if (!slot->font) {
        ow_warn("cannot open font %s#%ld at %d px: %s", ff->path, ff->index, px, TTF_GetError());
        return NULL;
    }
    if (ff->synth_bold) TTF_SetFontStyle(slot->font, TTF_STYLE_BOLD);
    slot->face = face;
    slot->weight = weight;
    slot->px = px;
    slot->used = f->frame;
    return slot->font;
}

/* ---- runs ----------------------------------------------------------------------------------- */

/* Decode one UTF-8 sequence at s; sets *len (>= 1). Malformed input gives U+FFFD. */
static uint32_t utf8_next(const unsigned char *s, int *len)
{
    uint32_t c = s[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0) {
        *len = 1;
        return 0xFFFD;
    }
    if (n == 1) {
        *len = 1;
        return c;
    }
    c &= 0x7Fu >> n;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = i;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    *len = n;
    return c;
}

typedef struct run {
    face_id face;
    size_t start, len; /* bytes of the line */
} run;

/* Cut `utf8` into runs of one face each: the Latin face for what it has, CJK for the rest.
 * Spaces join the run they are in, so "数据 3 s 前" is 数据 · " 3 s " · 前. */
static int split_runs(ow_font *f, TTF_Font *latin, TTF_Font *cjk, const char *utf8, run *runs)
{
    int count = 0;
    const unsigned char *s = (const unsigned char *)utf8;
    size_t i = 0;
    while (s[i]) {
        int len;
        uint32_t c = utf8_next(s + i, &len);
        face_id face = FACE_LATIN;
        if (c != ' ' && cjk && !TTF_GlyphIsProvided32(latin, c) && TTF_GlyphIsProvided32(cjk, c))
            face = FACE_CJK;
        if (count > 0 && (runs[count - 1].face == face || c == ' ' || count == RUNS_MAX)) {
            runs[count - 1].len += (size_t)len;
        } else {
            runs[count++] = (run){face, i, (size_t)len};
        }
        i += (size_t)len;
    }
    (void)f;
    return count;
}

/* ---- rendering ------------------------------------------------------------------------------ */

static SDL_Surface *render_line(ow_font *f, ow_text_style st, const char *utf8, int *ascent_out,
                                int *cap_out)
{
    TTF_Font *fonts[FACE__COUNT] = {sized(f, FACE_LATIN, st.weight, st.px),
                                    sized(f, FACE_CJK, st.weight, st.px)};
    if (!fonts[FACE_LATIN]) return NULL;
    run runs[RUNS_MAX];
    int nruns = split_runs(f, fonts[FACE_LATIN], fonts[FACE_CJK], utf8, runs);
    SDL_Surface *parts[RUNS_MAX] = {0};
    SDL_Surface *line = NULL;
    int w = 0, ascent = 0, bottom = 0;
    for (int i = 0; i < nruns; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)runs[i].len, utf8 + runs[i].start);
        TTF_Font *font = fonts[runs[i].face];
        parts[i] = TTF_RenderUTF8_Blended(font, buf, st.color);
        if (!parts[i]) {
            ow_warn("cannot render text \"%s\": %s", buf, TTF_GetError());
            goto out;
        }
        w += parts[i]->w;
        if (TTF_FontAscent(font) > ascent) ascent = TTF_FontAscent(font);
    }
    for (int i = 0; i < nruns; i++) {
        int b = ascent - TTF_FontAscent(fonts[runs[i].face]) + parts[i]->h;
        if (b > bottom) bottom = b;
    }
    line = SDL_CreateRGBSurfaceWithFormat(0, w, bottom, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!line) goto out;
    int x = 0;
    for (int i = 0; i < nruns; i++) {
        /* Runs do not overlap: copy them, blending onto the transparent line would darken edges. */
        SDL_SetSurfaceBlendMode(parts[i], SDL_BLENDMODE_NONE);
        SDL_Rect at = {x, ascent - TTF_FontAscent(fonts[runs[i].face]), parts[i]->w, parts[i]->h};
        SDL_BlitSurface(parts[i], NULL, line, &at);
        x += parts[i]->w;
    }
    int miny, maxy;
    if (TTF_GlyphMetrics32(fonts[FACE_LATIN], '0', NULL, NULL, &miny, &maxy, NULL) != 0) maxy = 0;
    *ascent_out = ascent;
    *cap_out = maxy;
out:
    for (int i = 0; i < nruns; i++)
        SDL_FreeSurface(parts[i]);
    return line;
}

static int measure(ow_font *f, ow_font_weight weight, int px, const char *utf8);

static uint64_t text_hash(const char *utf8, ow_text_style st)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    uint32_t extra[3] = {(uint32_t)st.px, (uint32_t)st.weight,
                         (uint32_t)st.color.r << 24 | (uint32_t)st.color.g << 16 |
                             (uint32_t)st.color.b << 8 | st.color.a};
    for (int i = 0; i < 3; i++)
        h = (h ^ extra[i]) * 1099511628211ull;
    return h;
}

static bool same_style(ow_text_style a, ow_text_style b)
{
    return a.px == b.px && a.weight == b.weight && a.color.r == b.color.r &&
           a.color.g == b.color.g && a.color.b == b.color.b && a.color.a == b.color.a;
}

static bool live(const text_entry *e)
{
    return e->utf8 && e->utf8 != REMOVED;
}

static void entry_remove(ow_font *f, text_entry *e)
{
    if (!live(e)) return;
    if (e->text.texture) SDL_DestroyTexture(e->text.texture);
    f->pixels -= (int64_t)e->text.w * e->text.h;
    f->ntexts--;
    free(e->utf8);
    memset(e, 0, sizeof *e);
    e->utf8 = REMOVED;
}

/* Make room: drop the least recently drawn lines until under budget and below 3/4 full. */
static void evict(ow_font *f, int64_t incoming_px)
{
    while (f->ntexts > 0 &&
           (f->ntexts >= TEXT_CACHE_MAX * 3 / 4 || f->pixels + incoming_px > TEXT_BUDGET_PX)) {
        text_entry *old = NULL;
        for (int i = 0; i < TEXT_CACHE_MAX; i++)
            if (live(&f->texts[i]) && (!old || f->texts[i].used < old->used)) old = &f->texts[i];
        if (!old || old->used == f->frame) return; /* everything is on screen now: keep it */
        entry_remove(f, old);
    }
}

/* Rebuild the table without tombstones when they pile up (probe chains stay short). */
static void compact(ow_font *f)
{
    int dead = 0;
    for (int i = 0; i < TEXT_CACHE_MAX; i++)
        dead += f->texts[i].utf8 == REMOVED;
    if (dead < TEXT_CACHE_MAX / 8) return;
    text_entry *copy = malloc(sizeof f->texts);
    if (!copy) return;
    memcpy(copy, f->texts, sizeof f->texts);
    memset(f->texts, 0, sizeof f->texts);
    for (int i = 0; i < TEXT_CACHE_MAX; i++) {
        if (!live(&copy[i])) continue;
        size_t j = copy[i].hash & (TEXT_CACHE_MAX - 1);
        while (f->texts[j].utf8)
            j = (j + 1) & (TEXT_CACHE_MAX - 1);
        f->texts[j] = copy[i];
    }
    free(copy);
}

const ow_text *ow_font_text(ow_font *f, ow_text_style st, const char *utf8)
{
    if (!utf8 || !utf8[0] || st.px <= 0) return NULL;
    uint64_t h = text_hash(utf8, st);
    size_t i = h & (TEXT_CACHE_MAX - 1);
    for (int probes = 0; probes < TEXT_CACHE_MAX && f->texts[i].utf8; probes++) {
        text_entry *e = &f->texts[i];
        if (live(e) && e->hash == h && same_style(e->st, st) && strcmp(e->utf8, utf8) == 0) {
            e->used = f->frame;
            return &e->text;
        }
        i = (i + 1) & (TEXT_CACHE_MAX - 1);
    }
    int ascent = 0, cap = 0;
    SDL_Surface *line = render_line(f, st, utf8, &ascent, &cap);
    if (!line) return NULL;
    evict(f, (int64_t)line->w * line->h);
    compact(f);
    SDL_Texture *tex = SDL_CreateTextureFromSurface(f->renderer, line);
    int w = line->w, hh = line->h;
    SDL_FreeSurface(line);
    char *copy = strdup(utf8);
    if (!tex || !copy) {
        if (tex) SDL_DestroyTexture(tex);
        free(copy);
        ow_warn("cannot make a texture for \"%s\": %s", utf8,
                tex ? "out of memory" : SDL_GetError());
        return NULL;
    }
    SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
    /* a free slot or a tombstone on the probe path */
    size_t j = h & (TEXT_CACHE_MAX - 1);
    while (live(&f->texts[j]))
        j = (j + 1) & (TEXT_CACHE_MAX - 1);
    text_entry *slot = &f->texts[j];
    *slot = (text_entry){copy, h, st, {tex, w, hh, ascent, cap}, f->frame};
    f->ntexts++;
    f->pixels += (int64_t)w * hh;
    return &slot->text;
}

int ow_font_width(ow_font *f, ow_font_weight weight, int px, const char *utf8)
{
    if (!utf8) return 0;
    const size_t len = strlen(utf8);
    width_entry *we = NULL;
    if (len < WIDTH_TEXT_MAX) {
        const uint64_t h = text_hash(utf8, (ow_text_style){px, weight, {0, 0, 0, 0}}) | 1;
        we = &f->widths[h & (WIDTH_CACHE - 1)];
        if (we->hash == h && we->px == px && we->weight == weight && strcmp(we->utf8, utf8) == 0)
            return we->w;
        we->hash = 0;
        we->px = px;
        we->weight = weight;
        memcpy(we->utf8, utf8, len + 1);
        we->w = measure(f, weight, px, utf8);
        we->hash = h;
        return we->w;
    }
    return measure(f, weight, px, utf8);
}

static int measure(ow_font *f, ow_font_weight weight, int px, const char *utf8)
{
    TTF_Font *latin = sized(f, FACE_LATIN, weight, px), *cjk = sized(f, FACE_CJK, weight, px);
    if (!latin) return 0;
    run runs[RUNS_MAX];
    int nruns = split_runs(f, latin, cjk, utf8, runs), total = 0;
    for (int i = 0; i < nruns; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)runs[i].len, utf8 + runs[i].start);
        int w = 0;
        if (TTF_SizeUTF8(runs[i].face == FACE_CJK ? cjk : latin, buf, &w, NULL) == 0) total += w;
    }
    return total;
}

int ow_font_fit_px(ow_font *f, ow_font_weight weight, const char *utf8, int max_w, int max_px)
{
    const int probe = 100;
    int w = ow_font_width(f, weight, probe, utf8);
    if (w <= 0 || max_px < 1) return max_px < 1 ? 1 : max_px;
    int px = (int)((int64_t)probe * max_w / w);
    if (px > max_px) px = max_px;
    /* widths do not scale exactly linearly (hinting): step down until it fits */
    while (px > 1 && ow_font_width(f, weight, px, utf8) > max_w)
        px = px * 97 / 100;
    return px < 1 ? 1 : px;
}

void ow_font_frame_end(ow_font *f)
{
    for (int i = 0; i < TEXT_CACHE_MAX; i++)
        if (live(&f->texts[i]) && f->frame - f->texts[i].used > TEXT_IDLE_FRAMES)
            entry_remove(f, &f->texts[i]);
    for (int i = 0; i < SIZE_CACHE_MAX; i++) {
        sized_font *s = &f->sizes[i];
        if (s->font && f->frame - s->used > SIZE_IDLE_FRAMES) {
            close_face(s->font);
            memset(s, 0, sizeof *s);
        }
    }
    f->frame++;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* An empty cache drawing with r (SDL_ttf taken); NULL with err. */
static ow_font *font_alloc(SDL_Renderer *r, ow_err *err)
{
    if (ttf_init() != 0) {
        ow_err_set(err, OW_EIO, "SDL_ttf: %s", TTF_GetError());
        return NULL;
    }
    ow_font *f = calloc(1, sizeof *f);
    if (!f) {
        ttf_quit();
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    f->renderer = r;
    f->frame = 1;
    return f;
}

int ow_font_new(SDL_Renderer *r, const char *latin_path, ow_font **out, ow_err *err)
{
    *out = NULL;
    ow_font *f = font_alloc(r, err);
    if (!f) return err->code;

    face_file *lat = f->files[FACE_LATIN];
    snprintf(lat[OW_FONT_REGULAR].path, FONT_PATH_MAX, "%s", latin_path);
    lat[OW_FONT_REGULAR].present = true;
    bold_sibling(latin_path, lat[OW_FONT_BOLD].path, FONT_PATH_MAX);
    lat[OW_FONT_BOLD].present = true;
    if (access(lat[OW_FONT_BOLD].path, R_OK) != 0) {
        lat[OW_FONT_BOLD] = lat[OW_FONT_REGULAR];
        lat[OW_FONT_BOLD].synth_bold = true;
    }
    if (!sized(f, FACE_LATIN, OW_FONT_REGULAR, 24)) {
        ow_font_free(f);
        return ow_err_set(err, OW_EIO,
                          "wallboard.font: cannot open %s; point wallboard.font at a TrueType "
                          "font (the default is assets/fonts/DejaVuSans.ttf)",
                          latin_path);
    }

    face_file *cjk = f->files[FACE_CJK];
    if (find_cjk("sans-serif:lang=zh-cn", &cjk[OW_FONT_REGULAR])) {
        if (!find_cjk("sans-serif:lang=zh-cn:weight=bold", &cjk[OW_FONT_BOLD]) ||
            strcmp(cjk[OW_FONT_BOLD].path, cjk[OW_FONT_REGULAR].path) == 0) {
            cjk[OW_FONT_BOLD] = cjk[OW_FONT_REGULAR];
            cjk[OW_FONT_BOLD].synth_bold = true;
        }
    } else {
        ow_warn("no Chinese font found by fontconfig (sans-serif:lang=zh-cn): Chinese labels will "
                "show as boxes; install one with: sudo apt-get install fonts-noto-cjk");
    }
    FcFini(); /* the lookups used private configs; release fontconfig's own caches too */
    *out = f;
    return OW_OK;
}

void ow_font_free(ow_font *f)
{
    if (!f) return;
    for (int i = 0; i < TEXT_CACHE_MAX; i++)
        entry_remove(f, &f->texts[i]);
    for (int i = 0; i < SIZE_CACHE_MAX; i++)
        if (f->sizes[i].font) close_face(f->sizes[i].font);
    free(f);
    ttf_quit();
}

int ow_font_clone(const ow_font *like, SDL_Renderer *r, ow_font **out, ow_err *err)
{
    *out = NULL;
    ow_font *f = font_alloc(r, err);
    if (!f) return err->code;
    memcpy(f->files, like->files, sizeof f->files);
    *out = f;
    return OW_OK;
}

bool ow_font_has_cjk(const ow_font *f)
{
    return f->files[FACE_CJK][OW_FONT_REGULAR].present;
}

void ow_font_describe(const ow_font *f, char *out, size_t n)
{
    const face_file *l = f->files[FACE_LATIN], *c = f->files[FACE_CJK];
    snprintf(out, n, "Latin %s + %s%s, CJK %s#%ld + %s#%ld%s", l[0].path, l[1].path,
             l[1].synth_bold ? " (synthetic bold)" : "", c[0].present ? c[0].path : "(none)",
             c[0].index, c[1].present ? c[1].path : "(none)", c[1].index,
             c[1].synth_bold ? " (synthetic bold)" : "");
}
