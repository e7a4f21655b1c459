#!/usr/bin/env bash
# Refresh the message catalogues after changing user-facing text: extract every template run and
# marked Python string, merge into each language's .po (translate the new empty entries there),
# then compile the .mo files that are committed with them (so a fresh install needs no build step).
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=".venv/bin/pybabel"
# The service errors (app/services/errors.py) are keywords too: their literal message templates are
# what web pages show translated (app.web.errors.shown); the API keeps them English.
ERRORS="ServiceError BadRequest Unauthorized PlanLimit Forbidden NotFound Conflict TooLarge ValidationError RateLimited RepoBusy"
ERROR_KEYWORDS=()
for name in $ERRORS; do ERROR_KEYWORDS+=(-k "$name"); done
"$PYBABEL" extract -F babel.cfg -k lazy_gettext -k _l "${ERROR_KEYWORDS[@]}" --no-location --sort-output -o translations/messages.pot .
"$PYBABEL" update -i translations/messages.pot -d translations --no-fuzzy-matching --width 120
"$PYBABEL" compile -d translations --statistics
