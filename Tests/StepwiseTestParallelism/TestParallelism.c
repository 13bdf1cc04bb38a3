#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// Swift Testing starts every test at once by default. Hundreds of tests that each start a server,
// on two cores, kept requests from going out for over a minute at the start of a run, and tests
// that wait for a deadline of a few seconds failed. Before main, and unless the variable is set
// already, the test binary caps how many tests run at once: twelve a core.
__attribute__((constructor)) static void stepwise_cap_test_parallelism(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char width[24];
    snprintf(width, sizeof width, "%ld", (cores > 0 ? cores : 1) * 12);
    setenv("SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH", width, 0);
}
