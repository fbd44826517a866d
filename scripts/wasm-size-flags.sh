# Sourced by build-wasm.sh and build-dashboard.sh: how the shipped .wasm files are compiled.
#
# Rust's prebuilt std for wasm32 carries the panic machinery: messages, source locations and
# the formatting code behind them, a large part of the module (wasm/README.md "Size") even
# though a panic on wasm32 can only trap. Rebuilding std with the `immediate-abort` panic strategy drops it (panics still
# trap, as they already do with panic = "abort"), `optimize_for_size` picks std's smaller
# algorithms, and `location-detail=none` drops the source paths still kept for
# `#[track_caller]`. All three are unstable options: RUSTC_BOOTSTRAP=1 lets the pinned stable
# toolchain (rust-toolchain.toml: unstable options can change with any compiler) accept them, for these wasm builds only; native
# builds, tests and the server never see it. It needs the rust-src component (scripts/setup.sh installs it).
# Measured in wasm/README.md "Size" and dashboard/README.md "Figures".
#
#   EDGEFLAG_WASM_STD=prebuilt scripts/build-wasm.sh   # plain stable build, for comparison
if [[ "${EDGEFLAG_WASM_STD:-rebuilt}" != prebuilt ]]; then
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
  # --cfg edgeflag_size: the evaluator's load-time code (decode, validation, compile) gets
  # #[optimize(size)] (evaluator/src/lib.rs): smaller, evaluation as fast (wasm/README.md "Size").
  export RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none --cfg edgeflag_size"
fi
