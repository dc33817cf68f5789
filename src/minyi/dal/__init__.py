"""Data access: the only package that touches boto3 and pynamodb."""
