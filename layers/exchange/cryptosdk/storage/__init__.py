"""DynamoDB access: the only package that talks to the orders table."""
