//! The dashboard binary: a Leptos client-side app, built by trunk for `wasm32`.

#[cfg(target_arch = "wasm32")]
mod ui;

#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(ui::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the dashboard runs in a browser: build it with `trunk build --release` (see dashboard/README.md)");
}
