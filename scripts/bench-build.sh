#!/usr/bin/env bash
# Build-time cost of the macro: the whole HealthHero API (src/api.rs, 29 endpoints in 5 traits)
# compiled as written with #[healthhero_api], against the same endpoints written out by hand —
# the exact code the macro generates, so the difference is the macro's own cost.
#
#   scripts/bench-build.sh [runs]        (default 5 runs each; results on stdout)
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-build"
rm -rf "$work/macro" "$work/hand"
mkdir -p "$work/macro/src" "$work/hand/src"
export CARGO_TARGET_DIR="$work/target"

manifest() {
  cat <<TOML
[package]
name = "bench-$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
hh-runtime = { path = "$root/hh-runtime" }
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[workspace]
TOML
}

manifest macro > "$work/macro/Cargo.toml"
manifest hand > "$work/hand/Cargo.toml"
for crate in macro hand; do
  cp "$root/src/models.rs" "$work/$crate/src/models.rs"
  printf 'pub mod api;\npub mod models;\n' > "$work/$crate/src/lib.rs"
done
cp "$root/src/api.rs" "$work/macro/src/api.rs"

# Build the macro version once, keeping what the macro wrote for each trait.
(cd "$work/macro" && HH_MACROS_DEBUG=1 cargo build --quiet --offline 2> "$work/expansion.txt")
python3 - "$root/src/api.rs" "$work/expansion.txt" "$work/hand/src/api.rs" <<'PY'
import re, sys
api, expansion, out = sys.argv[1:]
src = open(api).read()
uses = re.findall(r'^use [^;]+;', src, re.M | re.S)
uses = [u.replace('use hh_runtime::{Error, healthhero_api};', 'use hh_runtime::Error;') for u in uses]
lines = [l for l in open(expansion).read().splitlines() if l.strip()]
open(out, 'w').write("\n".join(uses) + "\n\n" + "\n\n".join(lines) + "\n")
PY
(cd "$work/hand" && cargo build --quiet --offline)

measure() {
  local crate=$1 times=()
  for _ in $(seq "$runs"); do
    touch "$work/$crate/src/lib.rs" "$work/$crate/src/api.rs"
    local start end
    start=$(date +%s.%N)
    (cd "$work/$crate" && cargo build --quiet --offline)
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

macro_s=$(measure macro)
hand_s=$(measure hand)
echo "| crate | median build of the crate itself ($runs runs, deps prebuilt) |"
echo "|---|---|"
echo "| whole HealthHero API with #[healthhero_api] | ${macro_s} s |"
echo "| the same endpoints written out by hand | ${hand_s} s |"
echo "| ratio | $(echo "scale=3; $macro_s / $hand_s" | bc) |"
