#include "painter.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

struct ow_painter {
    const ow_font *like;
    int w, h;
    SDL_Surface *surface; /* its own pixels, or a view of a canvas (ow_painter_target) */
    const void *view_of;  /* the canvas pixels `surface` shows; NULL: its own */
    int view_pitch;
    SDL_Renderer *renderer; /* software, on surface */
    ow_font *font;          /* for renderer */
    bool failed;            /* could not make them: logged once */
    int failed_w, failed_h; /* the size that failed: not tried again */
    /* the job */
    pthread_t thread;
    bool running;
    ow_painter_job job;
    void *arg;
    double u;
    int64_t job_cpu_us; /* of the last job */
};

int ow_painter_new(const ow_font *like, ow_painter **out, ow_err *err)
{
    ow_painter *p = calloc(1, sizeof *p);
    if (!p) return ow_err_set(err, OW_ENOMEM, "out of memory");
    p->like = like;
    *out = p;
    return OW_OK;
}

static void drop(ow_painter *p)
{
    ow_painter_finish(p);
    ow_font_free(p->font); /* its textures belong to the renderer: before it */
    if (p->renderer) SDL_DestroyRenderer(p->renderer);
    if (p->surface) SDL_FreeSurface(p->surface);
    p->font = NULL;
    p->renderer = NULL;
    p->surface = NULL;
    p->view_of = NULL;
    p->w = p->h = 0;
}

void ow_painter_free(ow_painter *p)
{
    if (!p) return;
    drop(p);
    free(p);
}

/* The renderer and font for p->surface (made by the caller), or false with everything dropped. */
static bool make(ow_painter *p, int w, int h)
{
    ow_err err = {0};
    p->renderer = p->surface ? SDL_CreateSoftwareRenderer(p->surface) : NULL;
    if (!p->renderer || ow_font_clone(p->like, p->renderer, &p->font, &err) != OW_OK) {
        if (!p->failed)
            ow_warn("wallboard: no second painter at %dx%d (%s): one thread draws every panel", w,
                    h, p->renderer ? err.msg : SDL_GetError());
        p->failed = true;
        p->failed_w = w;
        p->failed_h = h;
        drop(p);
        return false;
    }
    p->w = w;
    p->h = h;
    return true;
}

bool ow_painter_size(ow_painter *p, int w, int h)
{
    if (p->surface && !p->view_of && p->w == w && p->h == h) return true;
    if (p->failed && p->failed_w == w && p->failed_h == h) return false;
    drop(p);
    p->surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    return make(p, w, h);
}

bool ow_painter_target(ow_painter *p, SDL_Surface *canvas)
{
    const int w = canvas->w, h = canvas->h;
    if (p->surface && p->view_of == canvas->pixels && p->view_pitch == canvas->pitch && p->w == w &&
        p->h == h)
        return true;
    if (p->failed && p->failed_w == w && p->failed_h == h) return false;
    drop(p);
    p->surface = SDL_CreateRGBSurfaceWithFormatFrom(canvas->pixels, w, h, 32, canvas->pitch,
                                                    SDL_PIXELFORMAT_RGB888);
    if (!make(p, w, h)) return false;
    p->view_of = canvas->pixels;
    p->view_pitch = canvas->pitch;
    return true;
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ow_painter_job_cpu_us(const ow_painter *p)
{
    return p->job_cpu_us;
}

static void *run(void *arg)
{
    ow_painter *p = arg;
    const int64_t t0 = thread_cpu_us();
    const ow_draw d = {p->renderer, p->font, p->u, p->surface, NULL};
    p->job(p->arg, &d);
    SDL_RenderFlush(p->renderer); /* every pixel in the surface before the board copies it */
    ow_font_frame_end(p->font);
    p->job_cpu_us = thread_cpu_us() - t0;
    return NULL;
}

bool ow_painter_start(ow_painter *p, double u, ow_painter_job job, void *arg)
{
    if (!p->surface || p->running) return false;
    p->job = job;
    p->arg = arg;
    p->u = u;
    p->running = pthread_create(&p->thread, NULL, run, p) == 0;
    return p->running;
}

void ow_painter_finish(ow_painter *p)
{
    if (!p->running) return;
    pthread_join(p->thread, NULL);
    p->running = false;
}

int ow_painter_copy(ow_painter *p, SDL_Texture *dst, SDL_Rect r)
{
    SDL_Rect all = {0, 0, p->w, p->h};
    if (!p->surface || p->view_of || !SDL_IntersectRect(&r, &all, &r)) return 0;
    const uint8_t *px =
        (const uint8_t *)p->surface->pixels + (size_t)r.y * p->surface->pitch + (size_t)r.x * 4;
    return SDL_UpdateTexture(dst, &r, px, p->surface->pitch);
}
