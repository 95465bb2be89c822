#include "rng.h"

#include <stddef.h>
#include <string.h>

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
sr_rng_seed(struct sr_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);

    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

uint64_t
sr_rng_next(struct sr_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t
sr_rng_below(struct sr_rng *r, uint64_t n)
{
    /* Rejects the top partial range so every value is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;

    do {
        v = sr_rng_next(r);
    } while (v >= limit);
    return v % n;
}

double
sr_rng_double(struct sr_rng *r)
{
    return (double) (sr_rng_next(r) >> 11) * 0x1.0p-53;
}

double
sr_rng_uniform(struct sr_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * sr_rng_double(r);
}

void
sr_rng_shuffle(struct sr_rng *r, void *base, size_t n, size_t size)
{
    unsigned char *a = base;
    unsigned char tmp[64];

    if (size > sizeof tmp) {
        return;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t) sr_rng_below(r, i);

        memcpy(tmp, a + (i - 1) * size, size);
        memcpy(a + (i - 1) * size, a + j * size, size);
        memcpy(a + j * size, tmp, size);
    }
}
