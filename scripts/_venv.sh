# Shared by scripts/run and scripts/test: make .venv and install the project into it, idempotently.
# The install is redone only when pyproject.toml changes (its hash is kept in the venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON_BIN="${PYTHON:-}"
if [ -z "$PYTHON_BIN" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON_BIN="$candidate"; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
EXTRAS="${1:-}"
STAMP=".venv/.infratrace-install"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)${EXTRAS}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ] || ! .venv/bin/python -c "import app, flask" 2>/dev/null; then
  echo "Installing InfraTrace${EXTRAS:+ with $EXTRAS} into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet -e ".${EXTRAS}"
  echo "$WANT" > "$STAMP"
fi
