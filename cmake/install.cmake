# install.cmake - what `cmake --install` and `cpack -G DEB` put on a machine:
#   bin/plandag, lib/libplandag.{a,so*}, include/plandag/*.h, lib/pkgconfig/plandag.pc,
#   lib/cmake/plandag/ (find_package, imported target plandag::plandag),
#   share/man/man1/plandag.1, share/bash-completion/completions/plandag,
#   share/plandag/*.xsd, share/doc/plandag/ (README, plan format, rules).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The shared library: the same sources, position-independent, with a soname.
add_library(libplandag_shared SHARED ${PD_LIB_SOURCES} ${PD_EMBEDDED})
set_target_properties(libplandag_shared PROPERTIES OUTPUT_NAME plandag EXPORT_NAME plandag
                      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_include_directories(libplandag_shared
  PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
  PRIVATE ${CMAKE_SOURCE_DIR}/src ${PD_GENERATED_DIR})
target_link_libraries(libplandag_shared PRIVATE PkgConfig::GVC PkgConfig::CGRAPH
                      PkgConfig::LIBXML2 PkgConfig::CJSON PkgConfig::PROTOBUFC
                      PkgConfig::CAIRO m)
# Only the public pd_* API is exported (cmake/plandag.map), not the pd_i_* internals.
target_link_options(libplandag_shared PRIVATE
                    -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/plandag.map)
set_property(TARGET libplandag_shared APPEND PROPERTY LINK_DEPENDS
             ${CMAKE_SOURCE_DIR}/cmake/plandag.map)

# The man page and the completion come from the binary's own tables (src/cli/main.c).
set(PD_MAN ${CMAKE_BINARY_DIR}/plandag.1)
set(PD_COMPLETION ${CMAKE_BINARY_DIR}/plandag.bash-completion)
add_custom_command(OUTPUT ${PD_MAN} ${PD_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:plandag> -DARG=--help-man -DOUT=${PD_MAN}
          -P ${CMAKE_SOURCE_DIR}/cmake/capture.cmake
  COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:plandag> -DARG=--help-bash-completion
          -DOUT=${PD_COMPLETION} -P ${CMAKE_SOURCE_DIR}/cmake/capture.cmake
  DEPENDS plandag ${CMAKE_SOURCE_DIR}/cmake/capture.cmake
  COMMENT "Generating plandag.1 and the bash completion from plandag's tables")
add_custom_target(plandag_docs ALL DEPENDS ${PD_MAN} ${PD_COMPLETION})

install(TARGETS plandag RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS libplandag libplandag_shared EXPORT plandagTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/plandag
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PD_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PD_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME plandag)
install(FILES ${CMAKE_SOURCE_DIR}/schemas/plan.xsd ${CMAKE_SOURCE_DIR}/schemas/graphml.xsd
        ${CMAKE_SOURCE_DIR}/schemas/chakra_et.proto
        DESTINATION ${CMAKE_INSTALL_DATADIR}/plandag)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/plan-format.md
        ${CMAKE_SOURCE_DIR}/docs/rules.md ${CMAKE_SOURCE_DIR}/docs/executors.md
        ${CMAKE_SOURCE_DIR}/docs/pools.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# pkg-config: relocatable (paths relative to the .pc file).
file(RELATIVE_PATH PD_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" PD_PC_TO_PREFIX "${PD_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/plandag.pc.in ${CMAKE_BINARY_DIR}/plandag.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/plandag.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# find_package(plandag)
set(PD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/plandag)
install(EXPORT plandagTargets NAMESPACE plandag:: DESTINATION ${PD_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/plandagConfig.cmake.in
  ${CMAKE_BINARY_DIR}/plandagConfig.cmake INSTALL_DESTINATION ${PD_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/plandagConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/plandagConfig.cmake
        ${CMAKE_BINARY_DIR}/plandagConfigVersion.cmake DESTINATION ${PD_CMAKE_DIR})

# cpack -G DEB: one package; dpkg-shlibdeps computes Depends from the ELF files.
set(CPACK_PACKAGE_NAME plandag)
set(CPACK_PACKAGE_VENDOR "plandag")
set(CPACK_PACKAGE_CONTACT "plandag maintainers <plandag@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "plan compiler for MoE and dense inference deployments on GPU clusters")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "")
# Static linking (pkg-config --static, plandag::plandag_static) needs the -dev packages.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libgraphviz-dev, libxml2-dev, libcjson-dev, libprotobuf-c-dev, libcairo2-dev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "graphviz, bash-completion")
set(CPACK_GENERATOR DEB)
include(CPack)
