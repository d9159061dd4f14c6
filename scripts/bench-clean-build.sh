#!/usr/bin/env bash
# What hh costs a user's clean build: a downstream crate declaring one endpoint with
# #[healthhero_api] (hh-runtime with its default features), against the same call written by
# hand with reqwest and the same TLS stack (reqwest's `rustls`, its default provider), each
# built from nothing (debug, its own target directory, dependencies from the local registry).
#
#   scripts/bench-clean-build.sh [runs]    (default 2 runs each, alternating; results on stdout)
set -euo pipefail
runs=${1:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/bench-clean-build"
rm -rf "$work"
mkdir -p "$work/hh/src" "$work/hand/src"

common='serde = { version = "1", features = ["derive"] }
tokio = { version = "1.40", features = ["rt-multi-thread", "macros"] }'

cat > "$work/hh/Cargo.toml" <<TOML
[package]
name = "user-hh"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
hh-runtime = { path = "$root/hh-runtime" }
$common

[workspace]
TOML

cat > "$work/hand/Cargo.toml" <<TOML
[package]
name = "user-hand"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
reqwest = { version = "0.13", default-features = false, features = ["rustls", "http2", "charset", "json"] }
$common

[workspace]
TOML

cat > "$work/hh/src/main.rs" <<'RS'
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

cat > "$work/hand/src/main.rs" <<'RS'
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

build() {
  local crate=$1
  rm -rf "$work/target-$crate"
  local started=$(date +%s.%N)
  local compiled
  compiled=$(cd "$work/$crate" && CARGO_TARGET_DIR="$work/target-$crate" cargo build --offline 2>&1 | grep -c '^ *Compiling ')
  local took=$(echo "$(date +%s.%N) - $started" | bc)
  echo "$crate $took $compiled"
}

# Resolve both lock files first, so the timed builds only compile.
(cd "$work/hh" && cargo generate-lockfile --offline -q)
(cd "$work/hand" && cargo generate-lockfile --offline -q)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  if [ $((run % 2)) -eq 1 ]; then order="hh hand"; else order="hand hh"; fi
  for crate in $order; do build "$crate"; done
done
