/* Plots written as SVG text for the report: time series over a run with
 * its fault windows shaded, and the fault timeline.  The same input gives
 * the same bytes: coordinates are printed with fixed precision, nothing
 * depends on the clock or on addresses.
 *
 * Series are thinned for drawing (per pixel column, the first, lowest,
 * highest and last point are kept, so dips and spikes stay visible); the
 * numbers a report prints come from the full data, never from this. */
#ifndef SR_SVG_H
#define SR_SVG_H 1

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum svg_kind {
    SVG_LINE,   /* a line; a NaN value breaks it */
    SVG_POINTS, /* one dot per value */
};

struct svg_series {
    const char *name;
    const double *t; /* s since the run began, ascending */
    const double *v; /* NaN: no value */
    size_t n;
    enum svg_kind kind;
    int style;  /* line style (colour and dashes), 0..SVG_STYLES-1 */
    bool thin;  /* context (a neighbour): grey, thin, not in the legend */
};

/* A shaded span: a fault window, coloured by its fault type. */
struct svg_band {
    double from, to;
    int id;           /* the episode */
    const char *type; /* its fault type */
    int colour;       /* svg_fault_colour index */
};

struct svg_plot {
    const char *id;    /* the element's id (may be NULL) */
    const char *title;
    const char *unit;  /* the y axis' unit, e.g. "Mbit/s" */
    double t0, t1;     /* the x axis (s) */
    int width, height; /* px */
    const struct svg_series *series;
    size_t nseries;
    const struct svg_band *bands;
    size_t nbands;
    const double *ticks; /* times marked under the axis (stalls, failures) */
    size_t nticks;
    const char *ticks_name;
    double ymax_floor; /* the y axis reaches at least this */
};

#define SVG_STYLES 8
#define SVG_FAULT_COLOURS 16

/* Writes 'p' as an <svg> element. */
void svg_plot(struct sr_buf *out, const struct svg_plot *p);

/* The fill colour of fault colour 'i' ("#rrggbb"). */
const char *svg_fault_colour(int i);

/* A step for about 'want' ticks over 'span': 1, 2 or 5 times a power of ten. */
double svg_nice_step(double span, int want);

/* The n-th mark of the fault timeline. */
enum svg_event {
    SVG_EV_INJECT,
    SVG_EV_VERIFIED,
    SVG_EV_REVERT,
    SVG_EV_REVERTED,
    SVG_EV_HEALED,
    SVG_EV_FAILED,
    SVG_EV_COUNT
};

struct svg_episode {
    int id;
    const char *type;
    const char *target;
    int colour;
    double at[SVG_EV_COUNT]; /* NaN: did not happen */
    double end;              /* where the bar ends when nothing closed it */
};

/* Writes the fault timeline: a row per episode, a bar from its inject to
 * its reverted event, a mark for each event. */
void svg_timeline(struct sr_buf *out, const char *id, double t0, double t1, int width,
                  const struct svg_episode *ep, size_t n);

/* The name and the glyph of an event mark. */
const char *svg_event_name(enum svg_event e);
const char *svg_event_glyph(enum svg_event e);

#endif
