"""AWS adapters: DynamoDB repositories, SNS publisher, SQS queue, Step Functions starter, WebSocket pusher.

boto3 is imported lazily (in `clients`), so importing this package costs nothing until an AWS call is made.
"""
