#!/usr/bin/env bash
# Install the node packages the feed tests use (ws, playwright-core) into tests/browser/node_modules.
# Idempotent: does nothing when node_modules already matches package-lock.json. playwright-core
# downloads no browser; the tests drive Debian's /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v node >/dev/null || { echo "install.sh: node (>= 20) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "install.sh: npm is required" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "install.sh: node $(node --version) is too old; the browser tests need node >= 18" >&2
  exit 1
fi
if [ "$major" -lt 20 ]; then
  # Debian 12's own node is 18: playwright-core 1.61 is the last release that declares node 18
  # (TOOLCHAIN.md §5). The lock file stays as it is; this machine gets the older driver.
  [ -d node_modules/playwright-core ] && [ -d node_modules/ws ] && exit 0
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  npm install --no-save --no-audit --no-fund --loglevel=error playwright-core@1.61.1 ws@8.23.0
  exit 0
fi
# npm writes node_modules/.package-lock.json after a complete install; same content = up to date.
if [ -f node_modules/.package-lock.json ] && [ -d node_modules/ws ] && [ -d node_modules/playwright-core ] &&
   node -e '
     const a = require("./package-lock.json").packages, b = require("./node_modules/.package-lock.json").packages;
     for (const k of Object.keys(a)) if (k && (!b[k] || b[k].version !== a[k].version)) process.exit(1);
   ' 2>/dev/null; then
  exit 0
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
