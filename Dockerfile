# Airflow image for clob-pipeline: the official Airflow 3.3.2 image plus the bundle's pinned
# requirements (installed at build time, not through _PIP_ADDITIONAL_REQUIREMENTS). Pinning
# apache-airflow in the same pip call keeps pip from changing the image's Airflow.
FROM apache/airflow:3.3.2-python3.11

COPY requirements.txt constraints.txt /opt/clob-pipeline/
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /opt/clob-pipeline/requirements.txt \
        -c /opt/clob-pipeline/constraints.txt
