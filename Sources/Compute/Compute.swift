/// Namespace for the Docker client, server pool, placement and orchestration.
public enum Compute {}
