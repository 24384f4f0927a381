add_test(NAME integration.skeleton_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/skeleton_e2e.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.skeleton_e2e PROPERTIES LABELS integration TIMEOUT 180)
