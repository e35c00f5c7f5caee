# nurt_module(NAME area DEPS targets... [EXTRA_SOURCES files...])
#
# One engine area = one static library `nurt_<area>` built from engine/src/<area>/*.cpp, with the public
# headers of engine/include as its only PUBLIC include directory, plus (when tests are on) one GoogleTest
# binary `nurt_<area>_tests` built from tests/engine/<area>/*_test.cpp. Sources are globbed so that a file
# added to an area can never sit outside the build (every test in the tree runs in .ci/run).
function(nurt_module)
  cmake_parse_arguments(M "" "NAME" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS "${NURT_SOURCE_ROOT}/engine/src/${M_NAME}/*.cpp")
  add_library(nurt_${M_NAME} STATIC ${_srcs})
  target_include_directories(nurt_${M_NAME}
    PUBLIC "${NURT_SOURCE_ROOT}/engine/include"
    PRIVATE "${NURT_SOURCE_ROOT}/engine/src")
  target_link_libraries(nurt_${M_NAME} PUBLIC ${M_DEPS})
  if(NURT_BUILD_TESTS)
    file(GLOB _tests CONFIGURE_DEPENDS "${NURT_SOURCE_ROOT}/tests/engine/${M_NAME}/*_test.cpp")
    if(_tests)
      add_executable(nurt_${M_NAME}_tests ${_tests})
      target_include_directories(nurt_${M_NAME}_tests PRIVATE
        "${NURT_SOURCE_ROOT}/engine/src" "${NURT_SOURCE_ROOT}")
      target_link_libraries(nurt_${M_NAME}_tests PRIVATE nurt_${M_NAME} nurt_testing ${M_TEST_DEPS}
        GTest::gtest_main GTest::gmock)
      target_compile_definitions(nurt_${M_NAME}_tests PRIVATE
        NURT_SOURCE_ROOT="${NURT_SOURCE_ROOT}"
        NURT_SHARED_ROOT="${NURT_SHARED_ROOT}"
        NURT_BINARY_ROOT="${CMAKE_BINARY_DIR}")
      gtest_discover_tests(nurt_${M_NAME}_tests
        WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
        DISCOVERY_TIMEOUT 60
        PROPERTIES LABELS "${M_NAME}")
    endif()
  endif()
endfunction()
