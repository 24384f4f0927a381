# opswall-notify: delivery to real loopback receivers through a real Redis (notify_e2e.sh).
add_test(NAME integration.notify_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/notify_e2e.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.notify_e2e PROPERTIES LABELS integration TIMEOUT 240)
