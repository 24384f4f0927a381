#!/usr/bin/env bash
# The viewer page in headless Chromium against a real feed and a private Redis
# (tests/browser/viewer.test.mjs does the browser part and restarts the feed itself).
#   FEED_BIN=build/bin/opswall-feed [RUN_BIN=build/bin/opswall-run] [SCREENSHOT_DIR=dir] \
#     tests/integration/feed_browser.sh
source "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "$CHROMIUM not found (apt-get install chromium)"
node_modules_ready
redis_start
FEED_BIN=$FEED_BIN FEED_CONFIG=$FEED_CONFIG REDIS_SOCK=$REDIS_SOCK TMP_DIR=$T CHROMIUM=$CHROMIUM \
  SCREENSHOT_DIR=${SCREENSHOT_DIR:-$PWD/feed-screenshots} RUN_BIN=${RUN_BIN:-} \
  VIEWER_TOKEN=$VIEWER_TOKEN SUP_TOKEN=$SUP_TOKEN \
  node "$FEED_SRC_DIR/tests/browser/viewer.test.mjs" || fail "browser test"
echo "feed_browser: all checks passed"
