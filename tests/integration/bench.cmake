# The benchmarks' own correctness (not their timing): bench/fanout_limit delivers every message,
# finishes short writes, refuses bad options and cleans up after a failure.
add_test(NAME integration.fanout_limit
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fanout_limit.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.fanout_limit PROPERTIES LABELS integration TIMEOUT 120)

# bench/feed_load.sh on a real feed (correctness only): lws clients with and without
# permessage-deflate get every delta, short and real ones included.
add_test(NAME integration.feed_load
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/feed_load.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.feed_load PROPERTIES LABELS integration TIMEOUT 400)
