import StepwiseProtocol

extension WireDuration {
    /// This delay multiplied by `scale` (`--retry-delay-scale`); a product beyond what a delay can
    /// hold (`--retry-delay-scale 1e12`) waits the longest.
    func scaled(by scale: Double) -> Duration {
        .milliseconds(Int64(exactly: (Double(milliseconds) * scale).rounded()) ?? .max)
    }
}
