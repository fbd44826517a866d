//! A small inline-SVG line chart: one polyline per arm and dashed threshold lines.

use edgeflag_dashboard::canary::{chart, points_attr};
use leptos::prelude::*;

use crate::ui::components::CollectAny;

const W: f64 = 300.0;
const H: f64 = 100.0;

/// `series`: (arm name used as CSS class and legend, values oldest first).
#[component]
pub fn LineChart(
    title: &'static str,
    series: Vec<(&'static str, Vec<Option<f64>>)>,
    thresholds: Vec<f64>,
    #[prop(default = "")] unit: &'static str,
) -> impl IntoView {
    let values: Vec<Vec<Option<f64>>> = series.iter().map(|s| s.1.clone()).collect();
    let c = chart(&values, &thresholds, W, H);
    let lines = series
        .iter()
        .zip(c.lines)
        .map(|((arm, _), points)| {
            // Dots too: a lone point between empty buckets draws no line segment.
            let dots = points
                .iter()
                .map(|(x, y)| view! { <circle class=format!("dot {arm}") cx=*x cy=*y r="2" /> })
                .collect_any();
            view! { <polyline class=format!("series {arm}") data-arm=*arm points=points_attr(&points) />{dots} }
        })
        .collect_any();
    let limits = c
        .thresholds
        .into_iter()
        .map(|y| view! { <line class="threshold" data-testid="threshold" x1="0" x2=W y1=y y2=y /> })
        .collect_any();
    let legend = series.iter().map(|(arm, _)| view! { <span class=format!("legend {arm}")>{*arm}</span> }).collect_any();
    view! {
        <figure class="chart" data-testid="chart">
            <figcaption>{title}" (max "{edgeflag_dashboard::forms::measured(c.y_max)}{unit}") "{legend}</figcaption>
            <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label=title>
                {limits}
                {lines}
            </svg>
        </figure>
    }
}
