/* rtanalytics' compiled kernels: the SLO analysis' whole-array passes fused into one loop each.
 *
 * Plain C, no Python API: loaded with ctypes (rtanalytics/kernels.py), which releases the GIL for every call.
 * Built by `pip install` (setup.py, optional: without a compiler the package uses its numpy code, which gives
 * the same results). Every kernel is bitwise the numpy computation it replaces (tests/test_slo_kernels.py):
 * the same IEEE operations in the same order, compiled without contraction into fused multiply-adds
 * (-ffp-contract=off) or any fast-math. The loops that divide are compiled for AVX-512, AVX2 and the baseline
 * and the processor picks at load time (GCC target_clones), so a built library runs on any x86-64.
 */
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define RT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RT_CLONES
#endif

#define RT_TWO52 4503599627370496.0 /* 2**52: x + 2**52 - 2**52 == x exactly when 0 <= x < 2**52 is whole */
#define RT_TWO53 9007199254740992.0 /* 2**53: whole numbers and their sums below it are exact in doubles */

int rt_abi_version(void) { return 2; }

/* out[0] = 0 and out[1..n] = the running sums of x, when every x is a whole number in [0, 2**52) and the total
 * is below 2**53: then every partial sum is exact in any order, and equal to numpy's sequential cumsum. Returns
 * 1 then, else 0 (out is then to be computed otherwise). Eight running sums over eight blocks hide the latency
 * of the additions (numpy's float accumulate is one dependent add after another: 3.3 ns a value here). */
RT_CLONES
int rt_cumsum0_whole(const double *x, int64_t n, double *out)
{
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        ok &= (v >= 0.0) & (v < RT_TWO52) & ((v + RT_TWO52) - RT_TWO52 == v); /* false for NaN */
    }
    if (!ok)
        return 0;
    out[0] = 0.0;
    int64_t len = n / 8;
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = 0; j < len; j++) {
        for (int b = 0; b < 8; b++) {
            acc[b] += x[b * len + j];
            out[b * len + j + 1] = acc[b];
        }
    }
    double offset = acc[0];
    for (int b = 1; b < 8; b++) {
        double *o = out + b * len + 1;
        for (int64_t j = 0; j < len; j++)
            o[j] += offset;
        offset += acc[b];
    }
    for (int64_t i = 8 * len; i < n; i++) {
        offset += x[i];
        out[i + 1] = offset;
    }
    return offset < RT_TWO53;
}

/* Trailing-window ratios from two cumulative sums (each with its leading 0), over the n periods ending at
 * every period (the first k = min(n, size) from the start: cn[i + 1] alone, as numpy copies those):
 *   mode 0 (attainment):  out[i] = num / den                       (0/0 = NaN: a window without data)
 *   mode 1 (burn rate):   out[i] = num / max(den, 1e-300) * scale  (0 without traffic)
 * where num = cn[i + 1] - cn[i + 1 - k] and den likewise: slo.attainment's and slo.burn_rate's numpy passes. */
RT_CLONES
void rt_window_ratio(const double *cn, const double *cd, int64_t size, int64_t n, double scale, int mode,
                     double *out)
{
    const double tiny = 1e-300;
    int64_t k = n < size ? n : size;
    if (mode == 0) {
        for (int64_t i = 0; i < k; i++)
            out[i] = cn[i + 1] / cd[i + 1];
        for (int64_t i = k; i < size; i++)
            out[i] = (cn[i + 1] - cn[i + 1 - k]) / (cd[i + 1] - cd[i + 1 - k]);
    } else {
        for (int64_t i = 0; i < k; i++) {
            double d = cd[i + 1];
            d = d < tiny ? tiny : d; /* NaN stays NaN, as np.maximum keeps it */
            out[i] = cn[i + 1] / d * scale;
        }
        for (int64_t i = k; i < size; i++) {
            double d = cd[i + 1] - cd[i + 1 - k];
            d = d < tiny ? tiny : d;
            out[i] = (cn[i + 1] - cn[i + 1 - k]) / d * scale;
        }
    }
}

/* slo.occurrences_sli's counts in one pass: total -> t = fmax(total, 0) (no data and negatives: 0), has =
 * total > 0, and good = max(t - fmax(bad, 0), 0) (from bad) — numpy's fmax and maximum as they are defined
 * (a >= b || isnan(b) ? a : b, and a >= b || isnan(a) ? a : b). */
RT_CLONES
void rt_counts_from_bad(const double *total, const double *bad, int64_t n, double *t, double *good,
                        unsigned char *has)
{
    for (int64_t i = 0; i < n; i++) {
        double tv = total[i], bv = bad[i];
        double ti = tv >= 0.0 ? tv : 0.0;
        double bi = bv >= 0.0 ? bv : 0.0;
        double g = ti - bi;
        t[i] = ti;
        good[i] = (g >= 0.0 || g != g) ? g : 0.0;
        has[i] = tv > 0.0;
    }
}

/* The periods where the rule "a[i] >= rate and b[i] >= rate" starts and stops holding, alternately, into idx
 * (a start at 0 when it holds at 0): flatnonzero(on[1:] != on[:-1]) + 1 with 0 in front when on[0], as
 * slo.burn_alerts computes them. Returns their count, or -1 when there are more than cap. 64 periods at a time:
 * their flags as one word (NaN compares false, as in numpy), skipped when nothing changes in it. */
RT_CLONES
int64_t rt_rule_changes(const double *a, const double *b, int64_t n, double rate, int64_t *idx, int64_t cap)
{
    int64_t c = 0;
    uint64_t prev = 0; /* the flag of the period before: 0 before the first */
    for (int64_t base = 0; base < n; base += 64) {
        int64_t len = n - base < 64 ? n - base : 64;
        uint64_t m = 0;
        for (int64_t j = 0; j < len; j++)
            m |= (uint64_t)((a[base + j] >= rate) & (b[base + j] >= rate)) << j;
        uint64_t shifted = (m << 1) | prev; /* bit j: the flag of the period before j */
        uint64_t valid = len == 64 ? ~(uint64_t)0 : (((uint64_t)1 << len) - 1);
        uint64_t change = (m ^ shifted) & valid;
        while (change) {
            int j = __builtin_ctzll(change);
            if (c == cap)
                return -1;
            idx[c++] = base + j;
            change &= change - 1;
        }
        prev = (m >> (len - 1)) & 1;
    }
    return c;
}
