/// Small workflows several suites run.
enum SmallWorkflows {
    /// One durable step (a 10 ms sleep), then its output.
    static let napper = """
        workflow: napper
        steps:
          - id: nap
            sleep: 10ms
        output: rested
        """
}
