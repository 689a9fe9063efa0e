# Build helpers: embedding resource files into C, and declaring plugins.

set(SKY_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/SkyEmbed.cmake)

# sky_embed(<out_c_var> BASE <dir> FILES <f>...)
# Generates one C file holding every file as a NUL-terminated byte array
# plus a lookup table read by sky_resource_get() (util/resource.h). The
# file is regenerated when any input changes.
function(sky_embed out_var)
  cmake_parse_arguments(E "" "BASE;NAME" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}_resources.c)
  set(abs)
  foreach(f ${E_FILES})
    list(APPEND abs ${E_BASE}/${f})
  endforeach()
  string(REPLACE ";" "|" files_arg "${E_FILES}")
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DBASE=${E_BASE} "-DFILES=${files_arg}"
            -DOUT=${out} -DNAME=${E_NAME} -P ${SKY_EMBED_SCRIPT}
    DEPENDS ${abs} ${SKY_EMBED_SCRIPT}
    COMMENT "Embedding ${E_NAME} resources"
    VERBATIM) # the "|" separated file list must not reach a shell unquoted
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()

# sky_add_plugin(<kind-name> SOURCES <src>... [LIBS <lib>...])
# Builds <kind-name>.so (no "lib" prefix) into the build tree's plugin dir
# and installs it into lib/skyengine/plugins. Plugins see only the public
# plugin headers; they never link libskyengine.
function(sky_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${SKY_PLUGIN_BUILD_DIR})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${name} PRIVATE ${P_LIBS})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  install(TARGETS ${name} LIBRARY DESTINATION ${SKY_PLUGIN_INSTALL_DIR})
  set_property(GLOBAL APPEND PROPERTY SKY_PLUGIN_TARGETS ${name})
endfunction()
