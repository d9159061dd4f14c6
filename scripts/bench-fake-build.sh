#!/usr/bin/env bash
# Build-time cost of the fakes (issue 25): one crate declaring a 30-endpoint trait (every
# argument role and return shape), rebuilt after a touch, dependencies prebuilt, four ways:
#   before  the macro and runtime as they were before the fakes (git revision $BEFORE)
#   off     today's, without the `testing` feature (what a release build compiles)
#   on      today's, with `testing` (the fake is written)
#   serve   today's, with `testing` and `#[healthhero_api(serve)]` (the fake can be served)
# The variants alternate run by run; medians and ratios to `before` on stdout.
#
#   scripts/bench-fake-build.sh [runs]     (default 5; BEFORE=<rev> to compare another base)
set -euo pipefail
runs=${1:-5}
before=${BEFORE:-01ee5b5}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-fake-build"
rm -rf "$work/crates"
mkdir -p "$work/crates"
# The base revision's sources, exported (no worktree left registered in .git).
rm -rf "$work/before-src"
mkdir -p "$work/before-src"
git -C "$root" archive "$before" | tar -x -C "$work/before-src"

api() {
  python3 - "$1" <<'PY'
import sys
serve = sys.argv[1] == "serve"
print("""use hh_runtime::{healthhero_api, Bytes, Error, Response};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item { pub id: u64, pub name: String, pub tags: Vec<String> }

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter { pub page: u32, pub size: Option<u32> }
""")
print("#[healthhero_api(prefix = \"/api/v1/<client_id>\"%s)]" % (", serve" if serve else ""))
print("pub trait Big {")
shapes = [
    ('get("/items/<id>")', "id: u64", "Item"),
    ('get("/items")', "#[query] name: &str, #[query] tags: &[&str]", "Vec<Item>"),
    ('post("/items")', "#[body] item: &Item, #[header(\"x-key\")] key: &str", "Response<Item>"),
    ('put("/items/<id>/name")', "id: u64, #[body(text)] name: &str", "String"),
    ('delete("/items/<id>")', "id: u64, #[header(\"x-reason\")] reason: Option<&str>", "()"),
    ('get("/items/<id>/maybe")', "id: u64", "Option<Item>"),
    ('post("/files/<name>")', "name: &str, #[body(bytes)] data: &[u8]", "Bytes"),
    ('get("/search")', "#[query(flatten)] filter: &Filter", "Vec<Item>"),
    ('post("/forms")', "#[form] filter: &Filter", "()"),
    ('patch("/items/<id>")', "id: u64, #[body] item: Option<&Item>", "Item"),
]
for i in range(30):
    verb, args, ret = shapes[i % len(shapes)]
    verb = verb.replace('("/', '("/g%d/' % i)
    print("    #[%s]" % verb)
    print("    async fn call_%d(&self, %s) -> Result<%s, Error>;" % (i, args, ret))
print("}")
PY
}

variant() {
  local name=$1 runtime=$2 features=$3 shape=$4
  mkdir -p "$work/crates/$name/src"
  cat > "$work/crates/$name/Cargo.toml" <<TOML
[package]
name = "bench-fake-$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
hh-runtime = { path = "$runtime/hh-runtime", features = [$features] }
serde = { version = "1", features = ["derive"] }

[workspace]
TOML
  api "$shape" > "$work/crates/$name/src/lib.rs"
  (cd "$work/crates/$name" && CARGO_TARGET_DIR="$work/target-$name" cargo build --quiet --offline)
}

variant before "$work/before-src" "" plain
variant off "$root" "" plain
variant on "$root" '"testing"' plain
variant serve "$root" '"testing"' serve

build_once() {
  local name=$1 start end
  touch "$work/crates/$name/src/lib.rs"
  start=$(date +%s.%N)
  (cd "$work/crates/$name" && CARGO_TARGET_DIR="$work/target-$name" cargo build --quiet --offline)
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A times
for ((i = 0; i < runs; i++)); do
  for name in before off on serve; do
    times[$name]+="$(build_once "$name") "
  done
done
base=$(tr ' ' '\n' <<<"${times[before]}" | grep . | median)
echo
echo "| variant | median of $runs (s) | ratio to before |"
echo "|---|---|---|"
for name in before off on serve; do
  m=$(tr ' ' '\n' <<<"${times[$name]}" | grep . | median)
  echo "| $name | $m | $(echo "scale=3; $m / $base" | bc) |"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
