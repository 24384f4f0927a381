#include "screen.h"

#include <SDL_image.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct ow_screen {
    SDL_Surface *surface; /* surface mode */
    SDL_Window *window;   /* window mode */
    SDL_Renderer *renderer;
    bool video_init;
    bool headless;
    int wake[2]; /* headless: self-pipe that ow_screen_wake writes to; -1 otherwise */
    char desc[160];
};

int ow_screen_new_surface(int w, int h, ow_screen **out, ow_err *err)
{
    *out = NULL;
    ow_screen *s = calloc(1, sizeof *s);
    if (!s) return ow_err_set(err, OW_ENOMEM, "out of memory");
    s->wake[0] = s->wake[1] = -1;
    /* XRGB8888: no alpha channel, so the PNG is opaque and text edges are not translucent */
    s->surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    if (!s->surface || !(s->renderer = SDL_CreateSoftwareRenderer(s->surface))) {
        ow_err_set(err, OW_EIO, "cannot create a %dx%d offscreen picture: %s", w, h,
                   SDL_GetError());
        ow_screen_free(s);
        return OW_EIO;
    }
    s->headless = true;
    snprintf(s->desc, sizeof s->desc, "offscreen %dx%d surface, software renderer", w, h);
    *out = s;
    return OW_OK;
}

/* No display anywhere and no driver chosen: SDL would fall back to offscreen silently. */
static bool no_display(void)
{
    const char *names[] = {"SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && v[0]) return false;
    }
    return true;
}

int ow_screen_new_window(const ow_window_opts *o, ow_screen **out, bool *forced_offscreen,
                         ow_err *err)
{
    *out = NULL;
    *forced_offscreen = false;
    if (no_display()) {
        setenv("SDL_VIDEODRIVER", "offscreen", 1);
        *forced_offscreen = true;
    }
    ow_screen *s = calloc(1, sizeof *s);
    if (!s) return ow_err_set(err, OW_ENOMEM, "out of memory");
    s->wake[0] = s->wake[1] = -1;
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        ow_err_set(err, OW_EIO,
                   "cannot start SDL video (SDL_VIDEODRIVER=%s): %s; use --screenshot to render "
                   "without a display",
                   getenv("SDL_VIDEODRIVER") ? getenv("SDL_VIDEODRIVER") : "", SDL_GetError());
        free(s);
        return OW_EIO;
    }
    s->video_init = true;
    const char *driver = SDL_GetCurrentVideoDriver();
    s->headless = driver && (strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0);
    /* Nobody sees a headless window: render in software so the pixels equal --screenshot's. */
    if (s->headless) {
        /* and let it draw straight into the window's memory: by default SDL would present the
         * software framebuffer through an OpenGL texture (Mesa llvmpipe here) */
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        if (pipe(s->wake) != 0) {
            ow_err_set(err, OW_EIO, "pipe: %s", strerror(errno));
            ow_screen_free(s);
            return OW_EIO;
        }
        for (int i = 0; i < 2; i++) {
            fcntl(s->wake[i], F_SETFL, fcntl(s->wake[i], F_GETFL) | O_NONBLOCK);
            fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
        }
    }

    int display = o->display;
    if (display >= SDL_GetNumVideoDisplays()) {
        ow_warn("display %d does not exist (%d found); using display 0", display,
                SDL_GetNumVideoDisplays());
        display = 0;
    }
    Uint32 flags = SDL_WINDOW_ALLOW_HIGHDPI;
    int x = SDL_WINDOWPOS_CENTERED_DISPLAY(display), y = x, w = o->width, h = o->height;
    SDL_Rect bounds;
    if (o->fullscreen && SDL_GetDisplayBounds(display, &bounds) == 0) {
        /* open it already covering the display: without a window manager (a bare X server on
         * the wall PC) nobody would move a centred window to the corner when it goes fullscreen */
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
        x = bounds.x;
        y = bounds.y;
        w = bounds.w;
        h = bounds.h;
    } else {
        flags |= SDL_WINDOW_RESIZABLE;
    }
    s->window = SDL_CreateWindow("opswall 运营指挥大屏", x, y, w, h, flags);
    if (!s->window || !(s->renderer = SDL_CreateRenderer(s->window, -1, 0))) {
        ow_err_set(err, OW_EIO, "cannot open a %dx%d window on display %d (video driver %s): %s",
                   o->width, o->height, display, driver ? driver : "?", SDL_GetError());
        ow_screen_free(s);
        return OW_EIO;
    }
    if (o->fullscreen) SDL_ShowCursor(SDL_DISABLE);
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(s->renderer, &info) != 0) info.name = "?";
    ow_screen_size(s, &w, &h);
    snprintf(s->desc, sizeof s->desc, "video driver %s, renderer %s, %dx%d%s on display %d",
             driver ? driver : "?", info.name, w, h, o->fullscreen ? " fullscreen" : " window",
             display);
    *out = s;
    return OW_OK;
}

