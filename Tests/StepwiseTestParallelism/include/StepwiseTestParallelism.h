// This target has no interface: its object file caps the test binary's parallelism before main
// (TestParallelism.c).
