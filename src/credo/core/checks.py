"""System checks reported by ``credo check`` (and at start-up)."""
