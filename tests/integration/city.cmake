# The real city (issue 11) and the CSV source (issue 3): import counts against an independent count
# of the CSV, bad inputs, and the N× replay end to end.
add_test(NAME integration.city_import
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/city_import.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.city_import PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME integration.city_replay
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/city_replay.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.city_replay PROPERTIES LABELS integration TIMEOUT 180)
