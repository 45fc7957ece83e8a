# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): what a Debian package
# needs beyond the `cmake --install` tree CPack has staged: man pages
# gzipped, the Debian changelog (gzipped) and the copyright file in
# /usr/share/doc/zeqvpn. gzip -n keeps timestamps out, so the same sources
# give the same package.
set(root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT IS_DIRECTORY "${root}/usr/sbin")
  message(FATAL_ERROR "finish-tree.cmake: no staged install tree at ${root}")
endif()
set(doc "${root}/usr/share/doc/${CPACK_PACKAGE_NAME}")

# The changelog must name this version, or lintian and apt's changelog
# disagree with the package: add an entry to packaging/deb/changelog.
set(version "${CPACK_PACKAGE_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
file(STRINGS "${CPACK_ZEQ_DEB_DIR}/changelog" first LIMIT_COUNT 1)
if(NOT first MATCHES "^${CPACK_PACKAGE_NAME} \\(([^)]*)\\)" OR NOT CMAKE_MATCH_1 STREQUAL version)
  message(FATAL_ERROR "packaging/deb/changelog starts with '${first}', not version ${version}: add an entry for it")
endif()

file(MAKE_DIRECTORY "${doc}")
configure_file("${CPACK_ZEQ_DEB_DIR}/copyright" "${doc}/copyright" COPYONLY)
configure_file("${CPACK_ZEQ_DEB_DIR}/changelog" "${doc}/changelog.Debian" COPYONLY)
file(GLOB_RECURSE pages "${root}/usr/share/man/*")
foreach(file IN LISTS pages ITEMS "${doc}/changelog.Debian")
  if(NOT file MATCHES "\\.gz$")
    execute_process(COMMAND gzip -9nf "${file}" COMMAND_ERROR_IS_FATAL ANY)
  endif()
endforeach()
