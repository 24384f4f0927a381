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
                       TIMEOUT 600)
endforeach()
# wallboard.soak — memory stays flat over a fast-forwarded run (bench/wallboard_soak.c: new
# snapshots every simulated minute, applied as deltas, drawn as the window loop draws): 120
# iterations = 2 simulated hours at 1280x720; fails when the RSS grows more than 15 % after the
# warm-up. The 50-hour run is `wallboard_soak` with its defaults (docs/wallboard.md).
# Under ASan the allocator's quarantine holds freed memory by design: there the run only checks
# for errors and leaks, not the RSS.
if(OPSWALL_SANITIZE)
  set(OW_SOAK_CHECK --iterations 40)
else()
  set(OW_SOAK_CHECK --iterations 120 --check 15)
endif()
add_test(NAME wallboard.soak
         COMMAND $<TARGET_FILE:wallboard_soak> --repo ${PROJECT_SOURCE_DIR} --size 1280x720
                 ${OW_SOAK_CHECK})
set_tests_properties(wallboard.soak PROPERTIES LABELS integration ENVIRONMENT "${OW_WB_TEST_ENV}"
                     TIMEOUT 600)
