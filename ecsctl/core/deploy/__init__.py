"""Rolling deployments: the min/max percent arithmetic, and later the stepper."""
