# Shared by scripts/test and .ci/run: the browser tests drive Debian's chromium (never a downloaded one).
# Installs it with apt-get when missing; where that is impossible (not root, or no apt-get) it says so
# in one line and fails, so a fresh machine never runs a suite that cannot pass.
# CHROMIUM names another binary to use (tests/browser/conftest.py reads the same variable).
if [ -n "${CHROMIUM:-}" ]; then
  if [ ! -x "$CHROMIUM" ]; then echo "CHROMIUM=$CHROMIUM is not an executable file." >&2; exit 1; fi
elif ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests (apt-get install chromium)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    if [ "$(id -u)" -eq 0 ]; then why="there is no apt-get"; else why="this user is not root"; fi
    echo "The browser tests need Debian's chromium and $why: install it (sudo apt-get install chromium) and run again." >&2
    exit 1
  fi
fi
