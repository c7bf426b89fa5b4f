#!/usr/bin/env bash
# Proves the core install runs the app: a fresh virtual environment with `pip install .` only
# (no extras, not editable), then `annotate demo --no-serve` and an AppTest run of every page
# for every demo role (tests/app/test_core_install_pages.py). pytest is added to that
# environment to run the test; nothing else is. The tests run from a copy outside the checkout
# so `import annotate` finds the installed package, not the source tree.
#
# Usage: bash scripts/check_core_install.sh   (CORE_VENV=DIR to choose the environment folder)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
venv="${CORE_VENV:-$repo/var/core-venv}"
python="${PYTHON:-python3}"

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "$repo"
"$venv/bin/python" -m pip install -q pytest

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/tests" "$work/tests"
cp "$repo/pyproject.toml" "$work/pyproject.toml"   # pytest settings (markers, warning filters)
find "$work/tests" -name __pycache__ -prune -exec rm -rf {} +
cd "$work"

where=$("$venv/bin/python" -c "import annotate; print(annotate.__file__)")
case "$where" in
  "$venv"/*) echo "core install: annotate imported from $where" ;;
  *) echo "core install: annotate imported from $where, not from $venv" >&2; exit 1 ;;
esac

ANNOTATE_DEMO_PASSWORD="${ANNOTATE_DEMO_PASSWORD:-core-install-password}" \
  "$venv/bin/annotate" --db "sqlite:///$work/demo.db" demo --no-serve
"$venv/bin/annotate" --version
"$venv/bin/metaeval" --version
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/app/test_core_install_pages.py
