#!/usr/bin/env bash
# Installs what building and running Surety needs, idempotently:
#   - Debian packages: clang libclang-dev (RocksDB bindings), pkg-config, chromium (the web
#     app's browser test drives it headless), and Node.js with npm when no `npm` is on PATH
#     (the cosmjs compatibility test runs cosmjs)
#   - CometBFT, pinned in <repo>/COMETBFT_VERSION, via `go install` from the Go module proxy
# Safe to run repeatedly (CI runs it on every build). Prints the PATH entry to use for cometbft
# on its last line as `COMETBFT_BIN_DIR=<dir>`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMETBFT_VERSION="$(tr -d '[:space:]' < "$REPO/COMETBFT_VERSION")"
APT_PACKAGES=(clang libclang-dev pkg-config chromium)
# A Node.js installed some other way (nvm, nodesource) is left alone.
if ! command -v npm >/dev/null 2>&1; then
  APT_PACKAGES+=(nodejs npm)
fi

log() { echo "[install-prereqs] $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" || sudo "$@"
  else
    log "need root for: $* (no sudo available)"
    return 1
  fi
}

# --- Debian packages -------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  else
    log "missing packages ${missing[*]} and no apt-get: install them with your package manager"
    exit 1
  fi
fi

# --- Rust ------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    log "cargo not found: install Rust (rustup) first"
    exit 1
  fi
fi

# --- Go (only needed to install CometBFT) ----------------------------------
ensure_go() {
  if command -v go >/dev/null 2>&1; then return 0; fi
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
    return 0
  fi
  log "installing Go from Debian (golang-go); GOTOOLCHAIN=auto fetches a newer toolchain if CometBFT needs one"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go ca-certificates >&2
}

gobin_dir() {
  local d
  d="$(go env GOBIN)"
  if [ -z "$d" ]; then d="$(go env GOPATH | cut -d: -f1)/bin"; fi
  echo "$d"
}

# --- CometBFT --------------------------------------------------------------
want="${COMETBFT_VERSION#v}"
have=""
bin_dir=""
if command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; then
  ensure_go
  bin_dir="$(gobin_dir)"
  export PATH="$bin_dir:$PATH"
elif [ -x "$HOME/go/bin/cometbft" ]; then
  bin_dir="$HOME/go/bin"
  export PATH="$bin_dir:$PATH"
fi
if command -v cometbft >/dev/null 2>&1; then
  have="$(cometbft version 2>/dev/null | head -n1 | tr -d '[:space:]')"
  have="${have#v}"
fi
if [ "$have" != "$want" ]; then
  ensure_go
  bin_dir="$(gobin_dir)"
  export PATH="$bin_dir:$PATH"
  log "installing CometBFT $COMETBFT_VERSION (found: ${have:-none}) into $bin_dir"
  go install "github.com/cometbft/cometbft/cmd/cometbft@${COMETBFT_VERSION}" >&2
  have="$(cometbft version 2>/dev/null | head -n1 | tr -d '[:space:]')"
  have="${have#v}"
  if [ "$have" != "$want" ]; then
    log "CometBFT install failed: \`cometbft version\` says '${have}', wanted ${want} ($(command -v cometbft || echo 'not on PATH'))"
    exit 1
  fi
fi
log "cometbft $have at $(command -v cometbft)"
echo "COMETBFT_BIN_DIR=$(dirname "$(command -v cometbft)")"
