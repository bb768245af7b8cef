"""ecsctl: validate, plan and apply Amazon-ECS-style infrastructure.

Nothing heavy is imported here: ``ecsctl --version`` must stay as cheap as
starting Python and importing PyYAML.
"""

__version__ = "0.1.0"
