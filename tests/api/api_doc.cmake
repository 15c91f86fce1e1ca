# cmake -P script: docs/api.md shows examples/consumer/main.cpp verbatim, in
# the ```cpp block that follows the line holding MARKER. The consumer test
# builds and runs that file, so the documented example is known to work.
#   cmake -DSOURCE_DIR=. -P tests/api/api_doc.cmake              check
#   cmake -DSOURCE_DIR=. -DUPDATE=ON -P tests/api/api_doc.cmake  rewrite the block
set(doc ${SOURCE_DIR}/docs/api.md)
set(example ${SOURCE_DIR}/examples/consumer/main.cpp)
set(marker "<!-- the block below is examples/consumer/main.cpp -->")

file(READ ${doc} text)
file(READ ${example} code)
string(FIND "${text}" "${marker}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${doc}: no line '${marker}'")
endif()
string(SUBSTRING "${text}" 0 ${at} before)
string(SUBSTRING "${text}" ${at} -1 rest)
set(open_fence "${marker}\n```cpp\n")
string(FIND "${rest}" "${open_fence}" open_at)
if(NOT open_at EQUAL 0)
  message(FATAL_ERROR "${doc}: the marker line must be followed by a line '```cpp'")
endif()
string(LENGTH "${open_fence}" open_length)
string(SUBSTRING "${rest}" ${open_length} -1 rest)
string(FIND "${rest}" "\n```\n" close_at)
if(close_at EQUAL -1)
  message(FATAL_ERROR "${doc}: the example block has no closing '```'")
endif()
math(EXPR block_length "${close_at} + 1")
string(SUBSTRING "${rest}" 0 ${block_length} block)
string(SUBSTRING "${rest}" ${block_length} -1 after)

if(block STREQUAL code)
  message(STATUS "${doc}: the example equals ${example}")
elseif(UPDATE)
  file(WRITE ${doc} "${before}${open_fence}${code}${after}")
  message(STATUS "${doc}: example block rewritten from ${example}")
else()
  message(FATAL_ERROR "${doc}: the example block differs from ${example}; "
          "run: cmake -DSOURCE_DIR=. -DUPDATE=ON -P tests/api/api_doc.cmake")
endif()
