# Build information baked into the binary (tamga version, /metrics tamga_build_info).
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE TAMGA_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT TAMGA_GIT_COMMIT)
  set(TAMGA_GIT_COMMIT "unknown")
endif()
set(TAMGA_VERSION ${PROJECT_VERSION})
configure_file(${CMAKE_SOURCE_DIR}/src/core/build_info.h.in ${CMAKE_BINARY_DIR}/generated/tamga/build_info.h @ONLY)
