FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY services ./services
COPY infra ./infra
COPY bench ./bench
RUN pip install --no-cache-dir .
ENTRYPOINT ["mastery"]
