"""OpenSearch k-NN adapter (managed OpenSearch Service ``es`` and Serverless ``aoss``), via opensearch-py."""
