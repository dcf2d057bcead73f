# Installing xgrad: `cmake --install build --prefix P` puts the library, its public headers (under
# include/xgrad/), a CMake package (find_package(xgrad 0.2 CONFIG), target xgrad::xgrad) and xgrad.pc in P;
# `cpack -G DEB` in the build folder makes a .deb that installs the same under /usr.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS xgrad EXPORT xgradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Public headers only: the kernels and the storage's xtensor container stay inside the library.
install(FILES ${PROJECT_SOURCE_DIR}/xgrad.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xgrad)
foreach(folder ${XGRAD_LIBRARY_FOLDERS})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xgrad/${folder}
          FILES_MATCHING PATTERN "*.hpp"
          PATTERN "kernels" EXCLUDE PATTERN "tensor_impl.hpp" EXCLUDE PATTERN "kernel_args.hpp" EXCLUDE
          PATTERN "storage_pool.hpp" EXCLUDE PATTERN "binary_file.hpp" EXCLUDE
          PATTERN "checkpoint_format.hpp" EXCLUDE PATTERN "checkpoint_json.hpp" EXCLUDE)
endforeach()

set(XGRAD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xgrad)
install(EXPORT xgradTargets NAMESPACE xgrad:: DESTINATION ${XGRAD_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xgradConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/xgradConfig.cmake INSTALL_DESTINATION ${XGRAD_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xgradConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xgradConfig.cmake ${PROJECT_BINARY_DIR}/xgradConfigVersion.cmake
        DESTINATION ${XGRAD_CMAKE_DIR})

# pkg-config: the flags the imported target carries, spelled out. The prefix is found from the .pc file's
# own place, so `cmake --install --prefix P` and the .deb both get a right one.
# Built with distributed/: Open MPI's own .pc adds <mpi.h>'s folder and -lmpi.
set(XGRAD_PC_REQUIRES "")
if(XGRAD_MPI)
  set(XGRAD_PC_REQUIRES "Requires: ompi-c")
endif()
file(RELATIVE_PATH XGRAD_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/xgrad.pc.in ${PROJECT_BINARY_DIR}/xgrad.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/xgrad.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# cpack -G DEB: the package depends on what the library links (OpenMP comes with g++).
set(CPACK_PACKAGE_NAME xgrad)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "xgrad developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-openmp, libopenblas-openmp-dev, libgomp1, g++ (>= 12)")
if(XGRAD_MPI)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libopenmpi-dev")
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
