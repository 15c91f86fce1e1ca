# cmake -P script: install seqcnn into a fresh prefix, build
# examples/consumer against the installed package, run it on the bundled
# data. Fails (non-zero exit) at the first step that does not work.
foreach(var SOURCE_DIR BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR
            CMAKE_INSTALL_INCLUDEDIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "consumer_test.cmake: ${var} is not set")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# A fresh prefix, so a header or file the install rules forget cannot be
# found left over from an earlier run.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# What the package must hold.
set(package_dir ${prefix}/${CMAKE_INSTALL_LIBDIR}/cmake/seqcnn)
foreach(file ${CMAKE_INSTALL_LIBDIR}/libseqcnn.a ${CMAKE_INSTALL_BINDIR}/seqcnn
             ${CMAKE_INSTALL_INCLUDEDIR}/seqcnn/seqcnn.hpp ${CMAKE_INSTALL_INCLUDEDIR}/seqcnn/errors.hpp
             ${CMAKE_INSTALL_LIBDIR}/cmake/seqcnn/seqcnnConfig.cmake
             ${CMAKE_INSTALL_LIBDIR}/cmake/seqcnn/seqcnnConfigVersion.cmake
             ${CMAKE_INSTALL_LIBDIR}/cmake/seqcnn/seqcnnTargets.cmake)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "the install lacks ${file}")
  endif()
endforeach()
file(GLOB installed_headers RELATIVE ${prefix}/${CMAKE_INSTALL_INCLUDEDIR}/seqcnn ${prefix}/${CMAKE_INSTALL_INCLUDEDIR}/seqcnn/*)
file(GLOB public_headers RELATIVE ${SOURCE_DIR}/include/seqcnn ${SOURCE_DIR}/include/seqcnn/*.hpp)
if(NOT installed_headers STREQUAL public_headers)
  message(FATAL_ERROR "installed headers (${installed_headers}) differ from include/seqcnn (${public_headers})")
endif()
# The exported target names no private build dependency and no path into
# the source or build tree.
file(GLOB target_files ${package_dir}/seqcnnTargets*.cmake)
foreach(file ${target_files})
  file(READ ${file} text)
  foreach(forbidden nlohmann CLI11 GTest "${SOURCE_DIR}" "${BUILD_DIR}")
    string(FIND "${text}" "${forbidden}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} mentions '${forbidden}'")
    endif()
  endforeach()
endforeach()

# The consumer: a separate project that only knows the install prefix.
set(consumer_build ${WORK_DIR}/build)
set(configure_args -S ${SOURCE_DIR}/examples/consumer -B ${consumer_build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(LINK_FLAGS)
  list(APPEND configure_args -DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS})
endif()
run_step("configuring examples/consumer" ${CMAKE_COMMAND} ${configure_args})
file(STRINGS ${consumer_build}/CMakeCache.txt found_dir REGEX "^seqcnn_DIR:")
if(NOT found_dir STREQUAL "seqcnn_DIR:PATH=${package_dir}")
  message(FATAL_ERROR "the consumer found seqcnn elsewhere: ${found_dir} (expected ${package_dir})")
endif()
run_step("building examples/consumer" ${CMAKE_COMMAND} --build ${consumer_build})

set(program ${consumer_build}/seqcnn_consumer)
set(checkpoint ${WORK_DIR}/consumer.safetensors)
run_step("running the consumer" ${program} ${SOURCE_DIR}/data/ss ${checkpoint})
message(STATUS "consumer output (library built with CUDA: ${WITH_CUDA}):\n${step_output}")
if(NOT EXISTS ${checkpoint})
  message(FATAL_ERROR "the consumer reported success but wrote no checkpoint")
endif()

# And the installed program reads what the consumer wrote.
run_step("installed seqcnn eval" ${prefix}/${CMAKE_INSTALL_BINDIR}/seqcnn eval --model ${checkpoint}
         --data ${SOURCE_DIR}/data/ss/valid.ss3.txt)
message(STATUS "installed seqcnn eval:\n${step_output}")
