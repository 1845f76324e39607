#!/bin/sh
# Rebuilds hello-rust: a tiny binary crate with one crates.io dependency (itoa), built
# with `cargo auditable` so that its dependency list is embedded in the `.dep-v0` section.
# Needs `cargo install cargo-auditable` and access to crates.io. Run from this directory.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<'TOML'
[package]
name = "hello-rust"
version = "0.3.1"
edition = "2021"

[dependencies]
itoa = "=1.0.11"

[profile.release]
opt-level = "z"
lto = true
panic = "abort"
strip = true
codegen-units = 1
TOML
cat > "$work/src/main.rs" <<'SRC'
fn main() {
    let mut buf = itoa::Buffer::new();
    println!("{}", buf.format(42u32));
}
SRC
(cd "$work" && CARGO_TARGET_DIR="$work/target" cargo auditable build --release --quiet)
cp "$work/target/release/hello-rust" ./hello-rust
