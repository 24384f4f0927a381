# Ingest (issue 3): files, stdin, TCP, HTTP, a Redis outage, rejects (label: integration).
foreach(t ingest_files ingest_outage ingest_net)
  add_test(NAME integration.${t}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(integration.${t} PROPERTIES LABELS integration TIMEOUT 180)
endforeach()
