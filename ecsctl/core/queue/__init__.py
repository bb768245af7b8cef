"""The Queue (SQS) kind's model: messages arriving over time and the service tasks that consume them."""
