//! Statistics checked against published implementations (SciPy 1.17.1, statsmodels 0.15.0,
//! NumPy 2.4.6). Every expected number below was printed by the Python next to it; to
//! regenerate: `python -m venv v && v/bin/pip install scipy statsmodels`, then run the
//! snippets (`import numpy as np; from scipy import stats; from scipy.stats import norm`).
//!
//! Tolerances: p-values and statistics to 1e-9 relative unless noted; the engine's incomplete
//! beta/gamma functions (src/stats/special.rs) agree with SciPy's cephes to roughly 1e-11 or
//! better.
#![cfg(feature = "analysis")]

use edgeflag_evaluator::stats::{
    self, histogram::sample_quantile, mann_whitney_u, mann_whitney_u_histogram, sample_ratio_mismatch,
    sample_size_means, sample_size_proportions, two_proportion_z_test, welch_t_test, Bucket, Histogram,
    Proportion, SampleSummary,
};

#[track_caller]
fn close(actual: f64, expected: f64, rel: f64) {
    let scale = expected.abs().max(1e-300);
    assert!(
        ((actual - expected) / scale).abs() <= rel,
        "got {actual}, expected {expected} (relative tolerance {rel})"
    );
}

#[test]
fn welch_from_summary_statistics() {
    // stats.ttest_ind_from_stats(10.2, np.sqrt(4.1), 120, 10.9, np.sqrt(5.3), 95, equal_var=False)
    // -> statistic=-2.333902092228642, pvalue=0.020654571522165058
    // (scipy's order is control − treatment; ours is treatment − control, so t flips sign.)
    let control = SampleSummary { count: 120, mean: 10.2, variance: 4.1 };
    let treatment = SampleSummary { count: 95, mean: 10.9, variance: 5.3 };
    let test = welch_t_test(&control, &treatment, 0.95).unwrap();
    close(test.t, 2.333902092228642, 1e-12);
    close(test.p_value, 0.020654571522165058, 1e-9);
}

#[test]
fn welch_from_raw_samples_with_confidence_interval() {
    // a = np.array([12.1, 14.3, 11.8, 15.2, 13.9, 12.7, 14.8, 13.1])
    // b = np.array([15.4, 16.2, 14.9, 17.3, 15.8, 16.9, 14.4])
    // r = stats.ttest_ind(b, a, equal_var=False); ci = r.confidence_interval(0.95)
    // -> statistic=3.9666407360674145 pvalue=0.001615048805647507 df=12.978902250599758
    //    ci.low=1.0723368158481992 ci.high=3.6383774698660862
    // Relative lift, delta method: ma, mb = a.mean(), b.mean()
    // sa2, sb2 = a.var(ddof=1)/len(a), b.var(ddof=1)/len(b); R = mb/ma
    // se = np.sqrt(sb2/ma**2 + R**2*sa2/ma**2); z = norm.ppf(0.975)
    // -> R-1=0.17463259631934336, R-1-z*se=0.07963265278865754, R-1+z*se=0.26963253985002916
    let a = SampleSummary::from_values(&[12.1, 14.3, 11.8, 15.2, 13.9, 12.7, 14.8, 13.1]).unwrap();
    let b = SampleSummary::from_values(&[15.4, 16.2, 14.9, 17.3, 15.8, 16.9, 14.4]).unwrap();
    let test = welch_t_test(&a, &b, 0.95).unwrap();
    close(test.t, 3.9666407360674145, 1e-12);
    close(test.p_value, 0.001615048805647507, 1e-8);
    close(test.df, 12.978902250599758, 1e-12);
    close(test.ci_low, 1.0723368158481992, 1e-9);
    close(test.ci_high, 3.6383774698660862, 1e-9);
    close(test.relative_lift.unwrap(), 0.17463259631934336, 1e-12);
    close(test.relative_ci_low.unwrap(), 0.07963265278865754, 1e-9);
    close(test.relative_ci_high.unwrap(), 0.26963253985002916, 1e-9);
}

#[test]
fn two_proportion_z_test_and_intervals() {
    // from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep
    // proportions_ztest([130, 100], [2000, 2000]) -> (2.0375893277870785, 0.04159102022986781)
    // confint_proportions_2indep(130, 2000, 100, 2000, method="wald", compare="diff", alpha=0.05)
    // -> (0.0005789398134073264, 0.02942106018659267)
    // Relative lift, delta method: pc, pt, n = 100/2000, 130/2000, 2000
    // vc, vt = pc*(1-pc)/n, pt*(1-pt)/n; se = np.sqrt(vt/pc**2 + pt**2*vc/pc**4)
    // -> pt/pc-1=0.30000000000000004, -z*se: -0.02919227410706532, +z*se: 0.6291922741070655
    let test = two_proportion_z_test(Proportion::new(100, 2000), Proportion::new(130, 2000), 0.95).unwrap();
    close(test.z, 2.0375893277870785, 1e-12);
    close(test.p_value, 0.04159102022986781, 1e-9);
    close(test.ci_low, 0.0005789398134073264, 1e-8);
    close(test.ci_high, 0.02942106018659267, 1e-9);
    close(test.relative_lift.unwrap(), 0.30000000000000004, 1e-12);
    close(test.relative_ci_low.unwrap(), -0.02919227410706532, 1e-8);
    close(test.relative_ci_high.unwrap(), 0.6291922741070655, 1e-9);
}

