# The benchmarks' own correctness (not their timing): bench/fanout_limit delivers every message,
# finishes short writes, refuses bad options and cleans up after a failure.
add_test(NAME integration.fanout_limit
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fanout_limit.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.fanout_limit PROPERTIES LABELS integration TIMEOUT 120)
