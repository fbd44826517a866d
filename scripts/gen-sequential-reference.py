#!/usr/bin/env python3
"""Regenerates evaluator/tests/data/sequential_reference.json: reference values for the
anytime-valid statistics in evaluator/src/stats/sequential.rs and their use in the judgement.

Every number is computed here independently, with SciPy's special functions, quadrature and
root finders, from the published definitions:

- Robbins' beta-binomial mixture (Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform,
  nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2)):
  M_n(p) = B(a + S, b + F) / B(a, b) / (p^S (1 - p)^F); the confidence sequence is
  {p : M_n(p) < 1/alpha}.
- The conditional rate-ratio mixture (Lindon & Malek 2022): given the exposures, an event is a
  canary event with probability sigma(ln rho + ln(n_c / n_b)); M(rho0) = int phi(x) L(x) dx / L(ln rho0)
  with a N(0, s^2) prior on x = ln rho.
- The normal-mixture SPRT (Johari, Koomen, Pekelis & Walsh 2017; Robbins 1970):
  ln Lambda = 1/2 ln(v / (v + t)) + d^2 t / (2 v (v + t)), and the asymptotic confidence
  sequence of Waudby-Smith et al. (2024) in GrowthBook's form,
  sigma * sqrt(2 (N rho^2 + 1) / (N^2 rho^2) * ln(sqrt(N rho^2 + 1) / alpha)),
  rho^2 = (-2 ln alpha + ln(-2 ln alpha + 1)) / N*.

Besides formula values, it computes *exact* probabilities that a healthy stream ever crosses
the boundaries (dynamic programming over all paths), which must be at most alpha: the
always-valid property itself, not only the formulas.

Usage: python3 -m venv v && v/bin/pip install scipy numpy
       v/bin/python scripts/gen-sequential-reference.py > evaluator/tests/data/sequential_reference.json
"""
import json
import math

import numpy as np
import scipy
from scipy import integrate, optimize, special, stats


def beta_prior(p):
    p = min(max(p, 1e-9), 0.5)
    return 1.0, (1.0 - p) / p


def bb_log_evidence(s, n, p0, a, b):
    f = n - s
    return special.betaln(a + s, b + f) - special.betaln(a, b) - special.xlogy(s, p0) - special.xlog1py(f, -p0)


def bb_bounds(s, n, a, b, alpha):
    thr = math.log(1 / alpha)
    g = lambda p: bb_log_evidence(s, n, p, a, b) - thr
    mle = s / n
    lower = 0.0 if s == 0 else optimize.brentq(g, 1e-300, mle, xtol=1e-300, rtol=1e-15, maxiter=500)
    upper = 1.0 if s == n else optimize.brentq(g, mle, 1 - 1e-16, xtol=1e-300, rtol=1e-15, maxiter=500)
    return lower, upper


def bb_trials_to_pass(rate, limit, a, b, alpha):
    thr = math.log(1 / alpha)
    passes = lambda n: bb_log_evidence(rate * n, n, limit, a, b) >= thr
    n = 1
    if passes(1):
        return 1
    while not passes(n):
        n *= 2
    lo, hi = n // 2, n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi


def bb_crossing(p_true, p0, a, b, alpha, n_max, side):
    """Exact P(exists n <= n_max: the rate is credibly above (side=+1) / below (side=-1) p0)."""
    thr = math.log(1 / alpha)
    alive = np.array([1.0])  # P(S = k, not yet crossed) after n trials
    crossed = 0.0
    for n in range(1, n_max + 1):
        nxt = np.zeros(n + 1)
        nxt[:-1] += alive * (1 - p_true)
        nxt[1:] += alive * p_true
        s = np.arange(n + 1)
        ev = bb_log_evidence(s, n, p0, a, b)
        hit = (ev >= thr) & ((s > p0 * n) if side > 0 else (s < p0 * n))
        crossed += nxt[hit].sum()
        nxt[hit] = 0.0
        alive = nxt
    return crossed


def softplus(z):
    return np.logaddexp(0.0, z)


