/* SVG plots for the report. */
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Margins around the plotting area (px). */
#define M_LEFT 62
#define M_RIGHT 14
#define M_TOP 24
#define M_BOTTOM 36

/* Line styles: a colour and a dash pattern each, so two lines still differ
 * when printed in grey. */
static const struct {
    const char *colour;
    const char *dash; /* "" for solid */
    double width;
} STYLE[SVG_STYLES] = {
    { "#08306b", "", 1.6 },       { "#d95f02", "6 3", 1.6 },     { "#1b7a3e", "2 2", 1.8 },
    { "#6a51a3", "8 3 2 3", 1.5 }, { "#c2185b", "10 4", 1.5 },   { "#4d4d4d", "", 1.0 },
    { "#8c6d1f", "4 2 1 2", 1.5 }, { "#000000", "1 3", 1.8 },
};

/* Fault fills, one per fault type, light enough that lines over them read,
 * of differing lightness so neighbours differ in grey too. */
static const char *const FAULT_COLOUR[SVG_FAULT_COLOURS] = {
    "#fb8072", "#80b1d3", "#b3de69", "#bc80bd", "#fdb462", "#8dd3c7", "#fccde5", "#d9d9d9",
    "#ffed6f", "#bebada", "#ccebc5", "#e5c494", "#a6cee3", "#fdbf6f", "#cab2d6", "#b2df8a",
};

const char *
svg_fault_colour(int i)
{
    return FAULT_COLOUR[(unsigned) i % SVG_FAULT_COLOURS];
}

double
svg_nice_step(double span, int want)
{
    double raw, mag, f;

    if (!(span > 0) || want < 1) {
        return 1;
    }
    raw = span / want;
    mag = pow(10, floor(log10(raw)));
    f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* A tick value with as many decimals as the step needs. */
static void
put_tick(struct sr_buf *out, double v, double step)
{
    int dec = step >= 1 ? 0 : (int) ceil(-log10(step) - 1e-9);

    if (fabs(v) < step * 1e-6) {
        v = 0; /* no "-0" */
    }
    sr_buf_printf(out, "%.*f", dec > 6 ? 6 : dec, v);
}

static void
text(struct sr_buf *out, const char *s)
{
    sr_html_escape(out, s);
}

struct frame {
    double t0, t1, y0, y1; /* data ranges */
    double left, right, top, bottom; /* px */
};

static double
fx(const struct frame *f, double t)
{
    return f->left + (t - f->t0) / (f->t1 - f->t0) * (f->right - f->left);
}

static double
fy(const struct frame *f, double v)
{
    return f->bottom - (v - f->y0) / (f->y1 - f->y0) * (f->bottom - f->top);
}

/* The x axis: ticks, grid lines, the label. */
static void
x_axis(struct sr_buf *out, const struct frame *f)
{
    double step = svg_nice_step(f->t1 - f->t0, (int) ((f->right - f->left) / 80));

    sr_buf_puts(out, "<g class=\"axis\">");
    for (double t = ceil(f->t0 / step) * step; t <= f->t1 + step * 1e-9; t += step) {
        double x = fx(f, t);

        sr_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>",
                      x, f->top, x, f->bottom);
        sr_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x,
                      f->bottom + 14);
        put_tick(out, t, step);
        sr_buf_puts(out, "</text>");
    }
    sr_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"label\">"
                       "time since the run began (s)</text>",
                  (f->left + f->right) / 2, f->bottom + 30);
    sr_buf_puts(out, "</g>");
}

static void
y_axis(struct sr_buf *out, const struct frame *f, const char *unit)
{
    double step = svg_nice_step(f->y1 - f->y0, (int) ((f->bottom - f->top) / 28) + 1);

    sr_buf_puts(out, "<g class=\"axis\">");
    for (double v = ceil(f->y0 / step) * step; v <= f->y1 + step * 1e-9; v += step) {
        double y = fy(f, v);

        sr_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>",
                      f->left, y, f->right, y);
        sr_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", f->left - 4, y + 4);
        put_tick(out, v, step);
        sr_buf_puts(out, "</text>");
    }
    sr_buf_printf(out, "<text class=\"label\" text-anchor=\"middle\" "
                       "transform=\"translate(12 %.1f) rotate(-90)\">",
                  (f->top + f->bottom) / 2);
    text(out, unit);
    sr_buf_puts(out, "</text>");
    sr_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>",
                  f->left, f->top, f->right - f->left, f->bottom - f->top);
    sr_buf_puts(out, "</g>");
}

