# Installs libseqcnn.a, the public headers, the seqcnn program and a CMake
# package, so another project does
#     find_package(seqcnn 0.1 REQUIRED)
#     target_link_libraries(app PRIVATE seqcnn::seqcnn)
# and gets the headers and every library seqcnn needs at link time.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The public headers use std::span and defaulted operator==: consumers need C++20 too.
target_compile_features(seqcnn PUBLIC cxx_std_20)

# The CUDA objects go into the archive fully linked for the device (no
# relocatable device code), so a consumer links with its own C++ compiler and
# needs no device-link step.
if(SEQCNN_HAVE_CUDA)
  get_target_property(_seqcnn_separable seqcnn CUDA_SEPARABLE_COMPILATION)
  if(_seqcnn_separable)
    message(FATAL_ERROR "seqcnn: CUDA_SEPARABLE_COMPILATION must stay off; consumers would need a device link step")
  endif()
endif()

# Dependencies that are plain file paths in this build become imported
# targets named here; seqcnnConfig.cmake finds them again on the consumer's
# machine (see cmake/seqcnnConfig.cmake.in).
set(SEQCNN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/seqcnn)

install(TARGETS seqcnn EXPORT seqcnnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/seqcnn
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(TARGETS seqcnn_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT seqcnnTargets NAMESPACE seqcnn:: DESTINATION ${SEQCNN_INSTALL_CMAKEDIR})

# Where this build found CUDA and cuDNN: only a fallback hint for the
# consumer, who may point CUDAToolkit_ROOT elsewhere.
set(SEQCNN_CUDA_TOOLKIT_ROOT "")
set(SEQCNN_CUDNN_DIR "")
if(SEQCNN_HAVE_CUDA)
  get_filename_component(SEQCNN_CUDA_TOOLKIT_ROOT "${CUDAToolkit_BIN_DIR}" DIRECTORY)
  get_filename_component(SEQCNN_CUDNN_DIR "${SEQCNN_CUDNN_LIBRARY}" DIRECTORY)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seqcnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/seqcnnConfig.cmake
  INSTALL_DESTINATION ${SEQCNN_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API, so only the same minor version matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seqcnnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/seqcnnConfig.cmake ${PROJECT_BINARY_DIR}/seqcnnConfigVersion.cmake
  DESTINATION ${SEQCNN_INSTALL_CMAKEDIR})
