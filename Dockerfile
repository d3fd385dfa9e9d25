# yhdyspinta: slim, non-root, a venv built in a builder stage; config/ and bodies/ mountable.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY scheduler ./scheduler
# The delivery backends and PostgreSQL by default; `--build-arg EXTRAS=` for a Maildir/SMTP
# image on SQLite without the Exchange libraries.
ARG EXTRAS=graph,ews,postgresql
RUN /opt/venv/bin/pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /app --uid 10001 yhdyspinta
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=yhdyspinta bodies ./bodies
COPY --chown=yhdyspinta calendars ./calendars
COPY --chown=yhdyspinta config ./config
COPY --chown=yhdyspinta templates ./templates
RUN mkdir -p /app/var && chown yhdyspinta /app/var
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER yhdyspinta
# Operators mount their own catalogue and configuration read-only over these.
VOLUME ["/app/var"]
EXPOSE 8480
# The service listens on all of the container's interfaces (the port is published or not
# by whoever runs it); /healthz is its liveness probe.
ENV YHDYSPINTA_SERVICE_HOST=0.0.0.0
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8480/healthz', timeout=4)"
# SIGTERM (docker stop) drains the calls under way; give it the 30 s it may take.
STOPSIGNAL SIGTERM
ENTRYPOINT ["yhdyspinta"]
CMD ["serve"]
