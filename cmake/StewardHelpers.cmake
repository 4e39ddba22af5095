# steward_library(), steward_executable(), steward_test() and steward_benchmark(): one place
# that sets warnings, sanitizers and include roots, so every target is built the same way.

set(STEWARD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)

function(steward_apply_common target)
  target_compile_options(${target} PRIVATE ${STEWARD_WARNINGS})
  if(STEWARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(STEWARD_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${STEWARD_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${STEWARD_SANITIZE})
  endif()
endfunction()

# steward_library(NAME name ALIAS ns::alias SOURCES ... DEPS ...)
function(steward_library)
  cmake_parse_arguments(ARG "" "NAME;ALIAS" "SOURCES;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SOURCES})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  steward_apply_common(${ARG_NAME})
  if(ARG_ALIAS)
    add_library(${ARG_ALIAS} ALIAS ${ARG_NAME})
  endif()
endfunction()

# steward_executable(NAME name SOURCES ... DEPS ...)
function(steward_executable)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  steward_apply_common(${ARG_NAME})
endfunction()

# steward_test(NAME name SOURCES ... DEPS ... [LABELS ...])
function(steward_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  steward_apply_common(${ARG_NAME})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} --gtest_brief=1)
  if(ARG_LABELS)
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# steward_benchmark(NAME name SOURCES ... DEPS ...)
function(steward_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  # bench/*.h helpers, also for a benchmark that links no Steward library.
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  steward_apply_common(${ARG_NAME})
endfunction()
