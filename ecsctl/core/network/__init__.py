"""VPC networking facts the rules and the simulation share (security groups)."""