def rr_loglik(x, segs):
    total = 0.0
    for ce, cn, be, bn in segs:
        if cn == 0 or bn == 0 or ce + be == 0:
            continue
        z = x + math.log(cn) - math.log(bn)
        total = total - ce * softplus(-z) - be * softplus(z)
    return total


def rr_log_mixture(segs, sd):
    h = lambda x: rr_loglik(x, segs) + stats.norm.logpdf(x, 0, sd)
    mode = optimize.minimize_scalar(lambda x: -h(x), bounds=(-30, 30), method="bounded", options={"xatol": 1e-12}).x
    peak = h(mode)
    val, _ = integrate.quad(lambda x: math.exp(h(x) - peak), -np.inf, np.inf, points=None, epsabs=0, epsrel=1e-13, limit=500)
    return peak + math.log(val)


def rr_case(segs, sd, alpha, rhos):
    lm = rr_log_mixture(segs, sd)
    ev = [lm - rr_loglik(math.log(r), segs) for r in rhos]
    thr = lm - math.log(1 / alpha)
    xhat = optimize.minimize_scalar(lambda x: -rr_loglik(x, segs), bounds=(-30, 30), method="bounded", options={"xatol": 1e-13}).x
    f = lambda x: rr_loglik(x, segs) - thr
    lower = math.exp(optimize.brentq(f, -60, xhat, xtol=1e-14)) if f(-60) < 0 else 0.0
    upper = math.exp(optimize.brentq(f, xhat, 60, xtol=1e-14)) if f(60) < 0 else None
    return {"segments": segs, "prior_sd": sd, "alpha": alpha, "log_mixture": lm, "rho0": rhos,
            "log_evidence": ev, "lower": lower, "upper": upper, "estimate": math.exp(xhat)}


def rr_crossing(pi, sd, alpha, events_max, rho0):
    """Exact P(exists E <= events_max: lower bound of rho > rho0) when each event is a canary
    event with probability pi (rho = 1), one segment with canary share pi."""
    c = math.log(pi / (1 - pi))
    xs = np.linspace(-12 * sd, 12 * sd, 24001)
    log_phi = stats.norm.logpdf(xs, 0, sd)
    lp = -softplus(-(xs + c))  # ln sigma(x + c)
    lq = -softplus(xs + c)  # ln (1 - sigma(x + c))
    x0 = math.log(rho0)
    l0p, l0q = -float(softplus(-(x0 + c))), -float(softplus(x0 + c))
    thr = math.log(1 / alpha)
    alive = np.array([1.0])
    crossed = 0.0
    dx = xs[1] - xs[0]
    for e in range(1, events_max + 1):
        nxt = np.zeros(e + 1)
        nxt[:-1] += alive * (1 - pi)
        nxt[1:] += alive * pi
        k = np.arange(e + 1)[:, None]
        logint = log_phi[None, :] + k * lp[None, :] + (e - k) * lq[None, :]
        m = logint.max(axis=1, keepdims=True)
        lm = (m[:, 0] + np.log(np.trapezoid(np.exp(logint - m), dx=dx, axis=1)))
        ev = lm - (k[:, 0] * l0p + (e - k[:, 0]) * l0q)
        slope = k[:, 0] * (1 - 1 / (1 + math.exp(-(x0 + c)))) - (e - k[:, 0]) / (1 + math.exp(-(x0 + c)))
        hit = (ev >= thr) & (slope > 0)
        crossed += nxt[hit].sum()
        nxt[hit] = 0.0
        alive = nxt
    return crossed


def nm_log_evidence(d, v, t):
    return 0.5 * math.log(v / (v + t)) + d * d * t / (2 * v * (v + t))


def nm_radius(v, t, alpha):
    return math.sqrt(2 * v * (v + t) / t * (math.log(1 / alpha) + 0.5 * math.log((v + t) / v)))


def tuned(v_target, alpha):
    l = -2 * math.log(alpha)
    return v_target * (l + math.log(1 + l))


def growthbook_radius(sigma, n, n_star, alpha):
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / n_star
    return sigma * math.sqrt(2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))


