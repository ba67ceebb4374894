"""AWS drivers over boto3: RDS, Route 53, Secrets Manager, S3 (one concept per module)."""
