# cmake -P script: the command-line program is built on the public API only.
# - Its include path holds no internal directory (src/ or the project root).
# - Every #include in src/cli/ names a public header (seqcnn/...), a file of
#   src/cli/ itself, or a header outside the project (standard library, CLI11);
#   never a file of src/, cuda/ or anything reached with "..".
set(failures "")

file(READ ${INCLUDE_DIRS_FILE} dirs)
string(STRIP "${dirs}" dirs)
foreach(dir ${dirs})
  cmake_path(NORMAL_PATH dir)
  string(REGEX REPLACE "/$" "" dir "${dir}")
  if(dir STREQUAL SOURCE_DIR OR dir MATCHES "^${SOURCE_DIR}/(src|cuda)(/|$)")
    string(APPEND failures "  seqcnn_cli has the internal directory ${dir} on its include path\n")
  endif()
endforeach()

file(GLOB cli_files ${SOURCE_DIR}/src/cli/*.cpp ${SOURCE_DIR}/src/cli/*.hpp)
if(NOT cli_files)
  message(FATAL_ERROR "no files in ${SOURCE_DIR}/src/cli")
endif()
foreach(file ${cli_files})
  file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    if(NOT line MATCHES "#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      string(APPEND failures "  ${file}: cannot read '${line}'\n")
      continue()
    endif()
    set(path ${CMAKE_MATCH_1})
    if(path MATCHES "^seqcnn/")
      if(NOT EXISTS ${SOURCE_DIR}/include/${path})
        string(APPEND failures "  ${file}: ${path} is not a public header in include/\n")
      endif()
    elseif(path MATCHES "(^|/)\\.\\.(/|$)")
      string(APPEND failures "  ${file}: '${path}' climbs out of src/cli\n")
    elseif(EXISTS ${SOURCE_DIR}/src/cli/${path})
      # the CLI's own header
    elseif(EXISTS ${SOURCE_DIR}/src/${path} OR EXISTS ${SOURCE_DIR}/${path} OR EXISTS ${SOURCE_DIR}/cuda/${path})
      string(APPEND failures "  ${file}: '${path}' is a library internal; use the public API (include/seqcnn)\n")
    endif()
  endforeach()
endforeach()

if(failures)
  message(FATAL_ERROR "the CLI reaches past the public API:\n${failures}")
endif()
list(LENGTH cli_files n)
message(STATUS "src/cli: ${n} files include only public headers, their own headers and system headers")
