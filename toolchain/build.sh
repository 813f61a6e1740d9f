#!/usr/bin/env bash
# Compiles the contracts when any Solidity source changed since the last build.
# ape's incremental compile recompiles only the edited file, not the files that import it (the
# factory embeds the token's code hash), so a change anywhere rebuilds everything.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=$(cat ape-config.yaml $(find contracts -name '*.sol' -not -path '*/.cache/*' | sort) | sha256sum | cut -c1-16)
if [ "$(cat .build/.levtoken-src 2>/dev/null)" != "$stamp" ]; then
  echo "build: compiling contracts"
  ape compile --force >/tmp/levtoken-compile.log 2>&1 || { tail -n 30 /tmp/levtoken-compile.log >&2; echo "build: compilation failed (log: /tmp/levtoken-compile.log)" >&2; exit 1; }
  echo "$stamp" > .build/.levtoken-src
fi
# Morpho Blue, built from its npm package with its own compiler and settings (toolchain/build-protocols.js), when
# the pinned packages or the build script changed.
protocols=$(cat package-lock.json toolchain/build-protocols.js | sha256sum | cut -c1-16)
if [ "$(cat .build/protocols/.stamp 2>/dev/null)" != "$protocols" ]; then
  echo "build: compiling Morpho Blue (solc 0.8.19, its own settings)"
  node toolchain/build-protocols.js >/tmp/levtoken-protocols.log 2>&1 || { tail -n 30 /tmp/levtoken-protocols.log >&2; echo "build: Morpho Blue failed to compile (log: /tmp/levtoken-protocols.log)" >&2; exit 1; }
  echo "$protocols" > .build/protocols/.stamp
fi