def log_moments(buckets):
    """The histogram's ln-scale moments as documented in Histogram::log_moments."""
    highest = [le for le, _ in buckets if le is not None][-1]
    vals, counts, within = [], [], 0.0
    lower = None
    for le, c in buckets:
        prev = lower
        if le is not None:
            lower = le
        if c == 0:
            continue
        if le is None:
            v, w = math.log(max(highest, 1e-3)), 0.0
        elif prev is not None and prev > 0:
            v, w = 0.5 * (math.log(prev) + math.log(le)), math.log(le / prev) ** 2 / 12
        else:
            v, w = math.log(max(le / 2, 1e-3)), 0.0
        vals.append(v)
        counts.append(c)
        within += c * w
    vals, counts = np.array(vals), np.array(counts, dtype=float)
    n = counts.sum()
    mean = (counts * vals).sum() / n
    var = (counts * (vals - mean) ** 2).sum() / (n - 1) + within / n
    return {"count": int(n), "mean": mean, "variance": var}


def sequential_conversion(nc, cc, nt, ct, alpha, n_star, mde, power):
    pc, pt = cc / nc, ct / nt
    vc, vt = pc * (1 - pc) / nc, pt * (1 - pt) / nt
    v, unit = vc + vt, pc * (1 - pc) + pt * (1 - pt)
    t = tuned(unit / n_star, alpha)
    d = pt - pc
    r = nm_radius(v, t, alpha)
    rel = d / pc
    vrel = vt / pc ** 2 + pt ** 2 * vc / pc ** 4
    rr = r * math.sqrt(vrel / v)
    p2 = pc * (1 + mde)
    unit_mde = pc * (1 - pc) + p2 * (1 - p2)
    z = stats.norm.ppf(power)
    effect = mde * pc
    detects = lambda n: effect >= nm_radius(unit_mde / n, t, alpha) + z * math.sqrt(unit_mde / n)
    hi = 1
    while not detects(hi):
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if detects(mid):
            hi = mid
        else:
            lo = mid
    return {"control": [nc, cc], "treatment": [nt, ct], "alpha": alpha, "tuning_units": n_star, "mde": mde, "power": power,
            "p_value": min(1.0, math.exp(-nm_log_evidence(d, v, t))), "ci": [d - r, d + r],
            "relative_ci": [rel - rr, rel + rr], "required_per_arm": hi}


