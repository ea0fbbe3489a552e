// Native reference of the price-grid kernel (assembly/grid.ts): the same loop, scalar, with
// libm exp/log1p, compiled with gcc -O3 -march=native. Usage: grid N [reps] -> ns per evaluation.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

static double logistic(double z) {
  if (z >= 0) return 1.0 / (1.0 + exp(-z));
  double e = exp(z);
  return e / (1.0 + e);
}
static double softplus(double z) { return fmax(z, 0.0) + log1p(exp(-fabs(z))); }

static void price_grid_search(const double *v, const double *alpha, const double *sc, const double *r, const double *mc, int n,
                              const double *prices, int m, double sigma, double lead, int *idx_ns, double *best_ns,
                              int *idx_s, double *best_s) {
  for (int i = 0; i < n; i++) {
    double bns = -INFINITY, bs = -INFINITY;
    int ins = 0, is = 0;
    double lp = r[i] * lead;
    for (int j = 0; j < m; j++) {
      double p = prices[j];
      double u = v[i] - alpha[i] * p;
      double pns = logistic(u) * (p - mc[i]);
      double ps = logistic(sigma * (softplus(u) - sc[i])) * (pns + lp);
      if (pns > bns) { bns = pns; ins = j; }
      if (ps > bs) { bs = ps; is = j; }
    }
    idx_ns[i] = ins; best_ns[i] = bns; idx_s[i] = is; best_s[i] = bs;
  }
}

static uint64_t state = 88172645463325252ull;
static double uniform(double a, double b) {
  state ^= state << 13; state ^= state >> 7; state ^= state << 17;
  return a + (b - a) * (double)(state >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000000;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  double prices[64]; int m = 0;
  for (int p = 0; p <= 188; p++) { int d = p % 10; if (d == 5 || d == 8 || d == 9) prices[m++] = p; }
  double *v = malloc(n * 8), *alpha = malloc(n * 8), *sc = malloc(n * 8), *r = malloc(n * 8), *mc = malloc(n * 8);
  double *bns = malloc(n * 8), *bs = malloc(n * 8); int *ins = malloc(n * 4), *is = malloc(n * 4);
  for (int i = 0; i < n; i++) { v[i] = uniform(-3, 5); alpha[i] = uniform(0.005, 0.05); sc[i] = uniform(0.2, 0.6); r[i] = uniform(0, 0.3); mc[i] = uniform(40, 90); }
  double best = 1e300, checksum = 0;
  for (int k = 0; k < reps; k++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    price_grid_search(v, alpha, sc, r, mc, n, prices, m, 18.858, 125.742, ins, bns, is, bs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / ((double)n * m);
    if (ns < best) best = ns;
  }
  for (int i = 0; i < n; i++) checksum += bs[i] + bns[i];
  printf("{\"nsPerEvaluation\": %.4f, \"customers\": %d, \"prices\": %d, \"checksum\": %.6f}\n", best, n, m, checksum);
  return 0;
}
