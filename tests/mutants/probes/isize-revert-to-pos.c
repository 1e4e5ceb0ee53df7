/* Live when a direct write past EOF that transfers nothing grows the file. */
#include "short_write.h"
int main(int argc, char **argv) { probe_init(argc, argv); empty_write_past_eof(); short_append(); return 0; }
