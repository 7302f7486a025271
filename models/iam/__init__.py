"""IAM semantics: the AWS action catalog, policy parsing and effective-permission resolution."""
