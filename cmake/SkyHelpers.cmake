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
# and installs it into lib/skyengine/plugins. A plugin sees the public
# headers (include/) and the helper kit (kit/, linked in); it never links
# libskyengine nor includes its private headers. sky_check_layers() below
# fails the configure step when one does.
function(sky_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${SKY_PLUGIN_BUILD_DIR})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${name} PRIVATE ${P_LIBS} skyengine_kit)
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  install(TARGETS ${name} LIBRARY DESTINATION ${SKY_PLUGIN_INSTALL_DIR})
  set_property(GLOBAL APPEND PROPERTY SKY_PLUGIN_TARGETS ${name})
endfunction()

# sky_add_tool(<name>): marks an executable under tools/ as a host program
# that builds on the public library alone (checked by sky_check_layers).
function(sky_add_tool name)
  set_property(GLOBAL APPEND PROPERTY SKY_TOOL_TARGETS ${name})
endfunction()

# The libraries' internal targets: what neither a plugin nor a tool may
# link, directly or through another library.
set(SKY_INTERNAL_TARGETS skyengine_obj skyengine_internal skyengine_static)

# Every target `target` links, directly or through other targets (names
# only; generator expressions and plain library names are skipped).
function(sky_linked_targets target out)
  set(seen)
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo t)
    if(NOT TARGET ${t} OR t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(type ${t} TYPE)
    set(libs)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(l ${t} LINK_LIBRARIES)
      if(l)
        list(APPEND libs ${l})
      endif()
    endif()
    get_target_property(l ${t} INTERFACE_LINK_LIBRARIES)
    if(l)
      list(APPEND libs ${l})
    endif()
    foreach(lib ${libs})
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
      if(TARGET ${lib})
        list(APPEND todo ${lib})
      endif()
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen ${target})
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Fail unless `target` stays outside the library's internals: it links
# none of SKY_INTERNAL_TARGETS (plus `forbidden`), compiles no source of
# libskyengine/ and has no include directory in it.
function(sky_check_outside target what forbidden)
  sky_linked_targets(${target} linked)
  foreach(t ${SKY_INTERNAL_TARGETS} ${forbidden})
    if(t IN_LIST linked)
      if(what STREQUAL "plugin")
        set(allowed "the public headers (include/) and the kit")
      else()
        set(allowed "the public headers, the shared library and the kit")
      endif()
      message(FATAL_ERROR "${what} ${target} links ${t}; ${what}s may use "
        "only ${allowed}")
    endif()
  endforeach()
  get_target_property(dirs ${target} INCLUDE_DIRECTORIES)
  get_target_property(srcs ${target} SOURCES)
  foreach(t ${linked})
    get_target_property(d ${t} INTERFACE_INCLUDE_DIRECTORIES)
    if(d)
      list(APPEND dirs ${d})
    endif()
    # A static helper library built into the target (llm-common) is held
    # to the same rule as the target itself.
    get_target_property(type ${t} TYPE)
    get_target_property(imported ${t} IMPORTED)
    if(NOT imported AND type MATCHES "^(STATIC|OBJECT)_LIBRARY$")
      foreach(prop INCLUDE_DIRECTORIES SOURCES)
        get_target_property(v ${t} ${prop})
        if(v)
          list(APPEND dirs ${v})
        endif()
      endforeach()
    endif()
  endforeach()
  foreach(item ${dirs} ${srcs})
    if(item MATCHES "^${PROJECT_SOURCE_DIR}/libskyengine(/|$)")
      message(FATAL_ERROR "${what} ${target} uses ${item}; ${what}s may "
        "not see libskyengine's private sources or headers")
    endif()
  endforeach()
endfunction()

# Run at the end of the top-level configure (cmake_language(DEFER) in
# CMakeLists.txt): plugins see only include/ and the kit; tools link the
# public shared library and the kit, never the internal targets.
function(sky_check_layers)
  get_property(plugins GLOBAL PROPERTY SKY_PLUGIN_TARGETS)
  foreach(p ${plugins})
    sky_check_outside(${p} plugin "skyengine")
  endforeach()
  get_property(tools GLOBAL PROPERTY SKY_TOOL_TARGETS)
  foreach(t ${tools})
    sky_check_outside(${t} tool "")
    sky_linked_targets(${t} linked)
    if(NOT "skyengine" IN_LIST linked)
      message(FATAL_ERROR "tool ${t} does not link the shared library "
        "(skyengine)")
    endif()
  endforeach()
endfunction()
