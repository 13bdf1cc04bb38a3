import NIOCore
import NIOPosix

// Swift concurrency runs on SwiftNIO's event loops, the threads that already do the server's and
// the HTTP client's I/O: a step's request, its answer and the task that goes on with it stay on
// one thread instead of hopping between NIO's loops and the cooperative pool (on 2 cores that cut
// the CPU per step by 10 %, BENCHMARKS.md). It must be installed before any task starts, which is
// why this is top-level code and not `@main`. A task must not wait on its thread for I/O (it would
// stall that loop's connections): SQLite and PostgreSQL transactions run on threads of their own.
NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await StepwiseCommand.start()