SDL_Renderer *ow_screen_renderer(ow_screen *s)
{
    return s->renderer;
}

SDL_Surface *ow_screen_canvas(ow_screen *s)
{
    if (s->surface) return s->surface;
    SDL_RendererInfo info;
    if (!s->window || SDL_GetRendererInfo(s->renderer, &info) != 0 ||
        !(info.flags & SDL_RENDERER_SOFTWARE))
        return NULL;
    /* SDL's software renderer on a window draws into the window's surface: this one */
    return SDL_GetWindowSurface(s->window);
}

void ow_screen_size(ow_screen *s, int *w, int *h)
{
    if (SDL_GetRendererOutputSize(s->renderer, w, h) != 0) *w = *h = 0;
}

bool ow_screen_headless(const ow_screen *s)
{
    return s->headless;
}

const char *ow_screen_describe(const ow_screen *s)
{
    return s->desc;
}

int ow_screen_save_png(ow_screen *s, const char *path, ow_err *err)
{
    SDL_Surface *pic = s->surface, *copy = NULL;
    if (!pic) {
        int w, h;
        ow_screen_size(s, &w, &h);
        copy = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
        if (!copy || SDL_RenderReadPixels(s->renderer, NULL, SDL_PIXELFORMAT_RGB888, copy->pixels,
                                          copy->pitch) != 0) {
            ow_err_set(err, OW_EIO, "cannot read the window's pixels: %s", SDL_GetError());
            SDL_FreeSurface(copy);
            return OW_EIO;
        }
        pic = copy;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = OW_OK;
    if (IMG_SavePNG(pic, tmp) != 0) {
        rc = ow_err_set(err, OW_EIO, "%s: cannot write PNG: %s", tmp, IMG_GetError());
        remove(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = ow_err_set(err, OW_EIO, "cannot rename %s to %s", tmp, path);
        remove(tmp);
    }
    SDL_FreeSurface(copy);
    return rc;
}

int ow_screen_wait_event(ow_screen *s, SDL_Event *ev, int timeout_ms)
{
    if (s->wake[0] < 0) return SDL_WaitEventTimeout(ev, timeout_ms);
    if (SDL_PollEvent(ev)) return 1;
    struct pollfd p = {.fd = s->wake[0], .events = POLLIN};
    poll(&p, 1, timeout_ms); /* a signal (SDL turns SIGINT/SIGTERM into SDL_QUIT) ends it too */
    char drain[64];
    while (read(s->wake[0], drain, sizeof drain) > 0) {
    }
    return SDL_PollEvent(ev);
}

void ow_screen_wake(ow_screen *s, Uint32 type)
{
    SDL_Event ev = {.type = type};
    SDL_PushEvent(&ev);
    if (s->wake[1] >= 0) {
        ssize_t n = write(s->wake[1], "w", 1); /* full pipe: a wake-up is pending anyway */
        (void)n;
    }
}

void ow_screen_present(ow_screen *s)
{
    if (s->window) SDL_RenderPresent(s->renderer);
}

void ow_screen_free(ow_screen *s)
{
    if (!s) return;
    if (s->renderer) SDL_DestroyRenderer(s->renderer);
    if (s->window) SDL_DestroyWindow(s->window);
    if (s->surface) SDL_FreeSurface(s->surface);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0) close(s->wake[i]);
    if (s->video_init) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        SDL_Quit();
    }
    free(s);
}
