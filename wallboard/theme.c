#include "theme.h"

/* Dark navy surfaces; text at >= 7:1 contrast on them (WCAG AAA) for reading from across a room. */
static const SDL_Color tones[OW_TONE__COUNT] = {
    [OW_TONE_BACKGROUND] = {0x0A, 0x0F, 0x1A, 0xFF}, [OW_TONE_PANEL] = {0x13, 0x1B, 0x2C, 0xFF},
    [OW_TONE_PANEL_EDGE] = {0x2A, 0x37, 0x52, 0xFF}, [OW_TONE_TRACK] = {0x22, 0x2D, 0x44, 0xFF},
    [OW_TONE_TEXT] = {0xF1, 0xF5, 0xFB, 0xFF},       [OW_TONE_TEXT_DIM] = {0xA3, 0xB2, 0xC8, 0xFF},
    [OW_TONE_TEXT_FAINT] = {0x64, 0x74, 0x8E, 0xFF},
};

/* The alarm scale: level, where it starts (percent of a threshold), colour. Rows in rising order;
 * rows with start -1 are not on the percentage scale and are only chosen by name. */
static const struct {
    ow_alarm level;
    int64_t start_pct;
    SDL_Color color;
} alarms[OW_ALARM__COUNT] = {
    {OW_ALARM_CALM, -1, {0x64, 0x74, 0x8E, 0xFF}},
    {OW_ALARM_INFO, -1, {0x6C, 0xB8, 0xFF, 0xFF}},
    {OW_ALARM_OK, 0, {0x34, 0xD3, 0x83, 0xFF}},
    {OW_ALARM_WATCH, 50, {0xF2, 0xD7, 0x4E, 0xFF}},
    {OW_ALARM_WARN, 80, {0xFF, 0x9F, 0x3D, 0xFF}},
    {OW_ALARM_BREACH, 100, {0xFF, 0x4D, 0x5A, 0xFF}},
    {OW_ALARM_SEVERE, 150, {0xE8, 0x5C, 0xFF, 0xFF}},
};

/* Priority accents: red, amber, blue — distinguishable with the common colour-vision deficiencies
 * because they also differ in lightness, and every tile carries its label as text. */
static const SDL_Color accents[OW_ACCENT__COUNT] = {
    [OW_PRIO_EMERGENCY] = {0xFF, 0x4D, 0x5A, 0xFF},
    [OW_PRIO_IMPORTANT] = {0xFF, 0xA8, 0x3D, 0xFF},
    [OW_PRIO_GENERAL] = {0x4D, 0xB2, 0xFF, 0xFF},
    [OW_ACCENT_TOTAL] = {0xF1, 0xF5, 0xFB, 0xFF},
};

SDL_Color ow_theme_tone(ow_tone tone)
{
    return tone < OW_TONE__COUNT ? tones[tone] : tones[OW_TONE_TEXT];
}

SDL_Color ow_theme_alarm(ow_alarm level)
{
    return level < OW_ALARM__COUNT ? alarms[level].color : alarms[OW_ALARM_BREACH].color;
}

ow_alarm ow_theme_alarm_for_pct(int64_t pct)
{
    ow_alarm level = OW_ALARM_OK;
    if (pct < 0) pct = 0;
    for (int i = 0; i < OW_ALARM__COUNT; i++)
        if (alarms[i].start_pct >= 0 && pct >= alarms[i].start_pct) level = alarms[i].level;
    return level;
}

SDL_Color ow_theme_accent(int accent)
{
    return accent >= 0 && accent < OW_ACCENT__COUNT ? accents[accent] : accents[OW_ACCENT_TOTAL];
}

SDL_Color ow_theme_count(int accent, int64_t count)
{
    return count == 0 ? ow_theme_alarm(OW_ALARM_CALM) : ow_theme_accent(accent);
}

SDL_Color ow_theme_alpha(SDL_Color c, uint8_t alpha)
{
    c.a = alpha;
    return c;
}

/* Escalation levels on the alarm scale: L0 = 50 %, L1 = 80 %, L2 = 100 %, L3 = 150 %. */
ow_alarm ow_theme_level_alarm(int level)
{
    static const ow_alarm by_level[4] = {OW_ALARM_WATCH, OW_ALARM_WARN, OW_ALARM_BREACH,
                                         OW_ALARM_SEVERE};
    return by_level[level < 0 ? 0 : level > 3 ? 3 : level];
}

SDL_Color ow_theme_level(int level)
{
    return ow_theme_alarm(ow_theme_level_alarm(level));
}

/* Okabe-Ito: offline grey, idle bluish green, en route sky blue, on site orange, break yellow. */
static const SDL_Color techs[OW_TECH__COUNT] = {
    [OW_TECH_OFFLINE] = {0x7A, 0x86, 0x99, 0xFF}, [OW_TECH_IDLE] = {0x00, 0xC0, 0x8B, 0xFF},
    [OW_TECH_ENROUTE] = {0x56, 0xB4, 0xE9, 0xFF}, [OW_TECH_ONSITE] = {0xE6, 0x9F, 0x00, 0xFF},
    [OW_TECH_BREAK] = {0xF0, 0xE4, 0x42, 0xFF},
};

SDL_Color ow_theme_tech(int status)
{
    return status >= 0 && status < OW_TECH__COUNT ? techs[status] : techs[OW_TECH_OFFLINE];
}

/* Stops of the heat ramp (viridis-like: monotone lightness, no red-green axis). */
static const SDL_Color heat_stops[] = {
    {0x2C, 0x1E, 0x5E, 0xFF}, {0x3B, 0x4B, 0x8C, 0xFF}, {0x2C, 0x7A, 0x8E, 0xFF},
    {0x21, 0xA3, 0x84, 0xFF}, {0x5E, 0xC9, 0x62, 0xFF}, {0xB5, 0xDE, 0x2B, 0xFF},
    {0xFD, 0xE7, 0x25, 0xFF},
};

SDL_Color ow_theme_heat(double t)
{
    const int n = (int)(sizeof heat_stops / sizeof heat_stops[0]);
    if (!(t > 0)) return heat_stops[0];
    if (t >= 1) return heat_stops[n - 1];
    double x = t * (n - 1);
    int i = (int)x;
    double f = x - i;
    SDL_Color a = heat_stops[i], b = heat_stops[i + 1];
    return (SDL_Color){(Uint8)(a.r + (b.r - a.r) * f), (Uint8)(a.g + (b.g - a.g) * f),
                       (Uint8)(a.b + (b.b - a.b) * f), 0xFF};
}

SDL_Color ow_theme_better(void)
{
    return alarms[OW_ALARM_OK].color;
}

SDL_Color ow_theme_worse(void)
{
    return alarms[OW_ALARM_BREACH].color;
}
