#!/usr/bin/env bash
# Builds the web app into web/dist: installs the locked npm packages when they changed, then
# `npm run build`. Used by localnet/run and the browser test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
