# opswall-feed: HTTP API, websocket, Redis reconnect, the viewer in headless Chromium, valgrind.
# Each test starts its own redis-server in a temp dir; the node packages (ws, playwright-core) are
# installed once by the integration.feed_npm fixture (tests/browser/install.sh, idempotent).
set(OPSWALL_FEED_ENV FEED_BIN=$<TARGET_FILE:opswall-feed>)

add_test(NAME integration.feed_npm COMMAND bash ${PROJECT_SOURCE_DIR}/tests/browser/install.sh)
set_tests_properties(integration.feed_npm PROPERTIES LABELS integration TIMEOUT 300
                     FIXTURES_SETUP feed_node)

add_test(NAME integration.feed_api
         COMMAND ${CMAKE_COMMAND} -E env ${OPSWALL_FEED_ENV}
                 bash ${CMAKE_CURRENT_LIST_DIR}/feed_api.sh)
set_tests_properties(integration.feed_api PROPERTIES LABELS integration TIMEOUT 120
                     FIXTURES_REQUIRED feed_node)

add_test(NAME integration.feed_browser
         COMMAND ${CMAKE_COMMAND} -E env ${OPSWALL_FEED_ENV}
                 SCREENSHOT_DIR=${CMAKE_CURRENT_BINARY_DIR}/feed-screenshots
                 RUN_BIN=$<TARGET_FILE:opswall-run>
                 bash ${CMAKE_CURRENT_LIST_DIR}/feed_browser.sh)
set_tests_properties(integration.feed_browser PROPERTIES LABELS integration TIMEOUT 180
                     FIXTURES_REQUIRED feed_node)

# The same API checks with the feed under valgrind: no error, no leak, clean loop close.
# (Not with OPSWALL_SANITIZE: ASan and valgrind do not mix; the ASan build checks leaks itself.)
find_program(OPSWALL_VALGRIND valgrind)
if(OPSWALL_VALGRIND AND NOT OPSWALL_SANITIZE)
  add_test(NAME integration.feed_valgrind
           COMMAND ${CMAKE_COMMAND} -E env ${OPSWALL_FEED_ENV}
                   "FEED_WRAPPER=${OPSWALL_VALGRIND} -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
                   bash ${CMAKE_CURRENT_LIST_DIR}/feed_api.sh)
  set_tests_properties(integration.feed_valgrind PROPERTIES LABELS "integration;valgrind"
                       TIMEOUT 300 FIXTURES_REQUIRED feed_node)
endif()

# feed.send_threads: hundreds of viewers through the send threads, a delta larger than the sockets
# take, TLS (never threaded), send_threads 1 (feed/fanout.h).
add_test(NAME integration.feed_threads
         COMMAND ${CMAKE_COMMAND} -E env ${OPSWALL_FEED_ENV}
                 bash ${CMAKE_CURRENT_LIST_DIR}/feed_threads.sh)
set_tests_properties(integration.feed_threads PROPERTIES LABELS integration TIMEOUT 180
                     FIXTURES_REQUIRED feed_node)

# feed.workers = 2: one port, two processes (feed/workers.h): spread, totals, acks, restart, TLS.
add_test(NAME integration.feed_workers
         COMMAND ${CMAKE_COMMAND} -E env ${OPSWALL_FEED_ENV}
                 bash ${CMAKE_CURRENT_LIST_DIR}/feed_workers.sh)
set_tests_properties(integration.feed_workers PROPERTIES LABELS integration TIMEOUT 120
                     FIXTURES_REQUIRED feed_node)

# websocket keep-alive (feed.ping_interval / ping_timeout): pinged clients that answer stay, a
# silent one is closed after the timeout.
add_test(NAME integration.feed_keepalive
         COMMAND ${CMAKE_COMMAND} -E env ${OPSWALL_FEED_ENV}
                 bash ${CMAKE_CURRENT_LIST_DIR}/feed_keepalive.sh)
set_tests_properties(integration.feed_keepalive PROPERTIES LABELS integration TIMEOUT 120
                     FIXTURES_REQUIRED feed_node)
