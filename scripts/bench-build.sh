#!/usr/bin/env bash
# Build-time cost of the macro: the whole HealthHero API (src/api.rs, 29 endpoints in 5 traits)
# compiled as written with #[healthhero_api], against the same endpoints written out by hand —
# the exact code the macro generates, so the difference is the macro's own cost. Both crates
# are rebuilt (dependencies prebuilt) in the debug and the release profile, the two alternating
# run by run; also prints how many lines the expansion is.
#
#   scripts/bench-build.sh [runs]        (default 5 runs each; results on stdout)
#   PROFILES=dev scripts/bench-build.sh  (one profile only)
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
  cp -r "$root/src/models" "$work/$crate/src/"
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
open(out, 'w').write("\n".join(uses) + "\n\n" + "\n".join(lines) + "\n")
PY
# The expansion comes as one line of tokens per trait (without the `prettyplease` feature):
# formatted, it is what a hand-written file would look like, and its lines can be counted.
rustfmt --edition 2024 "$work/hand/src/api.rs"
for profile in ${PROFILES:-dev release}; do
  (cd "$work/macro" && cargo build --quiet --offline --profile "$profile")
  (cd "$work/hand" && cargo build --quiet --offline --profile "$profile")
done

# One rebuild of the crate itself, in seconds.
build_once() {
  local crate=$1 profile=$2 start end
  touch "$work/$crate/src/lib.rs" "$work/$crate/src/api.rs"
  start=$(date +%s.%N)
  (cd "$work/$crate" && cargo build --quiet --offline --profile "$profile")
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

code_lines() { grep -cv '^\s*\(//.*\)\?$' "$1"; }
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| lines (without blank and comment lines) | count |"
echo "|---|---|"
echo "| src/api.rs as declared (29 endpoints) | $(code_lines "$root/src/api.rs") |"
echo "| its expansion, formatted | $(code_lines "$work/hand/src/api.rs") |"
echo "| expansion of one endpoint's method, median | $(
  awk '/^    async fn /{n=0; c=1} c && NF{n++} c && /^    }$/{print n; c=0}' "$work/hand/src/api.rs" | median
) |"
echo
echo "| profile | with #[healthhero_api] | written out by hand | ratio |"
echo "|---|---|---|---|"
for profile in ${PROFILES:-dev release}; do
  macro_t=() hand_t=()
  for _ in $(seq "$runs"); do
    macro_t+=("$(build_once macro "$profile")")
    hand_t+=("$(build_once hand "$profile")")
  done
  m=$(printf '%s\n' "${macro_t[@]}" | median)
  h=$(printf '%s\n' "${hand_t[@]}" | median)
  echo "| $profile | ${m} s | ${h} s | $(echo "scale=3; $m / $h" | bc) |"
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
