"""Test and demo helpers of airflow-provider-kafka-connector (the kafka-connector-harness distribution).

- harness.kafka_broker: a real single-node Kafka broker run from Maven Central jars
- harness.airflow_dag_run: runs DAGs through real Airflow (`airflow dags test`) and reads back XComs
- harness.aws_iam: a stand-in for AWS IAM and STS (moto) that the broker's MSK_IAM listener authenticates against
- harness.certificates: a test CA, the broker's server certificate and client certificates
- harness.ports: free loopback ports
- harness.pytest_plugin: the pytest fixtures (registered through the `pytest11` entry point)
"""
