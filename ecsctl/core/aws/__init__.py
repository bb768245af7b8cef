"""Pure helpers of the AWS backend: API shapes, live drift, stall classification (no boto3)."""
