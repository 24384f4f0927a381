# wallboard integration tests (docs/wallboard.md, "Tests"). Each script takes the wallboard binary
# and a fresh work dir; exit 77 = skipped (a tool such as xvfb-run or redis-server is missing).
#   wallboard.screenshot  --screenshot sizes, determinism, the numbers (regions differ exactly
#                         where counts differ), a wrong number is caught
#   wallboard.redis       Redis render == file render outside header.status; headless window;
#                         Redis loss keeps the numbers and shows stale; reconnect; SIGTERM
#   wallboard.xvfb        an X11 window under Xvfb equals the --screenshot picture (AE 0)
# LSAN_OPTIONS applies only to the OPSWALL_SANITIZE build; lsan.supp lists third-party frames only.
set(OW_WB_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR})
set(OW_WB_TEST_ENV
    "TZ=UTC"
    "LSAN_OPTIONS=suppressions=${OW_WB_TEST_DIR}/lsan.supp:print_suppressions=0"
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0")
foreach(part screenshot redis xvfb)
  add_test(NAME wallboard.${part}
           COMMAND bash ${OW_WB_TEST_DIR}/wallboard_${part}_test.sh
                   $<TARGET_FILE:opswall-wallboard> ${CMAKE_CURRENT_BINARY_DIR}/wallboard.${part}
                   $<TARGET_FILE:wallboard_fixture> ${PROJECT_SOURCE_DIR})
  set_tests_properties(wallboard.${part} PROPERTIES
                       LABELS integration
                       ENVIRONMENT "${OW_WB_TEST_ENV}"
                       SKIP_RETURN_CODE 77
                       TIMEOUT 180)
endforeach()
