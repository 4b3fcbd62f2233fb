# Build information baked into the binary (tamga version, /metrics tamga_build_info).
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE TAMGA_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT TAMGA_GIT_COMMIT AND TAMGA_COMMIT_OVERRIDE)
  set(TAMGA_GIT_COMMIT "${TAMGA_COMMIT_OVERRIDE}")  # builds without .git (deploy/docker/Dockerfile)
elseif(NOT TAMGA_GIT_COMMIT)
  set(TAMGA_GIT_COMMIT "unknown")
endif()
# Re-run this when HEAD moves (a commit, a checkout), so the commit the binary reports is the one it was built
# from: CMake re-configures when any of these files changes.
execute_process(COMMAND git rev-parse --absolute-git-dir
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE TAMGA_GIT_DIR
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git symbolic-ref -q HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE TAMGA_GIT_REF
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(TAMGA_GIT_DIR AND EXISTS ${TAMGA_GIT_DIR}/HEAD)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TAMGA_GIT_DIR}/HEAD)
  foreach(f ${TAMGA_GIT_REF} packed-refs)
    if(EXISTS ${TAMGA_GIT_DIR}/${f})
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TAMGA_GIT_DIR}/${f})
    endif()
  endforeach()
endif()
set(TAMGA_VERSION ${PROJECT_VERSION})
configure_file(${CMAKE_SOURCE_DIR}/src/core/build_info.h.in ${CMAKE_BINARY_DIR}/generated/tamga/build_info.h @ONLY)
