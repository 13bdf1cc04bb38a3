// glibc's malloc extensions, which Swift's Glibc module does not expose.
#ifndef CMALLOC_H
#define CMALLOC_H

#include <stdlib.h>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>

/// Returns freed heap memory to the system; 1 when some was released.
static inline int cmalloc_trim(void) { return malloc_trim(0); }
#else
/// Elsewhere there is nothing to trim this way.
static inline int cmalloc_trim(void) { return 0; }
#endif

#endif
