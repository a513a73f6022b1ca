"""What every function's container runs on: settings, the AWS SDK, logging and metrics."""
