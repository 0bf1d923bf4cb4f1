# basin_component(NAME SOURCES ... DEPS ...): one static library per folder under src/basin.
function(basin_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(basin_${name} STATIC ${ARG_SOURCES})
  target_include_directories(basin_${name} PUBLIC "${PROJECT_SOURCE_DIR}/src")
  target_link_libraries(basin_${name} PUBLIC ${ARG_DEPS})
endfunction()

# basin_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
function(basin_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  include(GoogleTest)
  # Test names carry the binary ("storage_test.GlobTest.X") so `ctest -R storage` selects them.
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "unit\\;${ARG_LABELS}")
endfunction()
