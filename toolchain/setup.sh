#!/usr/bin/env bash
# Sets up everything levtoken needs inside the project folder, offline except for the
# package registries (PyPI, npm, Debian). Idempotent: a second run only checks stamps.
#   toolchain/setup.sh            Python venv, npm packages, solc, anvil
#   toolchain/setup.sh --test     the same, plus redis-server (the keeper's broker test) and chromium with
#                                 chromium-driver (the product page's browser tests) from Debian
#   toolchain/setup.sh --prove    the same, plus .venv-prove: halmos and its SMT solvers for `make prove`
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
SOLC_DIR=$ROOT/.solcx
SOLC_VERSION=$(awk '/^solidity:/{s=1;next} /^[^ ]/{s=0} s && $1=="version:"{print $2; exit}' ape-config.yaml)

die() { echo "setup: $*" >&2; exit 1; }
say() { [ -n "${QUIET:-}" ] || echo "setup: $*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- interpreters -----------------------------------------------------------------
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || die "Python 3.11 is required but was not found; install it (e.g. 'apt install python3.11 python3.11-venv' or pyenv) or set PYTHON=/path/to/python3.11."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
  || die "PYTHON=$PYTHON is not a working Python 3.11; point it at python3.11."
command -v node >/dev/null || die "Node.js is required (for anvil, solc-js and the Solidity libraries) but 'node' was not found; install Node.js 18 or newer."
command -v npm >/dev/null || die "npm is required but was not found; install it with Node.js."
[ -n "$SOLC_VERSION" ] || die "could not read the Solidity version from ape-config.yaml (solidity: version: X.Y.Z)."

# --- Python virtual environment ------------------------------------------------------
py_stamp=$(hash_of requirements.lock pyproject.toml)
if [ "$(cat "$VENV/.levtoken-stamp" 2>/dev/null)" != "$py_stamp" ]; then
  say "creating the Python environment in .venv (pinned by requirements.lock)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || die "could not create a virtual environment; install the venv module (e.g. 'apt install python3.11-venv')."
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock 2>"$VENV/pip-error.log"; then
    tail -n 5 "$VENV/pip-error.log" >&2
    die "pip could not install requirements.lock; check that PyPI (or your PIP_INDEX_URL mirror) is reachable. Full log: .venv/pip-error.log"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e . >"$VENV/pip-error.log" 2>&1 \
    || die "could not install the levtoken package into .venv (log: .venv/pip-error.log)."
  echo "$py_stamp" > "$VENV/.levtoken-stamp"
fi

# --- npm: anvil, solc-js, Solidity libraries ------------------------------------------
npm_stamp=$(hash_of package-lock.json)
if [ "$(cat node_modules/.levtoken-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  say "installing npm packages (anvil, solc-js, OpenZeppelin, Solady) from package-lock.json"
  if ! npm ci --no-audit --no-fund --loglevel=error >/tmp/levtoken-npm.log 2>&1; then
    tail -n 5 /tmp/levtoken-npm.log >&2
    die "npm ci failed; check that the npm registry (or your npm mirror) is reachable. Full log: /tmp/levtoken-npm.log"
  fi
  echo "$npm_stamp" > node_modules/.levtoken-stamp
fi

# --- anvil on the PATH that ape-foundry uses (the venv's bin) --------------------------
ANVIL=$ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
[ -x "$ANVIL" ] || die "the anvil binary is missing from node_modules; delete node_modules and run 'make setup' again."
ln -sf "$ANVIL" "$VENV/bin/anvil"

# --- a solc for py-solc-x: native if it can be installed, otherwise the solc-js wrapper ----
SOLC_BIN=$SOLC_DIR/solc-v$SOLC_VERSION
mkdir -p "$SOLC_DIR"
if ! "$SOLC_BIN" --version 2>/dev/null | grep -q "Version: $SOLC_VERSION+"; then
  rm -f "$SOLC_BIN"
  if [ -z "${LEVTOKEN_SOLC_JS:-}" ] && timeout 120 "$VENV/bin/python" -c "import solcx, sys; solcx.install_solc(sys.argv[1], solcx_binary_path=sys.argv[2])" "$SOLC_VERSION" "$SOLC_DIR" >/dev/null 2>&1; then
    say "installed native solc $SOLC_VERSION into .solcx"
  else
    solcjs_version=$(node -p "require('$ROOT/node_modules/solc/package.json').version" 2>/dev/null) \
      || die "solc-js is missing from node_modules; run 'npm ci'."
    [ "$solcjs_version" = "$SOLC_VERSION" ] \
      || die "ape-config.yaml asks for solc $SOLC_VERSION but package.json pins solc-js $solcjs_version; make them equal."
    cat > "$SOLC_BIN" <<WRAPPER
#!/bin/sh
# solc $SOLC_VERSION through solc-js (native solc could not be downloaded on this machine).
LEVTOKEN_SOLCJS="$ROOT/node_modules/solc" exec node "$ROOT/toolchain/solc-js-wrapper.js" "\$@"
WRAPPER
    chmod +x "$SOLC_BIN"
    say "native solc $SOLC_VERSION unavailable here; using the solc-js wrapper (.solcx/solc-v$SOLC_VERSION)"
  fi
  "$SOLC_BIN" --version | grep -q "Version: $SOLC_VERSION+" || die "the solc in .solcx does not answer --version; delete .solcx and run 'make setup' again."
fi
# The same solc as `solc` on the venv's PATH, for slither (crytic-compile); this replaces the
# solc-select shim that slither-analyzer installs there, which would try to download a compiler.
ln -sf "$SOLC_BIN" "$VENV/bin/solc"

# --- Debian packages the tests need: redis-server (the keeper's broker test), chromium and its driver (the
# product page's browser tests) ---------------------------------------------------------------------------
if [ "${1:-}" = "--test" ]; then
  missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing ${missing[*]} from Debian's packages (keeper broker test, browser tests)"
      { apt-get install -y -qq "${missing[@]}" >/tmp/levtoken-apt.log 2>&1 \
        || { apt-get update -qq >>/tmp/levtoken-apt.log 2>&1 && apt-get install -y -qq "${missing[@]}" >>/tmp/levtoken-apt.log 2>&1; }; } \
        || die "could not install ${missing[*]} with apt-get (log: /tmp/levtoken-apt.log); install them yourself."
    else
      die "the tests need ${missing[*]} (Debian's packages); install them ('sudo apt install ${missing[*]}') and run again."
    fi
  fi
fi
# --- halmos for `make prove`, in its own venv: halmos requires rich<14.1, requirements.lock pins rich 14.3.4 ------
if [ "${1:-}" = "--prove" ]; then
  PROVE_VENV=$ROOT/.venv-prove
  prove_stamp=$(hash_of toolchain/requirements-prove.lock)
  if [ "$(cat "$PROVE_VENV/.levtoken-stamp" 2>/dev/null)" != "$prove_stamp" ]; then
    say "creating the proof environment in .venv-prove (halmos, cvc5, bitwuzla; pinned by toolchain/requirements-prove.lock)"
    [ -x "$PROVE_VENV/bin/python" ] || "$PYTHON" -m venv "$PROVE_VENV" || die "could not create .venv-prove; install the venv module (e.g. 'apt install python3.11-venv')."
    if ! "$PROVE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r toolchain/requirements-prove.lock 2>"$PROVE_VENV/pip-error.log"; then
      tail -n 5 "$PROVE_VENV/pip-error.log" >&2
      die "pip could not install toolchain/requirements-prove.lock into .venv-prove; check that PyPI is reachable. Full log: .venv-prove/pip-error.log"
    fi
    echo "$prove_stamp" > "$PROVE_VENV/.levtoken-stamp"
  fi
  [ -x "$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge" ] \
    || die "the forge binary is missing from node_modules; delete node_modules and run 'make setup' again."
fi
exit 0
