// glibc's malloc extensions, which Swift's Glibc module does not expose.
#ifndef CMALLOC_H
#define CMALLOC_H

#include <stdlib.h>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>

/// Returns freed heap memory to the system; 1 when some was released.
static inline int cmalloc_trim(void) { return malloc_trim(0); }

/// Caps the number of malloc arenas (`M_ARENA_MAX`); 1 when accepted. Effective for arenas
/// created afterwards, so call it before threads start.
static inline int cmalloc_limit_arenas(int count) { return mallopt(M_ARENA_MAX, count); }
#else
/// Elsewhere there is nothing to trim this way.
static inline int cmalloc_trim(void) { return 0; }

/// Elsewhere arenas are not glibc's.
static inline int cmalloc_limit_arenas(int count) { (void)count; return 0; }
#endif

#endif
