"""The staging environment: AWS (RDS, Route 53, Secrets Manager, S3), Kubernetes, a real
toxiproxy and any PostgreSQL, from ``[environments.<name>]`` (docs/configuration.md)."""
