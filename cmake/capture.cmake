# cmake -DEXE=program -DARG=option -DOUT=file -P capture.cmake
# Writes the standard output of `EXE ARG` to OUT (the man page and the completion are
# printed by plandag itself, from the same tables as --help).
execute_process(COMMAND "${EXE}" "${ARG}" OUTPUT_FILE "${OUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "${EXE} ${ARG} failed: ${rc}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
