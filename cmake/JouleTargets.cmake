# joule_library(NAME SRCS ... DEPS ...): one static library per layer, include paths rooted at
# src/. Only the DEPS named are linked, so a forbidden arrow between layers fails to build.
function(joule_library name)
    cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
    add_library(joule_${name} STATIC ${ARG_SRCS})
    target_include_directories(joule_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(joule_${name} PUBLIC ${ARG_DEPS})
endfunction()

# joule_unit_tests(NAME SRCS ... DEPS ...): a folder's unit tests in one binary, label "unit".
function(joule_unit_tests name)
    cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
    if(NOT JOULE_BUILD_TESTS)
        return()
    endif()
    set(labels unit)
    if(ARG_LABELS)
        set(labels ${ARG_LABELS})
    endif()
    add_executable(${name} ${ARG_SRCS})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
    gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
endfunction()
