# simrun_embed(FILE SYMBOL COMMENT): generates a C source defining SYMBOL
# and SYMBOL_size with the contents of FILE (of the calling directory; see
# embed.cmake) and puts its path in SYMBOL_SOURCE, for add_library.
set(SIMRUN_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed.cmake)

function(simrun_embed file symbol comment)
  get_filename_component(base ${file} NAME_WE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${base}_py.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_CURRENT_SOURCE_DIR}/${file} -DOUT=${out}
            -DNAME=${symbol} -P ${SIMRUN_EMBED_SCRIPT}
    DEPENDS ${file} ${SIMRUN_EMBED_SCRIPT}
    COMMENT ${comment})
  set(${symbol}_SOURCE ${out} PARENT_SCOPE)
endfunction()
