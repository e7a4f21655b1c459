#!/usr/bin/env bash
# Refresh the message catalogues after changing user-facing text: extract every template run and
# marked Python string, merge into each language's .po (translate the new empty entries there),
# then compile the .mo files that are committed with them (so a fresh install needs no build step).
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=".venv/bin/pybabel"
"$PYBABEL" extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output -o translations/messages.pot .
"$PYBABEL" update -i translations/messages.pot -d translations --no-fuzzy-matching --width 120
"$PYBABEL" compile -d translations --statistics
