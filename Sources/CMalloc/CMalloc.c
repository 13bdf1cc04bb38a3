// The module's functions are inline in include/CMalloc.h; SwiftPM needs one source file.
#include "CMalloc.h"
