# The xgrad library: one static library that tests, examples, benchmarks and users' projects link, as
# xgrad::xgrad. Its headers are reached only as <xgrad/...>: the build tree gets an include folder whose
# xgrad/ holds links to the library's folders, the install tree a copy of their public headers.

find_package(OpenMP REQUIRED)
find_package(xtl REQUIRED)
find_package(xtensor REQUIRED)
find_package(nlohmann_json 3 REQUIRED)

# Debian's default OpenBLAS (pthread) fights OpenMP for the cores; link the OpenMP flavour by path.
set(XGRAD_OPENBLAS_DIR "/usr/lib/x86_64-linux-gnu/openblas-openmp" CACHE PATH "OpenMP-flavoured OpenBLAS")
find_library(XGRAD_OPENBLAS NAMES openblas PATHS ${XGRAD_OPENBLAS_DIR} NO_DEFAULT_PATH REQUIRED)
find_path(XGRAD_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-openmp NO_DEFAULT_PATH REQUIRED)

set(XGRAD_LIBRARY_FOLDERS core layers optim models data training)

# Data-parallel training (distributed/) over MPI: on when an MPI implementation is found (Debian's Open MPI:
# libopenmpi-dev), off otherwise; the rest of the library neither needs nor sees it.
# The project's only language is C++: MPI's C interface through FindMPI's CXX component, without the
# deprecated C++ bindings.
set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "xgrad uses MPI's C interface only")
find_package(MPI QUIET COMPONENTS CXX)
option(XGRAD_MPI "Build distributed/ (data-parallel training over MPI)" ${MPI_CXX_FOUND})
if(XGRAD_MPI)
  if(NOT MPI_CXX_FOUND)
    message(FATAL_ERROR "XGRAD_MPI is ON but no MPI was found (Debian: apt-get install libopenmpi-dev openmpi-bin)")
  endif()
  list(APPEND XGRAD_LIBRARY_FOLDERS distributed)
endif()

# <build>/include/xgrad/{core,layers,...,xgrad.hpp} -> the sources: the library's headers under the
# xgrad/ prefix, and nothing else of the source tree (tests/, examples/ are not reachable through it).
set(XGRAD_BUILD_INCLUDE ${PROJECT_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${XGRAD_BUILD_INCLUDE}/xgrad)
foreach(entry ${XGRAD_LIBRARY_FOLDERS} xgrad.hpp)
  if(NOT EXISTS ${XGRAD_BUILD_INCLUDE}/xgrad/${entry})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${entry} ${XGRAD_BUILD_INCLUDE}/xgrad/${entry} SYMBOLIC)
  endif()
endforeach()

# Sources are globbed per folder so that adding a file needs no edit here.
set(XGRAD_SOURCE_GLOBS)
foreach(folder ${XGRAD_LIBRARY_FOLDERS})
  list(APPEND XGRAD_SOURCE_GLOBS ${PROJECT_SOURCE_DIR}/${folder}/*.cpp)
endforeach()
file(GLOB_RECURSE XGRAD_SOURCES CONFIGURE_DEPENDS ${XGRAD_SOURCE_GLOBS})

add_library(xgrad STATIC ${XGRAD_SOURCES})
add_library(xgrad::xgrad ALIAS xgrad)
target_compile_features(xgrad PUBLIC cxx_std_20)
target_include_directories(xgrad PUBLIC $<BUILD_INTERFACE:${XGRAD_BUILD_INCLUDE}>
                                        $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_include_directories(xgrad SYSTEM PRIVATE ${XGRAD_CBLAS_INCLUDE})
# xtensor and nlohmann/json are header-only and used only inside the library's .cpp files: a user's
# project needs neither.
target_link_libraries(xgrad PUBLIC OpenMP::OpenMP_CXX ${XGRAD_OPENBLAS}
                      PRIVATE $<BUILD_INTERFACE:xtensor> $<BUILD_INTERFACE:nlohmann_json::nlohmann_json>)
if(XGRAD_MPI)
  # distributed/'s headers include <mpi.h>; XGRAD_HAVE_MPI tells code that may use them whether they exist.
  target_link_libraries(xgrad PUBLIC MPI::MPI_CXX)
  target_compile_definitions(xgrad PUBLIC XGRAD_HAVE_MPI=1)
endif()
# -fno-trapping-math changes no value (no FP traps are enabled) but lets GCC vectorize compare-and-select
# loops such as ReLU's backward: 40% of a training step without it (bench/, perf record).
target_compile_options(xgrad PRIVATE -Wall -Wextra -fno-trapping-math)
if(NOT XGRAD_TOP_LEVEL)
  # As a subproject, keep the library at -O3 whatever the parent's build type (results stay bit-identical
  # to the top-level build's).
  target_compile_options(xgrad PRIVATE -O3)
endif()
set_target_properties(xgrad PROPERTIES BUILD_RPATH ${XGRAD_OPENBLAS_DIR} EXPORT_NAME xgrad)
# The library compiles eight files to a translation unit (CMake's unity build): most of its compile time
# is parsing xtensor, nlohmann/json and the standard library, once per unit instead of once per file.
# So a file's internal helpers need names no other file uses. The kernels (core/kernels/) stay files of
# their own: they include little, the AVX-512 ones' `#pragma GCC target` must not reach other code, and
# their code generation stays exactly what was measured. Results do not change: the other files are
# compiled for baseline x86-64, which has no FMA to contract a * b + c into, so inlining across files
# cannot change an operation's rounding.
set_target_properties(xgrad PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
file(GLOB XGRAD_KERNEL_SOURCES ${PROJECT_SOURCE_DIR}/core/kernels/*.cpp)
set_source_files_properties(${XGRAD_KERNEL_SOURCES} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
