# tests/check_layout.cmake — the layout rules that keep the stages apart,
# run by CTest (test "check_layout") so that they cannot quietly regress:
#
# 1. No vendor type in a public header. Every header of the source tree
#    (tests aside) is public unless its name ends in "_internal.h"; the
#    header is read with comments stripped by the C preprocessor (nothing
#    expanded), so a comment may name a vendor type, code may not.
# 2. A "_internal.h" header is included only by files of its own directory.
# 3. What links the core, the archive and the index: neither the targets
#    they link as CMake knows them (directly or through other libraries,
#    tests/CMakeLists.txt) nor the dynamic libraries a test binary of each
#    needs (readelf -d) include the OCR engine (Tesseract, Leptonica) or the
#    OCR stage; the core links none of the stages' vendors at all.
#
# Arguments (-D): SOURCE_DIR, CC, READELF, CORE_BIN, ARCHIVE_BIN, INDEX_BIN,
# and CORE_LINKS, ARCHIVE_LINKS, INDEX_LINKS (comma-separated targets).
cmake_minimum_required(VERSION 3.18)

set(vendor_types "Pix|PIX|Pixa|Boxa|TessBaseAPI|TessResultIterator|TessPageIterator"
  "|sqlite3|sqlite3_stmt|sqlite3_context|Fts5Tokenizer|fts5_api"
  "|PopplerDocument|PopplerPage|MHD_Connection|MHD_Daemon|MHD_Response|VipsImage"
  "|TIFF|json_t|xmlTextWriterPtr|xmlDocPtr|cairo_t|cairo_surface_t|qpdf_data"
  "|png_structp|png_infop|jpeg_compress_struct|jpeg_decompress_struct|cmsHPROFILE"
  "|utf8proc_int32_t|utf8proc_uint8_t|EVP_MD_CTX")
string(CONCAT vendor_types ${vendor_types})
set(failures "")

file(GLOB_RECURSE headers RELATIVE ${SOURCE_DIR}
  ${SOURCE_DIR}/include/*.h ${SOURCE_DIR}/core/*.h ${SOURCE_DIR}/ingest/*.h
  ${SOURCE_DIR}/ocr/*.h ${SOURCE_DIR}/archive/*.h ${SOURCE_DIR}/index/*.h
  ${SOURCE_DIR}/web/*.h ${SOURCE_DIR}/pipeline/*.h)
list(LENGTH headers nheaders)
if(nheaders LESS 20)
  string(APPEND failures "found only ${nheaders} headers under ${SOURCE_DIR}\n")
endif()
foreach(h ${headers})
  if(h MATCHES "_internal\\.h$")
    continue()
  endif()
  execute_process(COMMAND ${CC} -fpreprocessed -dD -E -P ${SOURCE_DIR}/${h}
    OUTPUT_VARIABLE code RESULT_VARIABLE rc ERROR_VARIABLE msg)
  if(NOT rc EQUAL 0)
    string(APPEND failures "cannot read '${h}': ${msg}\n")
    continue()
  endif()
  # a vendor header included, or a vendor type named, in code
  if(code MATCHES "#include <(tesseract|leptonica|sqlite3|poppler|microhttpd|vips|tiffio|jansson|libxml|cairo|qpdf|png|jpeglib|lcms2|utf8proc|openssl)[^>]*>")
    string(APPEND failures "public header '${h}' includes <${CMAKE_MATCH_1}...>\n")
  endif()
  string(REGEX MATCH "(^|[^A-Za-z0-9_])(${vendor_types})([^A-Za-z0-9_]|$)" hit "${code}")
  if(hit)
    string(APPEND failures "public header '${h}' names the vendor type ${CMAKE_MATCH_2}\n")
  endif()
endforeach()

file(GLOB_RECURSE sources RELATIVE ${SOURCE_DIR}
  ${SOURCE_DIR}/include/*.[ch] ${SOURCE_DIR}/core/*.[ch] ${SOURCE_DIR}/ingest/*.[ch]
  ${SOURCE_DIR}/ocr/*.[ch] ${SOURCE_DIR}/archive/*.[ch] ${SOURCE_DIR}/index/*.[ch]
  ${SOURCE_DIR}/web/*.[ch] ${SOURCE_DIR}/pipeline/*.[ch])
foreach(f ${sources})
  file(STRINGS ${SOURCE_DIR}/${f} incs REGEX "^#include \"[a-z]+/[a-z0-9_]+_internal\\.h\"")
  get_filename_component(fdir ${f} DIRECTORY)
  foreach(inc ${incs})
    string(REGEX MATCH "\"([a-z]+)/" _ "${inc}")
    if(NOT CMAKE_MATCH_1 STREQUAL fdir)
      string(APPEND failures "'${f}' includes another stage's internal header: ${inc}\n")
    endif()
  endforeach()
endforeach()

function(check_needed bin forbidden)
  execute_process(COMMAND ${READELF} -d ${bin} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT dyn MATCHES "NEEDED")
    string(APPEND failures "cannot read the dynamic section of '${bin}'\n")
  endif()
  string(REGEX MATCHALL "Shared library: \\[[^]]+\\]" needed "${dyn}")
  foreach(lib ${needed})
    if(lib MATCHES "${forbidden}")
      string(APPEND failures "'${bin}' links ${lib}\n")
    endif()
  endforeach()
  set(failures "${failures}" PARENT_SCOPE)
endfunction()
function(check_links what links forbidden)
  if(NOT links)
    string(APPEND failures "no link list given for ${what}\n")
  endif()
  string(REPLACE "," ";" links "${links}")
  foreach(l ${links})
    if(l MATCHES "${forbidden}")
      string(APPEND failures "${what} links ${l}\n")
    endif()
  endforeach()
  set(failures "${failures}" PARENT_SCOPE)
endfunction()
set(engine "^(bunko_ocr|bunko_ingest|bunko_pipeline|bunko_web|PkgConfig::(TESSERACT|LEPT))$|lib(tesseract|lept)[.]")
check_links(bunko_core "${CORE_LINKS}"
  "^(bunko_.*|PkgConfig::(TESSERACT|LEPT|SQLITE|POPPLER|TIFF|PNG|JPEG|MHD|CAIRO|QPDF|LIBXML2|LCMS2|CRYPTO|SODIUM))$|lib(tesseract|lept|sqlite3|poppler|tiff|png|jpeg|microhttpd|cairo|qpdf|xml2|lcms2|crypto|sodium)[.]")
check_links(bunko_archive "${ARCHIVE_LINKS}" "${engine}")
check_links(bunko_index "${INDEX_LINKS}" "${engine}")

check_needed(${CORE_BIN}
  "lib(tesseract|lept|sqlite3|poppler|tiff|png|jpeg|microhttpd|cairo|qpdf|xml2|lcms2|crypto)")
check_needed(${ARCHIVE_BIN} "lib(tesseract|lept)")
check_needed(${INDEX_BIN} "lib(tesseract|lept)")

if(failures)
  message(FATAL_ERROR "layout rules broken:\n${failures}")
endif()
message(STATUS "layout: ${nheaders} headers checked; bunko_core links ${CORE_LINKS}, "
  "bunko_archive ${ARCHIVE_LINKS}, bunko_index ${INDEX_LINKS}")
