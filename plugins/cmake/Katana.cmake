# Katana.cmake: build a CMake project with katana and make patches. Include it BEFORE project():
#   include(path/to/katana/plugins/cmake/Katana.cmake)
#   project(greeter C)
# It makes katana-cc / katana-c++ the compilers (unless the cache already names other ones: then it
# stops with a message) and adds the target `katana-patch`, which runs `katana-make patch-since
# REV` for the revision in $KATANA_SINCE (at build time) or the cache variable KATANA_SINCE:
#   KATANA_SINCE=v1.2 cmake --build build --target katana-patch
# katana-make builds REV in a worktree and the work tree, each in the build folder at the same place
# relative to its tree as this one: the objects of REV then match those of this build byte for byte,
# so the patch fits the programs this build folder produced. Keep the build folder inside the tree.
include_guard(GLOBAL)

set(KATANA_BIN "${CMAKE_CURRENT_LIST_DIR}/../../node_modules/.bin" CACHE PATH "where katana-cc, katana-c++ and katana-make are")
set(KATANA_SINCE "" CACHE STRING "the revision katana-patch patches from (the environment's KATANA_SINCE wins)")
get_filename_component(KATANA_BIN "${KATANA_BIN}" ABSOLUTE)

if(DEFINED PROJECT_NAME)
  message(FATAL_ERROR "include Katana.cmake before project(): the compilers are chosen there")
endif()
foreach(_katana_lang C CXX)
  if(_katana_lang STREQUAL "C")
    set(_katana_cc "${KATANA_BIN}/katana-cc")
  else()
    set(_katana_cc "${KATANA_BIN}/katana-c++")
  endif()
  if(DEFINED CACHE{CMAKE_${_katana_lang}_COMPILER} AND NOT CMAKE_${_katana_lang}_COMPILER STREQUAL _katana_cc)
    message(FATAL_ERROR "CMAKE_${_katana_lang}_COMPILER is ${CMAKE_${_katana_lang}_COMPILER}; katana needs ${_katana_cc} (start from a fresh build folder)")
  endif()
  set(CMAKE_${_katana_lang}_COMPILER "${_katana_cc}" CACHE FILEPATH "katana's compiler wrapper" FORCE)
endforeach()

# The build command katana-make runs in each tree (the checkout of REV, then the work tree).
function(_katana_add_patch_target)
  file(RELATIVE_PATH _dir "${CMAKE_SOURCE_DIR}" "${CMAKE_BINARY_DIR}")
  if(_dir STREQUAL "" OR _dir MATCHES "^\\.\\./")
    # In-source builds would pollute the checkouts; outside builds would be shared by them. Neither
    # matches this build's objects (DW_AT_comp_dir), so REV is built in a folder of its own.
    message(WARNING "katana-patch: the build folder is not a subfolder of the source tree; patches will be for katana's own build of each revision (.katana/cmake-build), not for this one")
    set(_dir ".katana/cmake-build")
  endif()
  set(_build "'${CMAKE_COMMAND}' -S . -B '${_dir}' -G '${CMAKE_GENERATOR}'")
  if(CMAKE_BUILD_TYPE)
    string(APPEND _build " -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}")
  endif()
  string(APPEND _build " && '${CMAKE_COMMAND}' --build '${_dir}'")
  file(WRITE "${CMAKE_BINARY_DIR}/katana-patch.sh" "#!/bin/sh
# Written by Katana.cmake: katana-make patch-since for the katana-patch target.
since=\${KATANA_SINCE:-${KATANA_SINCE}}
[ -n \"$since\" ] || { echo 'katana-patch: say which revision to patch from: KATANA_SINCE=v1.2 cmake --build . --target katana-patch' >&2; exit 2; }
exec '${KATANA_BIN}/katana-make' patch-since \"$since\" --build \"${_build}\" -C '${CMAKE_SOURCE_DIR}'
")
  add_custom_target(katana-patch
    COMMAND sh "${CMAKE_BINARY_DIR}/katana-patch.sh"
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
    USES_TERMINAL
    COMMENT "katana-make patch-since $KATANA_SINCE")
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _katana_add_patch_target)
