#!/usr/bin/env python3
"""Copies the upstream .proto files Surety serves (and everything they import) into
proto/third_party, from the Go module cache. Run after changing ROOTS or the versions below:

    go mod download github.com/cosmos/cosmos-sdk@v0.50.10 github.com/cosmos/gogoproto@v1.7.0 \
        github.com/cosmos/cosmos-proto@v1.0.0-beta.5 github.com/grpc-ecosystem/grpc-gateway@v1.16.0
    python3 scripts/vendor-protos.py
"""
import os, re, shutil, sys

MOD = os.path.expanduser(os.environ.get("GOMODCACHE", "~/go/pkg/mod"))
SEARCH = [
    f"{MOD}/github.com/cosmos/cosmos-sdk@v0.50.10/proto",
    f"{MOD}/github.com/cosmos/gogoproto@v1.7.0",
    f"{MOD}/github.com/cosmos/cosmos-proto@v1.0.0-beta.5/proto",
    f"{MOD}/github.com/grpc-ecosystem/grpc-gateway@v1.16.0/third_party/googleapis",
]
# The gRPC services the node serves; reflection describes exactly these (and their imports).
ROOTS = [
    "cosmos/auth/v1beta1/query.proto",
    "cosmos/bank/v1beta1/query.proto",
    "cosmos/staking/v1beta1/query.proto",
    "cosmos/tx/v1beta1/service.proto",
    "cosmos/base/tendermint/v1beta1/query.proto",
    "cosmos/gov/v1/query.proto",
    # Messages too, so that `suretyd tx gov submit-proposal` can read them as JSON.
    "cosmos/bank/v1beta1/tx.proto",
    "cosmos/staking/v1beta1/tx.proto",
    "cosmos/gov/v1/tx.proto",
    "cosmos/auth/v1beta1/tx.proto",
    "cosmos/distribution/v1beta1/tx.proto",
    "cosmos/slashing/v1beta1/tx.proto",
    "cosmos/upgrade/v1beta1/tx.proto",
    # Public keys, which accounts and transactions carry in `Any`s.
    "cosmos/crypto/secp256k1/keys.proto",
    "cosmos/crypto/ed25519/keys.proto",
    "cosmos/crypto/secp256r1/keys.proto",
    "cosmos/crypto/multisig/keys.proto",
]
OUT = os.path.join(os.path.dirname(__file__), "..", "proto", "third_party")

def find(rel):
    for d in SEARCH:
        p = os.path.join(d, rel)
        if os.path.exists(p):
            return p
    return None

seen, todo = set(), list(ROOTS)
while todo:
    rel = todo.pop()
    if rel in seen or rel.startswith("google/protobuf/"):
        continue  # well-known types ship with protox
    seen.add(rel)
    src = find(rel)
    if src is None:
        sys.exit(f"not found: {rel}")
    todo += re.findall(r'^import\s+(?:public\s+)?"([^"]+)";', open(src).read(), re.M)

shutil.rmtree(OUT, ignore_errors=True)
for rel in sorted(seen):
    os.makedirs(os.path.join(OUT, os.path.dirname(rel)), exist_ok=True)
    shutil.copy(find(rel), os.path.join(OUT, rel))
print(f"vendored {len(seen)} files into {os.path.normpath(OUT)}")
