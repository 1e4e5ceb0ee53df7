/* Live when a short direct overwrite maps unwritten blocks or mis-finishes its ordered extent. */
#include "short_write.h"
int main(int argc, char **argv) { probe_init(argc, argv); short_overwrite(0); short_overwrite(1); return 0; }