#[test]
fn mann_whitney_on_samples() {
    // x = [120, 135, 150, 110, 160, 175, 142, 138, 151, 149, 133, 128]
    // y = [100, 105, 118, 95, 130, 122, 99, 111, 108, 125]
    // stats.mannwhitneyu(x, y, method="asymptotic") -> statistic=111.0 pvalue=0.0008688610598347449
    let x = [120.0, 135.0, 150.0, 110.0, 160.0, 175.0, 142.0, 138.0, 151.0, 149.0, 133.0, 128.0];
    let y = [100.0, 105.0, 118.0, 95.0, 130.0, 122.0, 99.0, 111.0, 108.0, 125.0];
    let test = mann_whitney_u(&x, &y).unwrap();
    assert_eq!(test.u, 111.0);
    close(test.p_value, 0.0008688610598347449, 1e-9);
}

#[test]
fn mann_whitney_on_histogram_buckets_matches_tied_samples() {
    // x2 = [10]*40 + [20]*35 + [50]*20 + [100]*5
    // y2 = [10]*55 + [20]*30 + [50]*12 + [100]*3
    // stats.mannwhitneyu(x2, y2, method="asymptotic") -> statistic=5862.5 pvalue=0.022687430202665233
    let bucket = |le: Option<f64>, count| Bucket { le, count };
    let canary = Histogram {
        buckets: vec![
            bucket(Some(10.0), 40),
            bucket(Some(20.0), 35),
            bucket(Some(50.0), 20),
            bucket(Some(100.0), 5),
            bucket(None, 0),
        ],
    };
    let baseline = Histogram {
        buckets: vec![
            bucket(Some(10.0), 55),
            bucket(Some(20.0), 30),
            bucket(Some(50.0), 12),
            bucket(Some(100.0), 3),
            bucket(None, 0),
        ],
    };
    let test = mann_whitney_u_histogram(&canary, &baseline).unwrap();
    assert_eq!(test.u, 5862.5);
    close(test.p_value, 0.022687430202665233, 1e-9);
}

#[test]
fn sample_ratio_mismatch_chi_square() {
    // stats.chisquare([5210, 4790], [5000, 5000]) -> statistic=17.64 pvalue=2.6691498031812692e-05
    let two = sample_ratio_mismatch(&[5210, 4790], &[5000.0, 5000.0], 0.001).unwrap();
    close(two.chi_square, 17.64, 1e-12);
    close(two.p_value, 2.6691498031812692e-05, 1e-8);
    assert!(two.mismatch);
    // stats.chisquare([3300, 3400, 3100], [9800*0.34, 9800*0.33, 9800*0.33])
    // -> statistic=14.380297573574893 pvalue=0.0007539769303422598
    let three = sample_ratio_mismatch(&[3300, 3400, 3100], &[3400.0, 3300.0, 3300.0], 0.001).unwrap();
    close(three.chi_square, 14.380297573574893, 1e-12);
    close(three.p_value, 0.0007539769303422598, 1e-9);
    assert!(three.mismatch);
}

#[test]
fn sample_sizes_for_a_minimum_detectable_effect() {
    // def n_prop(p1, mde, alpha, power):
    //     p2 = p1*(1+mde); pbar=(p1+p2)/2; za = norm.ppf(1-alpha/2); zb = norm.ppf(power)
    //     return (za*np.sqrt(2*pbar*(1-pbar)) + zb*np.sqrt(p1*(1-p1)+p2*(1-p2)))**2/(p2-p1)**2
    // n_prop(0.10, 0.10, 0.05, 0.8) -> 14750.790469044912, ceil 14751
    assert_eq!(sample_size_proportions(0.10, 0.10, 0.05, 0.8), Ok(14751));
    // def n_mean(sd, d, alpha, power): return 2*sd**2*(norm.ppf(1-alpha/2)+norm.ppf(power))**2/d**2
    // n_mean(12.0, 1.5, 0.05, 0.8) -> 1004.6566059966832, ceil 1005
    assert_eq!(sample_size_means(12.0, 1.5, 0.05, 0.8), Ok(1005));
}

#[test]
fn distribution_quantiles() {
    // stats.t.ppf(0.975, 7.3) -> 2.345066736547703 ; norm.ppf(0.975) -> 1.959963984540054
    close(stats::dist::students_t_quantile(0.975, 7.3).unwrap(), 2.345066736547703, 1e-9);
    close(stats::dist::normal_quantile(0.975).unwrap(), 1.959963984540054, 1e-12);
}

#[test]
fn sample_quantile_like_numpy() {
    // np.quantile([3.0, 1.0, 7.0, 5.0, 9.0, 2.0], 0.99) -> 8.9
    close(sample_quantile(&[3.0, 1.0, 7.0, 5.0, 9.0, 2.0], 0.99).unwrap(), 8.9, 1e-12);
}
