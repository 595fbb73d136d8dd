/// Namespace for the billing tracker, price plans and exports (filled in by the billing issue).
public enum Billing {}
