/* Live when a short direct overwrite loses the block it wrote (seed 001). */
#include "short_write.h"
int main(int argc, char **argv) { probe_init(argc, argv); short_overwrite(0); short_overwrite(1); short_append(); return 0; }
