#!/usr/bin/env bash
# Builds the IBC tools the cross-chain tests and `localnet/run start --ibc` use, once, into a
# cache outside the clone (later runs find them and return at once):
#   - Hermes, the stock IBC relayer, 1.10.5 from crates.io (1.12 and later fetch proving keys
#     from GitHub at build time and cannot build offline);
#   - simd, ibc-go v8.8.0's test chain, from localnet/simd through the Go module proxy.
# Prints `HERMES=<path>` and `SIMD=<path>` on its last two lines.
# Measured on a 2-core machine, cold: Hermes 316 s, simd 126 s.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${SURETY_TOOLS_DIR:-$HOME/.cache/surety-tools}"
HERMES_VERSION=1.10.5
log() { echo "[install-ibc-tools] $*" >&2; }

hermes="$TOOLS/hermes-$HERMES_VERSION/bin/hermes"
if [ ! -x "$hermes" ]; then
  log "building Hermes $HERMES_VERSION (about 5 minutes on 2 cores)"
  CARGO_TARGET_DIR="$TOOLS/target" cargo install ibc-relayer-cli --version "$HERMES_VERSION" \
    --locked --bin hermes --root "$TOOLS/hermes-$HERMES_VERSION" >&2
fi

# Rebuilt when the wrapper module changes.
sum="$(cat "$REPO/localnet/simd/go.mod" "$REPO/localnet/simd/go.sum" "$REPO/localnet/simd/main.go" | sha256sum | cut -c1-16)"
simd="$TOOLS/simd-$sum/simd"
if [ ! -x "$simd" ]; then
  command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"
  log "building simd (ibc-go v8.8.0) from localnet/simd (about 2 minutes)"
  mkdir -p "$TOOLS/simd-$sum"
  (cd "$REPO/localnet/simd" && GOFLAGS=-mod=mod go build -o "$simd.tmp" . && mv "$simd.tmp" "$simd")
fi

echo "HERMES=$hermes"
echo "SIMD=$simd"
