// The header compiles as C++ (extern "C", no C-only constructs) and the library links into a
// C++ program.
#include <cstdio>

#include "beamlink.h"

int main() {
    bl_buf text{};
    bl_buf etf{};
    if (bl_term_parse("{cxx, [1, 2]}", &etf) != BL_OK) return 1;
    if (bl_term_print(etf.data, etf.len, BL_PRINT_ERLANG, &text) != BL_OK) return 1;
    std::printf("libbeamlink %s: %s\n", bl_version(), text.data);
    bl_buf_free(&text);
    bl_buf_free(&etf);
    return 0;
}
