# Simulator and sample-city tests (label: integration). The steps live in sim_test.sh; sim_check
# is a test-only tool that checks NDJSON with the event codec and prints counts per type.
add_executable(ow_sim_check ${CMAKE_CURRENT_LIST_DIR}/sim_check.c)
target_link_libraries(ow_sim_check PRIVATE ow_core)

set(OW_SIM_TEST_DIR ${CMAKE_CURRENT_BINARY_DIR}/sim_tmp)
function(opswall_sim_test name)
  add_test(NAME ${name}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sim_test.sh ${ARGN}
           $<TARGET_FILE:opswall-sim> $<TARGET_FILE:ow_sim_check> ${PROJECT_SOURCE_DIR}
           ${OW_SIM_TEST_DIR}/${name})
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT 120)
endfunction()

opswall_sim_test(sim_same_seed_same_bytes same_seed)
opswall_sim_test(sim_other_seed_other_bytes other_seed)
opswall_sim_test(sim_codec_normal scenario normal)
opswall_sim_test(sim_codec_rainstorm scenario rainstorm)
opswall_sim_test(sim_codec_shortage scenario shortage)
opswall_sim_test(sim_codec_weekend scenario weekend)
opswall_sim_test(sim_options options)
opswall_sim_test(sim_memory_bounded memory)
opswall_sim_test(sim_sample_events sample)
