/* A small seeded random generator (xoshiro256** seeded through splitmix64),
 * so that the same scenario and seed give the same choices on every machine
 * and every build, independent of libc. */
#ifndef SR_RNG_H
#define SR_RNG_H 1

#include <stddef.h>
#include <stdint.h>

struct sr_rng {
    uint64_t s[4];
};

/* Seeds 'r' from 'seed'; 'stream' separates independent sequences drawn from
 * one seed (topology, traffic, faults) so adding draws to one does not shift
 * the others. */
void sr_rng_seed(struct sr_rng *r, uint64_t seed, uint64_t stream);
uint64_t sr_rng_next(struct sr_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t sr_rng_below(struct sr_rng *r, uint64_t n);
/* Uniform double in [0, 1). */
double sr_rng_double(struct sr_rng *r);
/* Uniform double in [lo, hi]. */
double sr_rng_uniform(struct sr_rng *r, double lo, double hi);
/* Shuffles 'n' elements of 'size' bytes at 'base' (Fisher-Yates). */
void sr_rng_shuffle(struct sr_rng *r, void *base, size_t n, size_t size);

#endif
