extension Duration {
    /// The duration in seconds, with its fraction, for SQL intervals and time arithmetic.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