def main():
    out = {"generator": "scripts/gen-sequential-reference.py", "scipy": scipy.__version__, "numpy": np.__version__}

    cases = []
    for s, n, p0 in [(0, 0, 0.02), (3, 100, 0.02), (20, 1000, 0.02), (1, 7, 0.02), (400, 100_000, 0.02),
                     (0, 5000, 0.01), (75, 5000, 0.01), (60, 200, 0.05), (12_000, 1_000_000, 0.01), (5, 10, 0.5)]:
        a, b = beta_prior(p0)
        cases.append({"successes": s, "trials": n, "p0": p0, "a": a, "b": b,
                      "log_evidence": float(bb_log_evidence(s, n, p0, a, b))})
    bounds = []
    for s, n, p, alpha in [(3, 100, 0.02, 0.05), (20, 1000, 0.02, 0.0005), (0, 2000, 0.02, 0.05), (2000, 2000, 0.02, 0.05),
                           (1, 7, 0.02, 0.01), (12_000, 1_000_000, 0.01, 0.0005), (7, 3000, 0.01, 0.05), (60, 200, 0.05, 0.0025)]:
        a, b = beta_prior(p)
        lo, hi = bb_bounds(s, n, a, b, alpha)
        bounds.append({"successes": s, "trials": n, "a": a, "b": b, "alpha": alpha, "lower": lo, "upper": hi})
    to_pass = []
    for rate, limit, alpha in [(0.01, 0.02, 0.05), (0.005, 0.02, 0.05), (0.0007, 0.01, 0.05), (0.019, 0.02, 0.05)]:
        a, b = beta_prior(limit)
        to_pass.append({"rate": rate, "limit": limit, "a": a, "b": b, "alpha": alpha, "trials": bb_trials_to_pass(rate, limit, a, b, alpha)})
    crossing = []
    # The long ones document the guarantee; the short ones (n_max <= 1000) are recomputed by the
    # Rust test with the engine's own statistic.
    for p_true, p0, alpha, side, n_max in [(0.02, 0.02, 0.05, 1, 3000), (0.02, 0.02, 0.0005, 1, 3000),
                                           (0.02, 0.02, 0.05, -1, 3000), (0.01, 0.01, 0.05, 1, 4000),
                                           (0.05, 0.05, 0.05, 1, 1000), (0.05, 0.05, 0.2, -1, 600)]:
        a, b = beta_prior(p0)
        crossing.append({"p_true": p_true, "p0": p0, "a": a, "b": b, "alpha": alpha, "side": side, "n_max": n_max,
                         "probability": bb_crossing(p_true, p0, a, b, alpha, n_max, side)})
    out["beta_binomial"] = {"log_evidence": cases, "bounds": bounds, "trials_to_pass": to_pass, "crossing": crossing}

    sd = math.log(2.0)
    rr = [
        rr_case([[40, 1000, 100, 9000]], sd, 0.0025, [0.5, 1.0, 1.5, 3.0]),
        rr_case([[40, 1000, 100, 9000], [30, 2500, 60, 7500]], sd, 0.0025, [1.0, 2.0]),
        rr_case([[2, 120, 110, 11880], [25, 1200, 110, 10800], [80, 3000, 95, 9000]], sd, 0.01, [1.0, 1.1, 2.0]),
        rr_case([[5, 100, 0, 10000]], sd, 0.05, [1.0, 10.0]),
        rr_case([[0, 5000, 30, 5000]], sd, 0.05, [1.0]),
        rr_case([[52_000, 5_000_000, 50_000, 5_000_000]], math.log(1.5), 0.0025, [1.0, 1.05]),
        rr_case([[3, 10, 1, 90]], sd, 0.0025, [1.0]),
    ]
    rr_cross = []
    for pi, alpha, events_max in [(0.1, 0.05, 400), (0.5, 0.05, 400), (0.25, 0.0025, 400), (0.3, 0.1, 120)]:
        rr_cross.append({"pi": pi, "prior_sd": sd, "alpha": alpha, "events_max": events_max, "rho0": 1.0,
                         "probability": rr_crossing(pi, sd, alpha, events_max, 1.0)})
    out["rate_ratio"] = {"cases": rr, "crossing": rr_cross}

    nm = []
    for d, v, t, theta0, alpha in [(0.3, 0.01, 0.04, 0.0, 0.05), (0.05, 1e-4, math.log(1.3) ** 2, math.log(1.05), 0.0025),
                                   (-0.2, 0.5, 0.01, 0.0, 0.01), (0.0, 1e-6, 1.0, 0.0, 0.05)]:
        nm.append({"estimate": d, "variance": v, "prior_variance": t, "theta0": theta0, "alpha": alpha,
                   "log_evidence": nm_log_evidence(d - theta0, v, t), "radius": nm_radius(v, t, alpha)})
    gb = []
    for sigma, n, n_star, alpha in [(0.3, 1000, 5000, 0.05), (1.7, 250, 5000, 0.05), (0.3, 20000, 1000, 0.01)]:
        v = sigma ** 2 / n
        t = tuned(sigma ** 2 / n_star, alpha)
        gb.append({"sigma": sigma, "n": n, "n_star": n_star, "alpha": alpha, "prior_variance": t,
                   "radius": growthbook_radius(sigma, n, n_star, alpha)})
    out["normal_mixture"] = {"cases": nm, "growthbook": gb}

    hists = [
        [[10.0, 3], [20.0, 5], [40.0, 2], [None, 1]],
        [[0.5, 2], [1.0, 0], [2.0, 7], [4.0, 0], [8.0, 4]],
        [[50.0, 500], [100.0, 2500], [200.0, 1500], [400.0, 450], [None, 50]],
    ]
    out["log_moments"] = [{"buckets": h, **log_moments(h)} for h in hists]

    out["experiment_sequential"] = [
        sequential_conversion(10_000, 1000, 10_050, 1200, 0.05, 5000, 0.05, 0.8),
        sequential_conversion(2000, 100, 2000, 130, 0.05, 5000, 0.05, 0.8),
        sequential_conversion(50_000, 5000, 50_000, 5150, 0.025, 20_000, 0.1, 0.9),
    ]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
