#!/usr/bin/env bash
# What hh costs a user's clean build: a downstream crate declaring one endpoint with
# #[healthhero_api], on hh-runtime with its default features and with each optional feature,
# against the same call written by hand with reqwest and the same TLS stack (rustls with its
# default provider, or native-tls), each built from nothing (debug, its own target directory,
# dependencies from the local registry), in one run, hand-written and hh alternating. Prints,
# per variant, the crates compiled and the build time, and the crates hh adds over the
# hand-written build with the same TLS (from `cargo tree`).
#
#   scripts/bench-clean-build.sh [runs] [variant...]   (default 1 run; every variant)
#   variants: hand hh hh-token-store hh-redis hh-metrics hh-middleware hand-native hh-native
#             hh-native-redis
set -euo pipefail
runs=${1:-1}
shift || true
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(hand hh hh-token-store hh-redis hh-metrics hh-middleware hand-native hh-native hh-native-redis)
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-clean-build"
rm -rf "$work"
mkdir -p "$work"

common='serde = { version = "1", features = ["derive"] }
tokio = { version = "1.40", features = ["rt-multi-thread", "macros"] }'

# The dependency line of each variant: hh-runtime with some features, or reqwest by hand.
dep() {
  local hh="hh-runtime = { path = \"$root/hh-runtime\""
  local tls='"http2", "json"'
  case $1 in
    hand) echo "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls\", $tls] }" ;;
    hand-native) echo "reqwest = { version = \"0.13\", default-features = false, features = [\"native-tls\", $tls] }" ;;
    hh) echo "$hh }" ;;
    hh-native) echo "$hh, default-features = false, features = [\"native-tls\"] }" ;;
    hh-native-redis) echo "$hh, default-features = false, features = [\"native-tls\", \"redis\"] }" ;;
    hh-*) echo "$hh, features = [\"${1#hh-}\"] }" ;;
  esac
}

for variant in "${variants[@]}"; do
  mkdir -p "$work/$variant/src"
  cat > "$work/$variant/Cargo.toml" <<TOML
[package]
name = "user-$variant"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$(dep "$variant")
$common

[workspace]
TOML
done

cat > "$work/main-hh.rs" <<'RS'
#[derive(Debug, serde::Deserialize)]
pub struct Member { pub reference: String }

#[hh_runtime::healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait Members {
    #[get("/Members/<reference>")]
    async fn get(&self, reference: &str) -> hh_runtime::Result<Member>;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let members = MembersClient::new(hh_runtime::Client::from_env()?);
    println!("{:?}", members.get("m-1").await?);
    Ok(())
}
RS
cat > "$work/main-hand.rs" <<'RS'
#[derive(Debug, serde::Deserialize)]
pub struct Member { pub reference: String }

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (api, tenant, token) = (std::env::var("API")?, std::env::var("TENANT")?, std::env::var("TOKEN")?);
    let member: Member = reqwest::Client::new()
        .get(format!("{api}/api/v1/{tenant}/Members/m-1"))
        .bearer_auth(token)
        .send().await?.error_for_status()?.json().await?;
    println!("{member:?}");
    Ok(())
}
RS

for variant in "${variants[@]}"; do
  case $variant in
    hand*) cp "$work/main-hand.rs" "$work/$variant/src/main.rs" ;;
    *) cp "$work/main-hh.rs" "$work/$variant/src/main.rs" ;;
  esac
done

build() {
  local crate=$1
  rm -rf "$work/target-$crate"
  local started compiled took
  started=$(date +%s.%N)
  compiled=$(cd "$work/$crate" && CARGO_TARGET_DIR="$work/target-$crate" cargo build --offline 2>&1 | grep -c '^ *Compiling ')
  took=$(echo "$(date +%s.%N) - $started" | bc)
  echo "$crate $took $compiled"
}

# The crates a variant compiles, by name and version.
crates() {
  (cd "$work/$1" && cargo tree --offline -e normal,build --prefix none --format '{p}' 2>/dev/null \
    | sed 's/ (.*//' | sort -u | grep -v "^user-")
}

# Resolve every lock file first, so the timed builds only compile.
for variant in "${variants[@]}"; do
  (cd "$work/$variant" && cargo generate-lockfile --offline -q)
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "variant seconds crates-compiled"
for run in $(seq "$runs"); do
  order=("${variants[@]}")
  if [ $((run % 2)) -eq 0 ]; then
    order=(); for ((i=${#variants[@]}-1; i>=0; i--)); do order+=("${variants[i]}"); done
  fi
  for crate in "${order[@]}"; do build "$crate"; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# What each hh variant adds over the hand-written build with the same TLS.
for variant in "${variants[@]}"; do
  case $variant in
    hand*) continue ;;
    hh-native*) base=hand-native ;;
    *) base=hand ;;
  esac
  [ -d "$work/$base" ] || continue
  echo "--- $variant adds over $base:"
  comm -13 <(crates "$base") <(crates "$variant") | tr '\n' ' '
  echo
done