static void
bands(struct sr_buf *out, const struct frame *f, const struct svg_band *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double a = fx(f, fmax(b[i].from, f->t0)), z = fx(f, fmin(b[i].to, f->t1));

        if (z < a) {
            continue;
        }
        if (z - a < 1) {
            z = a + 1;
        }
        sr_buf_printf(out, "<rect class=\"fault\" data-id=\"%d\" data-type=\"", b[i].id);
        text(out, b[i].type);
        sr_buf_printf(out, "\" data-from=\"%.3f\" data-to=\"%.3f\" x=\"%.1f\" y=\"%.1f\" "
                           "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>#%d ",
                      b[i].from, b[i].to, a, f->top, z - a, f->bottom - f->top,
                      svg_fault_colour(b[i].colour), b[i].id);
        text(out, b[i].type);
        sr_buf_printf(out, " %.1f–%.1f s</title></rect>", b[i].from, b[i].to);
        sr_buf_printf(out, "<text class=\"band\" x=\"%.1f\" y=\"%.1f\">#%d</text>", a + 2,
                      f->top + 10, b[i].id);
    }
}

/* One point of a series in pixels, or a break. */
static void
put_point(struct sr_buf *out, bool *pen, double x, double y, enum svg_kind kind)
{
    if (kind == SVG_POINTS) {
        sr_buf_printf(out, "M%.1f %.1fh0", x, y);
        return;
    }
    sr_buf_printf(out, "%c%.1f %.1f", *pen ? 'L' : 'M', x, y);
    *pen = true;
}

/* The series' path, thinned to the first, lowest, highest and last point
 * of each pixel column, in time order. */
static void
series_path(struct sr_buf *out, const struct frame *f, const struct svg_series *s)
{
    bool pen = false;
    size_t i = 0;

    while (i < s->n) {
        size_t j = i, lo = SIZE_MAX, hi = SIZE_MAX, first = SIZE_MAX, last = SIZE_MAX;
        long col;

        if (isnan(s->v[i]) || s->t[i] < f->t0 || s->t[i] > f->t1) {
            if (isnan(s->v[i])) {
                pen = false;
            }
            i++;
            continue;
        }
        col = lround(fx(f, s->t[i]));
        while (j < s->n && !isnan(s->v[j]) && s->t[j] <= f->t1 && lround(fx(f, s->t[j])) == col) {
            if (first == SIZE_MAX) {
                first = j;
            }
            if (lo == SIZE_MAX || s->v[j] < s->v[lo]) {
                lo = j;
            }
            if (hi == SIZE_MAX || s->v[j] > s->v[hi]) {
                hi = j;
            }
            last = j;
            j++;
        }
        {
            size_t keep[4] = { first, lo < hi ? lo : hi, lo < hi ? hi : lo, last };

            for (int k = 0; k < 4; k++) {
                if (k > 0 && keep[k] == keep[k - 1]) {
                    continue;
                }
                put_point(out, &pen, fx(f, s->t[keep[k]]), fy(f, s->v[keep[k]]), s->kind);
            }
        }
        i = j;
    }
}

static void
stroke(struct sr_buf *out, const struct svg_series *s)
{
    if (s->thin) {
        sr_buf_puts(out, "stroke=\"#9a9a9a\" stroke-width=\"0.9\"");
    } else {
        sr_buf_printf(out, "stroke=\"%s\" stroke-width=\"%.1f\"", STYLE[s->style % SVG_STYLES].colour,
                      s->kind == SVG_POINTS ? 3.2 : STYLE[s->style % SVG_STYLES].width);
        if (*STYLE[s->style % SVG_STYLES].dash && s->kind == SVG_LINE) {
            sr_buf_printf(out, " stroke-dasharray=\"%s\"", STYLE[s->style % SVG_STYLES].dash);
        }
    }
    if (s->kind == SVG_POINTS) {
        sr_buf_puts(out, " stroke-linecap=\"round\"");
    }
}

