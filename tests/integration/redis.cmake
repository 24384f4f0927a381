add_test(NAME integration.redis_env
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/redis_env.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.redis_env PROPERTIES LABELS integration TIMEOUT 120)
