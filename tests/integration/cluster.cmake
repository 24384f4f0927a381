# Redis Cluster tests (label: cluster, and integration): a real 3-master, 3-replica cluster on
# loopback started by scripts/cluster.sh. Run alone with: ctest --test-dir <build> -L cluster
add_executable(ow_cluster_check ${CMAKE_CURRENT_LIST_DIR}/cluster_check.c)
target_link_libraries(ow_cluster_check PRIVATE ow_io)
add_executable(ow_cluster_async_check ${CMAKE_CURRENT_LIST_DIR}/cluster_async_check.c)
target_link_libraries(ow_cluster_async_check PRIVATE ow_io_async)
add_test(NAME integration.cluster
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cluster_test.sh $<TARGET_FILE:ow_cluster_check>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE:opswall-cluster>
                 $<TARGET_FILE:ow_cluster_async_check>)
set_tests_properties(integration.cluster PROPERTIES LABELS "integration;cluster" TIMEOUT 180)
# Issue 12 items 3-5: routed ingest, engines per partition with a takeover, one node = 3 partitions
add_test(NAME integration.cluster_pipeline
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cluster_pipeline.sh $<TARGET_FILE_DIR:opswall-engine>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.cluster_pipeline PROPERTIES LABELS "integration;cluster" TIMEOUT 180)
# Issue 12 item 6: kill -9 of a master under the simulator, routed ingest with WAIT and an engine
add_test(NAME integration.cluster_failover
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cluster_failover.sh $<TARGET_FILE_DIR:opswall-engine>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.cluster_failover PROPERTIES LABELS "integration;cluster" TIMEOUT 180)
# Issue 12 item 4, fencing: an engine paused past its lease has its late writes refused by Redis
add_test(NAME integration.cluster_fence
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cluster_fence.sh $<TARGET_FILE_DIR:opswall-engine>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.cluster_fence PROPERTIES LABELS "integration;cluster" TIMEOUT 180)
# Issue 12, the readers: two feeds and a wallboard over the whole pipeline on the cluster, then
# kill -9 of the master holding partition 2 and the feeds' subscriptions
add_test(NAME integration.cluster_feeds
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cluster_feeds.sh $<TARGET_FILE_DIR:opswall-engine>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.cluster_feeds PROPERTIES LABELS "integration;cluster" TIMEOUT 180
                     ENVIRONMENT "TZ=UTC;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0")
# Issue 12 item 3, the listeners: TCP and HTTP in routed ingest across a kill -9 of a master, and
# parked events (ops:{g}:unrouted) across ingest processes and a kill -9 of ingest
add_test(NAME integration.cluster_listeners
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cluster_listeners.sh $<TARGET_FILE_DIR:opswall-engine>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.cluster_listeners PROPERTIES LABELS "integration;cluster" TIMEOUT 180)
