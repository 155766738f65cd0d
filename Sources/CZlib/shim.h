// zlib (Debian: zlib1g-dev), for reading gzip-compressed trace files.
#include <zlib.h>
