import StepwiseEngine

extension TimerFiring {
    /// Fires timers as a node whose runner remembers no run does: each leased delivery reads its
    /// run's whole journal.
    public static let wholeJournals = TimerFiring { _ in 0 }
}