static void
legend(struct sr_buf *out, const struct svg_plot *p, const struct frame *f)
{
    double x = f->right;

    if (p->nseries < 2) {
        return; /* the title names the one series */
    }
    /* Right to left along the title line, as many as fit. */
    for (size_t i = p->nseries; i-- > 0;) {
        const struct svg_series *s = &p->series[i];
        double w = 26 + 6.2 * (double) strlen(s->name);

        if (s->thin || x - w < f->left + 7.5 * (double) strlen(p->title) + 20) {
            continue;
        }
        x -= w;
        sr_buf_printf(out, "<path d=\"M%.1f %.1fh18\" fill=\"none\" ", x, f->top - 9);
        stroke(out, s);
        sr_buf_printf(out, "/><text x=\"%.1f\" y=\"%.1f\">", x + 21, f->top - 5);
        text(out, s->name);
        sr_buf_puts(out, "</text>");
    }
}

void
svg_plot(struct sr_buf *out, const struct svg_plot *p)
{
    struct frame f = { .t0 = p->t0, .t1 = p->t1 > p->t0 ? p->t1 : p->t0 + 1 };
    double lo = INFINITY, hi = -INFINITY, step;

    for (size_t i = 0; i < p->nseries; i++) {
        for (size_t k = 0; k < p->series[i].n; k++) {
            double v = p->series[i].v[k];

            if (!isnan(v) && isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    f.y0 = lo >= 0 ? 0 : lo;
    f.y1 = fmax(hi, p->ymax_floor);
    if (!(f.y1 > f.y0)) {
        f.y1 = f.y0 + 1;
    }
    /* Round the top up to a tick. */
    step = svg_nice_step(f.y1 - f.y0, (p->height - M_TOP - M_BOTTOM) / 28 + 1);
    f.y1 = ceil(f.y1 / step - 1e-9) * step;
    f.left = M_LEFT;
    f.right = p->width - M_RIGHT;
    f.top = M_TOP;
    f.bottom = p->height - M_BOTTOM;

    sr_buf_puts(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\"");
    if (p->id) {
        sr_buf_puts(out, " id=\"");
        text(out, p->id);
        sr_buf_puts(out, "\"");
    }
    sr_buf_printf(out, " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" data-t0=\"%.3f\" "
                       "data-t1=\"%.3f\" data-y0=\"%.6g\" data-y1=\"%.6g\" data-left=\"%.1f\" "
                       "data-right=\"%.1f\" data-top=\"%.1f\" data-bottom=\"%.1f\" role=\"img\">",
                  p->width, p->height, p->width, p->height, f.t0, f.t1, f.y0, f.y1, f.left,
                  f.right, f.top, f.bottom);
    sr_buf_puts(out, "<title>");
    text(out, p->title);
    sr_buf_puts(out, "</title>");
    bands(out, &f, p->bands, p->nbands);
    x_axis(out, &f);
    y_axis(out, &f, p->unit);
    sr_buf_printf(out, "<text class=\"title\" x=\"%.1f\" y=\"14\">", f.left);
    text(out, p->title);
    sr_buf_puts(out, "</text>");
    legend(out, p, &f);
    /* Context lines first, so the plot's own lines lie over them. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->nseries; i++) {
            const struct svg_series *s = &p->series[i];

            if (s->thin != (pass == 0)) {
                continue;
            }
            sr_buf_puts(out, "<path class=\"series\" data-name=\"");
            text(out, s->name);
            sr_buf_puts(out, "\" fill=\"none\" ");
            stroke(out, s);
            sr_buf_puts(out, " d=\"");
            series_path(out, &f, s);
            sr_buf_puts(out, "\"><title>");
            text(out, s->name);
            sr_buf_puts(out, "</title></path>");
        }
    }
    if (p->nticks) {
        sr_buf_puts(out, "<path class=\"ticks\" stroke=\"#b2182b\" stroke-width=\"1.6\" d=\"");
        for (size_t i = 0; i < p->nticks; i++) {
            if (p->ticks[i] >= f.t0 && p->ticks[i] <= f.t1) {
                sr_buf_printf(out, "M%.1f %.1fv-7", fx(&f, p->ticks[i]), f.bottom);
            }
        }
        sr_buf_puts(out, "\"><title>");
        text(out, p->ticks_name ? p->ticks_name : "");
        sr_buf_puts(out, "</title></path>");
    }
    sr_buf_puts(out, "</svg>\n");
}

static const char *const EV_NAME[SVG_EV_COUNT] = {
    "inject", "verified", "revert", "reverted", "healed", "failed",
};
static const char *const EV_GLYPH[SVG_EV_COUNT] = {
    "\xe2\x96\xb2", /* ▲ */
    "\xe2\x97\x8f", /* ● */
    "\xe2\x96\xbc", /* ▼ */
    "\xe2\x96\xa0", /* ■ */
    "\xe2\x97\x86", /* ◆ */
    "\xe2\x9c\x95", /* ✕ */
};

const char *
svg_event_name(enum svg_event e)
{
    return EV_NAME[e];
}

const char *
svg_event_glyph(enum svg_event e)
{
    return EV_GLYPH[e];
}

void
svg_timeline(struct sr_buf *out, const char *id, double t0, double t1, int width,
             const struct svg_episode *ep, size_t n)
{
    const int row = 20, label = 230;
    int height = M_TOP + (int) n * row + M_BOTTOM;
    struct frame f = { .t0 = t0, .t1 = t1 > t0 ? t1 : t0 + 1, .y0 = 0, .y1 = 1 };

    f.left = label;
    f.right = width - M_RIGHT;
    f.top = M_TOP;
    f.bottom = height - M_BOTTOM;
    sr_buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" id=\"%s\" "
                       "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" data-t0=\"%.3f\" "
                       "data-t1=\"%.3f\" data-left=\"%.1f\" data-right=\"%.1f\" role=\"img\">"
                       "<title>fault timeline</title>",
                  id, width, height, width, height, f.t0, f.t1, f.left, f.right);
    x_axis(out, &f);
    sr_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>",
                  f.left, f.top, f.right - f.left, f.bottom - f.top);
    sr_buf_printf(out, "<text class=\"title\" x=\"8\" y=\"14\">episode</text>");
    for (size_t i = 0; i < n; i++) {
        const struct svg_episode *e = &ep[i];
        double y = f.top + (double) i * row + row / 2.0;
        double a = e->at[SVG_EV_INJECT];
        double z = !isnan(e->at[SVG_EV_REVERTED]) ? e->at[SVG_EV_REVERTED] : e->end;

        sr_buf_printf(out, "<g class=\"episode\" data-id=\"%d\" data-type=\"", e->id);
        text(out, e->type);
        sr_buf_puts(out, "\">");
        sr_buf_printf(out, "<text x=\"8\" y=\"%.1f\">#%d ", y + 4, e->id);
        text(out, e->type);
        sr_buf_puts(out, " \xe2\x86\x92 ");
        text(out, e->target);
        sr_buf_puts(out, "</text>");
        if (!isnan(a)) {
            sr_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
                               "fill=\"%s\" stroke=\"#555\" stroke-width=\"0.6\"/>",
                          fx(&f, a), y - 6, fmax(1, fx(&f, z) - fx(&f, a)), 12,
                          svg_fault_colour(e->colour));
        }
        for (int k = 0; k < SVG_EV_COUNT; k++) {
            if (isnan(e->at[k])) {
                continue;
            }
            sr_buf_printf(out, "<text class=\"mark\" data-event=\"%s\" data-t=\"%.3f\" x=\"%.1f\" "
                               "y=\"%.1f\" text-anchor=\"middle\"%s>%s<title>%s at %.3f s</title>"
                               "</text>",
                          EV_NAME[k], e->at[k], fx(&f, e->at[k]), y + 4,
                          k == SVG_EV_FAILED ? " fill=\"#b2182b\"" : "", EV_GLYPH[k], EV_NAME[k],
                          e->at[k]);
        }
        sr_buf_puts(out, "</g>");
    }
    sr_buf_puts(out, "</svg>\n");
}
