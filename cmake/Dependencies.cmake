# Third-party libraries: Debian 12 packages, plus DuckDB from .deps/ (scripts/bootstrap.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(GTest REQUIRED)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# Debian's cpp-httplib is a compiled library: macros such as CPPHTTPLIB_LISTEN_BACKLOG do
# not reach it (the server's accept queue is set in src/basin/server/api_server.cc).

set(BASIN_DUCKDB_DIR "${CMAKE_SOURCE_DIR}/.deps/duckdb")
if(NOT EXISTS "${BASIN_DUCKDB_DIR}/lib/libduckdb.so")
  message(FATAL_ERROR "DuckDB is missing from ${BASIN_DUCKDB_DIR}: run scripts/bootstrap.sh (make does)")
endif()
add_library(duckdb SHARED IMPORTED GLOBAL)
set_target_properties(duckdb PROPERTIES IMPORTED_LOCATION "${BASIN_DUCKDB_DIR}/lib/libduckdb.so"
                                        IMPORTED_NO_SONAME TRUE)
# -isystem: DuckDB's headers are not ours to warn about. Never define DEBUG or
# DUCKDB_DEBUG_NO_SAFETY next to them: both change struct layouts against the prebuilt library.
target_include_directories(duckdb SYSTEM INTERFACE "${BASIN_DUCKDB_DIR}/include")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
configure_file("${BASIN_DUCKDB_DIR}/lib/libduckdb.so" "${CMAKE_BINARY_DIR}/bin/libduckdb.so" COPYONLY)
