// Native reference of the price-grid kernel (assembly/grid.ts): the same loop, scalar, with
// libm exp/log1p, compiled with gcc -O3 -march=native. Usage: grid N [reps] [markets] -> ns per
// evaluation. With markets > 0 the customers are split into that many contiguous markets and the
// loop also adds the per-market totals Σ Π(p, 0), Σ Π(p, 1), Σ max_s Π(p, s) at every price (the
// counterfactual's uniform schemes, as the exhaustive kernel with totals computes them).
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
                              int *idx_s, double *best_s, double *totals) {
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
      if (totals) { totals[j] += pns; totals[m + j] += ps; totals[2 * m + j] += ps > pns ? ps : pns; }
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
  int markets = argc > 3 ? atoi(argv[3]) : 0;
  double prices[64]; int m = 0;
  for (int p = 0; p <= 188; p++) { int d = p % 10; if (d == 5 || d == 8 || d == 9) prices[m++] = p; }
  double *v = malloc(n * 8), *alpha = malloc(n * 8), *sc = malloc(n * 8), *r = malloc(n * 8), *mc = malloc(n * 8);
  double *bns = malloc(n * 8), *bs = malloc(n * 8); int *ins = malloc(n * 4), *is = malloc(n * 4);
  for (int i = 0; i < n; i++) { v[i] = uniform(-3, 5); alpha[i] = uniform(0.005, 0.05); sc[i] = uniform(0.2, 0.6); r[i] = uniform(0, 0.3); mc[i] = uniform(40, 90); }
  double *totals = calloc((size_t)(markets > 0 ? markets : 1) * 3 * m, 8);
  double best = 1e300, checksum = 0;
  for (int k = 0; k < reps; k++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (markets > 0) {
      for (int g = 0; g < markets; g++) {
        int start = (int)((long long)g * n / markets), end = (int)((long long)(g + 1) * n / markets);
        price_grid_search(v + start, alpha + start, sc + start, r + start, mc + start, end - start, prices, m, 18.858, 125.742,
                          ins + start, bns + start, is + start, bs + start, totals + (size_t)g * 3 * m);
      }
    } else {
      price_grid_search(v, alpha, sc, r, mc, n, prices, m, 18.858, 125.742, ins, bns, is, bs, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / ((double)n * m);
    if (ns < best) best = ns;
  }
  for (int i = 0; i < n; i++) checksum += bs[i] + bns[i];
  for (int k = 0; k < (markets > 0 ? markets : 0) * 3 * m; k++) checksum += totals[k] * 1e-12;
  printf("{\"nsPerEvaluation\": %.4f, \"customers\": %d, \"prices\": %d, \"checksum\": %.6f}\n", best, n, m, checksum);
  return 0;
}
