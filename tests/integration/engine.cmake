add_test(NAME integration.engine_recovery
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/engine_recovery.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.engine_recovery PROPERTIES LABELS integration TIMEOUT 400)
add_test(NAME integration.engine_api
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/engine_api.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.engine_api PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME integration.report
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/report_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.report PROPERTIES LABELS integration TIMEOUT 300)
