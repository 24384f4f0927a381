# Several feeds over a partitioned deployment (docs/scaling.md §7; label: cluster, and
# integration). One redis-server holds the keys of 3 partitions (partition keys work on one node):
# a live engine serves partition 0, partitions 1 and 2 are partial snapshots made by ow_partials
# from the sample city. Two feeds merge them; the test compares what viewers get from each and
# sends acknowledgements through both.
add_executable(ow_partials ${CMAKE_CURRENT_LIST_DIR}/partials.c
                           ${PROJECT_SOURCE_DIR}/tests/engine/partsim.c)
target_include_directories(ow_partials PRIVATE ${PROJECT_SOURCE_DIR}/tests/engine)
target_link_libraries(ow_partials PRIVATE ow_engine ow_io)
add_test(NAME integration.feeds_merged
         COMMAND ${CMAKE_COMMAND} -E env FEED_BIN=$<TARGET_FILE:opswall-feed>
                 ENGINE_BIN=$<TARGET_FILE:opswall-engine> INGEST_BIN=$<TARGET_FILE:opswall-ingest>
                 PARTIALS_BIN=$<TARGET_FILE:ow_partials>
                 bash ${CMAKE_CURRENT_LIST_DIR}/feeds_test.sh)
set_tests_properties(integration.feeds_merged PROPERTIES LABELS "integration;cluster" TIMEOUT 180
                     FIXTURES_REQUIRED feed_node)

# The wallboard over the same 3 partitions: their merge drawn from Redis equals the merged picture
# drawn from a file; a missing partition is shown stale (tests/integration/wallboard_parts_test.sh).
add_test(NAME wallboard.partitions
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/wallboard_parts_test.sh
                 $<TARGET_FILE:opswall-wallboard> ${CMAKE_CURRENT_BINARY_DIR}/wallboard.partitions
                 $<TARGET_FILE:ow_partials> ${PROJECT_SOURCE_DIR})
set_tests_properties(wallboard.partitions PROPERTIES LABELS "integration;cluster"
                     ENVIRONMENT "TZ=UTC;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0"
                     SKIP_RETURN_CODE 77 TIMEOUT 300)
