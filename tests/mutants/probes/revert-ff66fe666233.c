/* Live when a short size-extending direct write keeps the enlarged i_size. */
#include "short_write.h"
int main(int argc, char **argv) { probe_init(argc, argv); short_append(); empty_write_past_eof(); return 0; }
